package kafkabench

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// Workload names.
const (
	WorkloadProduce = "produce"
	WorkloadConsume = "consume"
	WorkloadE2E     = "e2e"
)

// Result is the outcome of a workload; it is what --json prints.
type Result struct {
	Workload  string    `json:"workload"`
	Config    Config    `json:"config"`
	Topic     TopicInfo `json:"topic"`
	Generator Generator `json:"generator"`
	Started   time.Time `json:"started"`
	// Elapsed is the whole run, set-up and draining included.
	Elapsed time.Duration `json:"elapsed_ns"`
	// Interrupted: the run was stopped early (Ctrl-C); the figures cover
	// what was done until then.
	Interrupted bool `json:"interrupted,omitempty"`
	// Produce is set by produce and e2e, Consume by consume and e2e.
	Produce *ProduceResult `json:"produce,omitempty"`
	Consume *ConsumeResult `json:"consume,omitempty"`
	// EndToEnd (e2e) is the latency from a record's Produce call to the
	// poll that returned it to a consumer.
	EndToEnd *Latency `json:"end_to_end_latency,omitempty"`
}

// ProduceResult is what the producers did.
type ProduceResult struct {
	Producers int `json:"producers"`
	// Sent records were handed to the clients; Records were
	// acknowledged, Errors failed. Sent = Records + Errors.
	Sent         int64        `json:"sent"`
	Records      int64        `json:"records"`
	Bytes        int64        `json:"bytes"`
	Errors       int64        `json:"errors"`
	ErrorSamples []ErrorCount `json:"error_samples,omitempty"`
	// Elapsed runs from the first send to the last acknowledgement.
	Elapsed       time.Duration `json:"elapsed_ns"`
	RecordsPerSec float64       `json:"records_per_s"`
	MBps          float64       `json:"mb_per_s"`
	// TargetRate is Config.Rate (0: unlimited).
	TargetRate float64 `json:"target_rate"`
	// Latency is from Produce to the acknowledgement.
	Latency Latency `json:"latency"`
}

// ConsumeResult is what the consumers did.
type ConsumeResult struct {
	Consumers int   `json:"consumers"`
	Records   int64 `json:"records"`
	Bytes     int64 `json:"bytes"`
	// Expected is the records between the offsets the consumers began at
	// and the end offsets they were to reach (0 when they had none:
	// Follow, or consume from latest). Missing is how many of those were
	// not read, when the run was to read them all.
	Expected int64 `json:"expected,omitempty"`
	Missing  int64 `json:"missing"`
	// Foreign (e2e) counts records without a stamp of this run: written
	// by someone else, or too short to carry one.
	Foreign      int64        `json:"foreign,omitempty"`
	Errors       int64        `json:"errors"`
	ErrorSamples []ErrorCount `json:"error_samples,omitempty"`
	// StoppedBy says what ended the consumers.
	StoppedBy string `json:"stopped_by"`
	// Elapsed runs from the consumers' start to the last record read.
	Elapsed       time.Duration `json:"elapsed_ns"`
	RecordsPerSec float64       `json:"records_per_s"`
	MBps          float64       `json:"mb_per_s"`
}

// Generator describes the machine and process that generated the load.
type Generator struct {
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go_version"`
	// CPU is the generator's user+system CPU time over the run, in cores:
	// near CPUs means the generator may be the bottleneck.
	CPU float64 `json:"cpu_cores"`
}

// cpuTime returns the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Failed reports whether records were lost or failed: produce errors,
// consume errors or missing records.
func (r *Result) Failed() bool {
	if p := r.Produce; p != nil && p.Errors > 0 {
		return true
	}
	if c := r.Consume; c != nil && (c.Errors > 0 || c.Missing > 0) {
		return true
	}
	return false
}

// WriteJSON writes the result as one indented JSON object.
func (r *Result) WriteJSON(w io.Writer) error { return writeJSON(w, r) }

// writeJSON writes v as one indented JSON object.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WriteText writes the result for people.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	c := r.Config
	created := ""
	if r.Topic.Created {
		created = ", created by this run"
	}
	fmt.Fprintf(&b, "%s: topic %s (%d partitions%s) at %s\n", r.Workload, r.Topic.Name, r.Topic.Partitions, created, strings.Join(c.Brokers, ","))
	if p := r.Produce; p != nil {
		idem := ""
		if c.idempotent() {
			idem = " (idempotent)"
		}
		fmt.Fprintf(&b, "  producers  %d, %d B records, acks=%s%s, compression %s, linger %v, batch max %d B, max in flight %d, rate %s\n",
			p.Producers, c.RecordSize, c.Acks, idem, c.Compression, c.Linger, c.BatchMaxBytes, c.MaxInflight, rateText(c.Rate))
		fmt.Fprintf(&b, "  produced   %d records acknowledged (%s records/s, %.1f MB/s) in %.2f s; %d sent\n",
			p.Records, thousands(p.RecordsPerSec), p.MBps, p.Elapsed.Seconds(), p.Sent)
		writeErrors(&b, "produce", p.Errors, p.ErrorSamples)
		fmt.Fprintf(&b, "  produce latency    %s\n", latencyText(p.Latency))
	}
	if k := r.Consume; k != nil {
		fmt.Fprintf(&b, "  consumers  %d, stopped by %s\n", k.Consumers, k.StoppedBy)
		fmt.Fprintf(&b, "  consumed   %d records, %d bytes (%s records/s, %.1f MB/s) in %.2f s",
			k.Records, k.Bytes, thousands(k.RecordsPerSec), k.MBps, k.Elapsed.Seconds())
		if k.Expected > 0 {
			fmt.Fprintf(&b, "; %d expected, %d missing", k.Expected, k.Missing)
		}
		if k.Foreign > 0 {
			fmt.Fprintf(&b, "; %d foreign", k.Foreign)
		}
		b.WriteString("\n")
		writeErrors(&b, "consume", k.Errors, k.ErrorSamples)
	}
	if e := r.EndToEnd; e != nil {
		fmt.Fprintf(&b, "  end-to-end latency %s\n", latencyText(*e))
	}
	if r.Interrupted {
		b.WriteString("  interrupted: the figures cover the run until then\n")
	}
	fmt.Fprintf(&b, "  generator  %.2f of %d CPUs busy, %s; run took %.2f s\n", r.Generator.CPU, r.Generator.CPUs, r.Generator.GoVersion, r.Elapsed.Seconds())
	_, err := io.WriteString(w, b.String())
	return err
}

func writeErrors(b *strings.Builder, what string, n int64, samples []ErrorCount) {
	fmt.Fprintf(b, "  %s errors %d\n", what, n)
	for _, s := range samples {
		fmt.Fprintf(b, "    %d x %s\n", s.Count, s.Error)
	}
}

func latencyText(l Latency) string {
	if l.Count == 0 {
		return "none recorded"
	}
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (mean %s, %d samples)",
		ms(l.P50), ms(l.P90), ms(l.P99), ms(l.P999), ms(l.Max), ms(l.Mean), l.Count)
}

// ms formats a latency in milliseconds.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f ms", v)
	case v < 100:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.0f ms", v)
}

func rateText(rate float64) string {
	if rate <= 0 {
		return "unlimited"
	}
	return thousands(rate) + " records/s"
}

// thousands formats a number with thousands separators.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// newGenerator describes this process; cpu is its CPU time over elapsed.
func newGenerator(cpu, elapsed time.Duration) Generator {
	c := Generator{CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	if elapsed > 0 {
		c.CPU = cpu.Seconds() / elapsed.Seconds()
	}
	return c
}
