package storagebench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Report holds every figure of a run; it is what --output=json prints.
type Report struct {
	Machine    Machine           `json:"machine"`
	Config     ReportConfig      `json:"config"`
	DD         *DDReference      `json:"dd,omitempty"`
	Append16   *AppendReport     `json:"append16,omitempty"`
	Append100k *AppendReport     `json:"append100k,omitempty"`
	Million    *MillionReport    `json:"million,omitempty"`
	Read       *ReadReport       `json:"read,omitempty"`
	Recovery   *RecoveryReport   `json:"recovery,omitempty"`
	DiskUse    *DiskUseReport    `json:"diskuse,omitempty"`
	Checks     []Check           `json:"checks"`
	Errors     map[string]string `json:"errors,omitempty"`
	Started    time.Time         `json:"started"`
	Elapsed    time.Duration     `json:"elapsed_ns"`
}

// ReportConfig is the configuration a report was made with.
type ReportConfig struct {
	Workloads         []string      `json:"workloads"`
	Duration          time.Duration `json:"duration_ns"`
	Runs              int           `json:"runs"`
	RecordSize        int           `json:"record_size"`
	BatchSize         int           `json:"batch_size"`
	Writers           int           `json:"writers"`
	Inflight          int           `json:"inflight"`
	Partitions        int           `json:"partitions"`
	ManyPartitions    int           `json:"many_partitions"`
	MillionPartitions int           `json:"million_partitions"`
	ReadBytes         int64         `json:"read_bytes"`
	ReadMaxBytes      int           `json:"read_max_bytes"`
	RecoveryBytes     int64         `json:"recovery_bytes"`
	DiskUseBytes      int64         `json:"diskuse_bytes"`
	SegmentSize       int64         `json:"segment_size"`
	DDMiB             int           `json:"dd_mib"`
}

// DDReference is the machine's sequential write bandwidth, by dd, every
// time it was measured in the run (see Run), in order. MBps, the median of
// the samples, is the reference of the figures that are not runs of an
// append workload; each append run carries its own (AppendRun.DDMBps).
type DDReference struct {
	Samples []DDSample `json:"samples"`
	MBps    float64    `json:"mb_per_s"`
	Method  string     `json:"method"`
}

// DDSample is one dd run and when in the run it was made.
type DDSample struct {
	When string `json:"when"`
	DDResult
}

// Check is one figure against its target.
type Check struct {
	Workload  string  `json:"workload"`
	Figure    string  `json:"figure"`
	Value     float64 `json:"value"`
	Unit      string  `json:"unit"`
	Reference string  `json:"reference,omitempty"`
	RefValue  float64 `json:"reference_value,omitempty"`
	Ratio     float64 `json:"ratio,omitempty"`
	Target    string  `json:"target"`
	Pass      bool    `json:"pass"`
	// Unjudged: the reference was not measured (--skip-dd).
	Unjudged bool `json:"unjudged,omitempty"`
}

const gib = 1 << 30

// addChecks compares the figures with the targets.
func (r *Report) addChecks() {
	dd := 0.0
	if r.DD != nil {
		dd = r.DD.MBps
	}
	ratioCheck := func(workload, figure string, value float64, unit, ref string, refValue, want float64) {
		c := Check{Workload: workload, Figure: figure, Value: value, Unit: unit, Reference: ref, RefValue: refValue,
			Target: fmt.Sprintf(">= %.0f%% of %s", want*100, ref)}
		if refValue > 0 {
			c.Ratio = value / refValue
			c.Pass = c.Ratio >= want
		} else {
			c.Unjudged = true
		}
		r.Checks = append(r.Checks, c)
	}
	if a := r.Append16; a != nil {
		// The ratio judged is the median of the runs' ratios to their own
		// dd, not the ratio of the medians.
		c := Check{Workload: WorkloadAppend16, Figure: "durable MB/s (median; ratio: median of per-run ratios)", Value: a.Median.MBps,
			Unit: "MB/s", Reference: "dd (median)", RefValue: a.Median.DDMBps, Ratio: a.Median.DDRatio, Target: ">= 70% of dd"}
		c.Pass = c.Ratio >= 0.70
		c.Unjudged = c.Ratio == 0
		r.Checks = append(r.Checks, c)
	}
	if a := r.Append100k; a != nil {
		ref := 0.0
		if r.Append16 != nil {
			ref = r.Append16.Median.MBps
		}
		ratioCheck(WorkloadAppend100k, "durable MB/s (median; ratio of medians)", a.Median.MBps, "MB/s", "append16", ref, 0.60)
	}
	if m := r.Million; m != nil {
		rss := func(figure string, v int64) {
			r.Checks = append(r.Checks, Check{Workload: WorkloadMillion, Figure: figure, Value: float64(v) / gib, Unit: "GiB",
				Target: "<= 1.5 GiB", Pass: v > 0 && v <= 3*gib/2})
		}
		rss("RSS holding the engine open", m.Fill.Memory.RSS)
		rss("RSS after reopening (after SIGKILL)", m.AfterKill.Memory.RSS)
		r.Checks = append(r.Checks,
			Check{Workload: WorkloadMillion, Figure: "reopen after clean shutdown", Value: m.AfterClose.OpenTime.Seconds(), Unit: "s",
				Target: "<= 10 s", Pass: m.AfterClose.OpenTime > 0 && m.AfterClose.OpenTime <= 10*time.Second},
			Check{Workload: WorkloadMillion, Figure: "reopen after SIGKILL", Value: m.AfterKill.OpenTime.Seconds(), Unit: "s",
				Target: "<= 30 s", Pass: m.AfterKill.OpenTime > 0 && m.AfterKill.OpenTime <= 30*time.Second})
	}
	if rd := r.Read; rd != nil {
		r.Checks = append(r.Checks, Check{Workload: WorkloadRead, Figure: "sequential read GB/s (median)", Value: rd.Median.GBps,
			Unit: "GB/s", Reference: "dd", RefValue: dd / 1000, Ratio: ratioOf(rd.Median.GBps, dd/1000),
			Target: ">= 1.5 GB/s", Pass: rd.Median.GBps >= 1.5})
	}
	if rc := r.Recovery; rc != nil {
		r.Checks = append(r.Checks, Check{Workload: WorkloadRecovery, Figure: "reopen after SIGKILL", Value: rc.AfterKill.OpenTime.Seconds(),
			Unit: "s", Target: "none given (reported)", Pass: rc.AfterKill.OpenTime > 0})
	}
	if d := r.DiskUse; d != nil {
		r.Checks = append(r.Checks, Check{Workload: WorkloadDiskUse, Figure: "DiskUsage", Value: float64(d.DiskUsage) / (1 << 20), Unit: "MiB",
			Reference: "1.5 x live + 1 segment", RefValue: float64(d.Bound) / (1 << 20), Ratio: ratioOf(float64(d.DiskUsage), float64(d.Bound)),
			Target: "<= 1.5 x live + 1 segment", Pass: d.DiskUsage <= d.Bound})
	}
}

func ratioOf(v, ref float64) float64 {
	if ref <= 0 {
		return 0
	}
	return v / ref
}

// WriteJSON writes the report as one indented JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report as a table per workload.
func (r *Report) WriteText(w io.Writer) error {
	m := r.Machine
	fmt.Fprintf(w, "machine: %d CPUs (%s), %.1f GiB memory, kernel %s, %s\n", m.CPUs, m.CPUModel, float64(m.MemTotal)/gib, m.Kernel, m.GoVersion)
	fmt.Fprintf(w, "data: %s on %s (%s, %s), %.1f GiB free at start\n", m.Dir, m.Device, m.FileSystem, m.MountOpts, float64(m.DiskFree)/gib)
	c := r.Config
	fmt.Fprintf(w, "config: %d B records in %d B batches, %d writers, %d in flight each, %v a run, %d runs (medians reported)\n\n",
		c.RecordSize, c.BatchSize, c.Writers, c.Inflight, c.Duration, c.Runs)
	dd := 0.0
	if d := r.DD; d != nil {
		dd = d.MBps
		t := newTable(w, "dd reference (sequential write bandwidth; "+d.Method+")", "#", "when", "MB/s", "dd's line")
		for i, s := range d.Samples {
			t.row(fmt.Sprintf("%d", i+1), s.When, f1(s.MBps), s.Output)
		}
		t.row("", "median", f1(d.MBps), "")
		t.flush()
	}
	if a := r.Append16; a != nil {
		writeAppend(w, WorkloadAppend16, a)
		fmt.Fprintf(w, "  median of the per-run ratios to dd: %s (target >= 0.70: %s)\n\n", ratioText(a.Median.DDRatio), judge(a.Median.DDRatio, 0.70))
	}
	if a := r.Append100k; a != nil {
		writeAppend(w, WorkloadAppend100k, a)
		if r.Append16 != nil {
			fmt.Fprintf(w, "  median append100k / median append16: %.1f / %.1f = %s (target >= 0.60: %s); median of the per-run ratios to append16: %s\n",
				a.Median.MBps, r.Append16.Median.MBps, ratioText(a.VsAppend16), judge(a.VsAppend16, 0.60), ratioText(a.Median.Append16Ratio))
		}
		fmt.Fprintf(w, "  median of the per-run ratios to dd: %s\n\n", ratioText(a.Median.DDRatio))
	}
	if mr := r.Million; mr != nil {
		t := newTable(w, fmt.Sprintf("million: %d partitions (%d topics of %d), one %d B batch each", mr.Partitions, mr.Topics, mr.TopicPartitions, mr.BatchBytes),
			"figure", "value", "target", "result")
		t.row("create topics", dur(mr.Fill.CreateTime), "", "")
		t.row("append one batch to each (durable)", fmt.Sprintf("%s (%.0f appends/s, %d fsyncs)", dur(mr.Fill.Append.Elapsed), mr.Fill.Append.AppendsPerSec, mr.Fill.Append.Fsyncs), "", "")
		t.row("RSS holding the engine open", gibs(mr.Fill.Memory.RSS), "<= 1.5 GiB", passFail(mr.Fill.Memory.RSS <= 3*gib/2))
		t.row("  Go heap in use / RSS after FreeOSMemory / peak", fmt.Sprintf("%s / %s / %s", gibs(mr.Fill.Memory.HeapInuse), gibs(mr.Fill.Memory.RSSAfterFree), gibs(mr.Fill.Memory.PeakRSS)), "", "")
		t.row("reopen after SIGKILL", dur(mr.AfterKill.OpenTime)+replayed(mr.AfterKill.Opened), "<= 30 s", passFail(mr.AfterKill.OpenTime <= 30*time.Second))
		t.row("  RSS after that reopen (peak)", fmt.Sprintf("%s (%s)", gibs(mr.AfterKill.Memory.RSS), gibs(mr.AfterKill.Memory.PeakRSS)), "<= 1.5 GiB", passFail(mr.AfterKill.Memory.RSS <= 3*gib/2))
		t.row("  batches found / close", fmt.Sprintf("%d / %s", mr.AfterKill.Batches, dur(mr.AfterKill.CloseTime)), "", "")
		t.row("reopen after clean shutdown", dur(mr.AfterClose.OpenTime)+replayed(mr.AfterClose.Opened), "<= 10 s", passFail(mr.AfterClose.OpenTime <= 10*time.Second))
		t.row("  RSS after that reopen (peak)", fmt.Sprintf("%s (%s)", gibs(mr.AfterClose.Memory.RSS), gibs(mr.AfterClose.Memory.PeakRSS)), "", "")
		t.flush()
	}
	if rd := r.Read; rd != nil {
		t := newTable(w, fmt.Sprintf("read: one partition of %.0f MiB (%d batches), Partition.Read of %d KiB, page cache warm", float64(rd.Bytes)/(1<<20), rd.Batches, rd.MaxBytes>>10),
			"figure", "value", "reference", "ratio", "target", "result")
		for i, run := range rd.Runs {
			t.row(fmt.Sprintf("run %d", i+1), fmt.Sprintf("%.2f GB/s (%s, %.1f cores)", run.GBps, dur(run.Elapsed), run.CPU), "", "", "", "")
		}
		t.row("median", fmt.Sprintf("%.2f GB/s", rd.Median.GBps), fmt.Sprintf("dd %.2f GB/s", dd/1000), ratio(rd.Median.GBps, dd/1000), ">= 1.5 GB/s", passFail(rd.Median.GBps >= 1.5))
		t.row("first (warming) read", fmt.Sprintf("%.2f GB/s", rd.WarmRead.GBps), "", "", "", "")
		t.row("writing it (durable)", fmt.Sprintf("%.1f MB/s", rd.WriteMBps), "dd "+f1(dd), ratio(rd.WriteMBps, dd), "", "")
		t.flush()
	}
	if rc := r.Recovery; rc != nil {
		t := newTable(w, fmt.Sprintf("recovery: %.2f GiB in %d batches over %d partitions, killed with SIGKILL", float64(rc.Bytes)/gib, rc.Batches, rc.Partitions),
			"figure", "value", "reference", "ratio", "target")
		t.row("writing it (durable)", fmt.Sprintf("%.1f MB/s (%s, p99 %s)", rc.Fill.Append.MBps, dur(rc.Fill.Append.Elapsed), dur(rc.Fill.Append.LatencyP99)), "dd "+f1(dd), ratio(rc.Fill.Append.MBps, dd), "")
		t.row("log on disk at the kill", gibs(rc.Fill.LogBytes), "", "", "")
		t.row("reopen after SIGKILL", dur(rc.AfterKill.OpenTime)+replayed(rc.AfterKill.Opened), "", "", "none given")
		t.row("  RSS after reopening", gibs(rc.AfterKill.Memory.RSS), "", "", "")
		t.row("  batches found", fmt.Sprintf("%d of %d", rc.AfterKill.Batches, rc.Batches), "", "", "")
		t.row("reopen after clean shutdown", dur(rc.AfterClose.OpenTime)+replayed(rc.AfterClose.Opened), "", "", "")
		t.flush()
	}
	if d := r.DiskUse; d != nil {
		t := newTable(w, fmt.Sprintf("diskuse: %.0f MiB written in %d rounds; retention.bytes, compaction with tombstones, DeleteRecords", float64(d.Written)/(1<<20), diskUseRounds),
			"figure", "value", "reference", "ratio", "target", "result")
		t.row("DiskUsage before the final cleaner passes", mibs(d.DiskBefore), "", "", "", "")
		t.row("DiskUsage", mibs(d.DiskUsage), "live "+mibs(d.LiveBytes), ratio(float64(d.DiskUsage), float64(d.LiveBytes)), "", "")
		t.row("DiskUsage vs bound", mibs(d.DiskUsage), "1.5 x live + segment = "+mibs(d.Bound), ratio(float64(d.DiskUsage), float64(d.Bound)), "<= 1", passFail(d.DiskUsage <= d.Bound))
		t.row("DiskUsage vs what consumers read", mibs(d.DiskUsage), "consumer "+mibs(d.ConsumerBytes), ratio(float64(d.DiskUsage), float64(d.ConsumerBytes)), "", "")
		t.row("  consumer bytes by topic", fmt.Sprintf("retained %s, compacted %s, trimmed %s", mibs(d.TopicBytes["retained"]), mibs(d.TopicBytes["compacted"]), mibs(d.TopicBytes["trimmed"])), "", "", "", "")
		var ct []string
		for _, c := range d.CleanerTimes {
			ct = append(ct, dur(c))
		}
		t.row("  cleaner passes", strings.Join(ct, " "), "", "", "", "")
		t.flush()
	}
	if len(r.Checks) > 0 {
		t := newTable(w, "summary", "workload", "figure", "value", "reference", "ratio", "target", "result")
		for _, c := range r.Checks {
			ref, rat := "", ""
			if c.Reference != "" {
				ref = fmt.Sprintf("%s %.2f", c.Reference, c.RefValue)
			}
			if c.Ratio > 0 {
				rat = fmt.Sprintf("%.2f", c.Ratio)
			}
			result := passFail(c.Pass)
			if strings.HasPrefix(c.Target, "none") || c.Unjudged {
				result = "-"
			}
			t.row(c.Workload, c.Figure, fmt.Sprintf("%.2f %s", c.Value, c.Unit), ref, rat, c.Target, result)
		}
		t.flush()
	}
	for name, err := range r.Errors {
		fmt.Fprintf(w, "ERROR in %s: %s\n", name, err)
	}
	return nil
}

func writeAppend(w io.Writer, name string, a *AppendReport) {
	header := []string{"run", "MB/s", "appends/s", "fsyncs/s", "p50", "p99", "p99.9", "max", "cpu cores", "dd before", "dd after", "dd mean", "ratio to dd"}
	vs16 := name == WorkloadAppend100k
	if vs16 {
		header = append(header, "ratio to append16 run")
	}
	t := newTable(w, fmt.Sprintf("%s: %d partitions, %d B batches of %d records, %d writers x %d in flight, %s, topic created in %s",
		name, a.Partitions, a.BatchBytes, a.RecordsPerBatch, a.Writers, a.Inflight, a.Durability, dur(a.CreateTopic)), header...)
	row := func(label string, r AppendRun) {
		cells := []string{label, f1(r.MBps), fmt.Sprintf("%.0f", r.AppendsPerSec), fmt.Sprintf("%.0f", r.FsyncsPerSec),
			dur(r.LatencyP50), dur(r.LatencyP99), dur(r.LatencyP999), dur(r.LatencyMax), fmt.Sprintf("%.2f", r.CPU),
			mbpsText(r.DDBeforeMBps), mbpsText(r.DDAfterMBps), mbpsText(r.DDMBps), ratioText(r.DDRatio)}
		if vs16 {
			cells = append(cells, ratioText(r.Append16Ratio))
		}
		t.row(cells...)
	}
	for i, r := range a.Runs {
		row(fmt.Sprintf("%d", i+1), r)
	}
	row("median", a.Median)
	t.flush()
}

func mbpsText(v float64) string {
	if v <= 0 {
		return "-"
	}
	return f1(v)
}

func ratioText(v float64) string {
	if v <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

// judge is PASS or FAIL for a ratio against its target, "-" when the ratio
// was not measured.
func judge(ratio, want float64) string {
	if ratio <= 0 {
		return "-"
	}
	return passFail(ratio >= want)
}

type table struct {
	out *tabwriter.Writer
	w   io.Writer
}

func newTable(w io.Writer, title string, header ...string) *table {
	fmt.Fprintln(w, title)
	t := &table{out: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0), w: w}
	t.row(header...)
	return t
}

func (t *table) row(cells ...string) { fmt.Fprintln(t.out, "  "+strings.Join(cells, "\t")) }

func (t *table) flush() {
	t.out.Flush()
	fmt.Fprintln(t.w)
}

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }

func ratio(v, ref float64) string {
	if ref <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", v/ref)
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func gibs(b int64) string { return fmt.Sprintf("%.2f GiB", float64(b)/gib) }
func mibs(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func dur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/1e6)
	}
	return fmt.Sprintf("%dµs", d.Microseconds())
}

func replayed(o OpenLog) string {
	if !o.Seen {
		return ""
	}
	return fmt.Sprintf(" (replayed %.1f MiB in %d entries)", float64(o.ReplayedBytes)/(1<<20), o.ReplayedEntries)
}
