package storagebench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// childEnv carries a child spec to the re-executed test binary.
const childEnv = "WEIR_STORAGEBENCH_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		if err := RunChild(context.Background(), spec, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// tinyConfig runs every workload at sizes that take a few seconds in all.
func tinyConfig(t *testing.T) Config {
	cfg := DefaultConfig()
	cfg.Dir = t.TempDir()
	cfg.Duration = 200 * time.Millisecond
	cfg.Runs = 1
	cfg.RecordSize = 256
	cfg.BatchSize = 4096
	cfg.Writers = 4
	cfg.Inflight = 8
	cfg.Partitions = 4
	cfg.ManyPartitions = 500
	cfg.MillionPartitions = 2000
	cfg.ReadBytes = 4 << 20
	cfg.ReadMaxBytes = 64 << 10
	cfg.RecoveryBytes = 4 << 20
	cfg.DiskUseBytes = 8 << 20
	cfg.SegmentSize = 1 << 20
	cfg.SkipDD = true
	cfg.Child = func(spec string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+spec)
		return cmd
	}
	return cfg
}

func TestRunEveryWorkload(t *testing.T) {
	cfg := tinyConfig(t)
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.Append16 == nil || rep.Append16.Median.Appends == 0 || rep.Append16.Median.LatencyP99 <= 0 {
		t.Errorf("append16 = %+v, want appends with latencies", rep.Append16)
	}
	if rep.Append16 != nil && rep.Append16.Runs[0].Fsyncs == 0 {
		t.Errorf("append16 counted no fsyncs under the durable policy")
	}
	if rep.Append100k == nil || rep.Append100k.Partitions != cfg.ManyPartitions || rep.Append100k.Median.Appends == 0 {
		t.Errorf("append100k = %+v", rep.Append100k)
	}
	if m := rep.Million; m == nil || m.AfterKill.Batches != int64(cfg.MillionPartitions) || m.AfterClose.Batches != int64(cfg.MillionPartitions) ||
		m.Fill.Memory.RSS <= 0 || !m.AfterKill.Opened.Seen {
		t.Errorf("million = %+v, want every partition's batch found after the kill and the clean shutdown", m)
	}
	if r := rep.Read; r == nil || r.Median.Bytes != r.Bytes || r.Median.GBps <= 0 {
		t.Errorf("read = %+v", r)
	}
	if r := rep.Recovery; r == nil || r.AfterKill.Batches != r.Batches || r.AfterKill.Opened.ReplayedBytes <= 0 {
		t.Errorf("recovery = %+v, want every batch back and bytes replayed", r)
	}
	if d := rep.DiskUse; d == nil || d.DiskUsage <= 0 || d.LiveBytes <= 0 || d.ConsumerBytes <= 0 || d.Written < cfg.DiskUseBytes {
		t.Errorf("diskuse = %+v", d)
	}
	if len(rep.Checks) != 9 {
		t.Errorf("%d checks, want 9: %+v", len(rep.Checks), rep.Checks)
	}

	var text, js bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"append16:", "append100k:", "million:", "read:", "recovery:", "diskuse:", "summary"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatalf("JSON report does not parse: %v", err)
	}
	if _, ok := back["append16"]; !ok {
		t.Errorf("JSON report lacks append16: %s", js.String())
	}
}

// TestAppendSeriesInterleavesDD runs append16 and append100k with a small
// dd between every two runs: each run must be bracketed by the dd just
// before and just after it, and the judged ratios must be the medians of
// the per-run ones.
func TestAppendSeriesInterleavesDD(t *testing.T) {
	if _, err := exec.LookPath("dd"); err != nil {
		t.Skip("no dd")
	}
	cfg := tinyConfig(t)
	cfg.Workloads = []string{WorkloadAppend16, WorkloadAppend100k, WorkloadRead}
	cfg.Runs = 3
	cfg.Duration = 100 * time.Millisecond
	cfg.SkipDD = false
	cfg.DDMiB = 4
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	// dd, a16 1, dd, a100k 1, dd, ..., a100k 3, dd; then read, dd.
	samples := rep.DD.Samples
	if want := 2*cfg.Runs + 2; len(samples) != want {
		t.Fatalf("%d dd samples, want %d: %+v", len(samples), want, samples)
	}
	if samples[0].When != "start" || samples[len(samples)-1].When != "after the workloads" {
		t.Errorf("dd samples run from %q to %q, want start to after the workloads", samples[0].When, samples[len(samples)-1].When)
	}
	for i := range cfg.Runs {
		for j, a := range []*AppendReport{rep.Append16, rep.Append100k} {
			run := a.Runs[i]
			before, after := samples[2*i+j].MBps, samples[2*i+j+1].MBps
			if run.DDBeforeMBps != before || run.DDAfterMBps != after || run.DDMBps != (before+after)/2 {
				t.Errorf("run %d of workload %d: dd %v, %v (mean %v), want %v, %v", i+1, j, run.DDBeforeMBps, run.DDAfterMBps, run.DDMBps, before, after)
			}
			if want := run.MBps / run.DDMBps; run.DDRatio != want {
				t.Errorf("run %d of workload %d: ratio %v, want %v", i+1, j, run.DDRatio, want)
			}
		}
		if want := rep.Append100k.Runs[i].MBps / rep.Append16.Runs[i].MBps; rep.Append100k.Runs[i].Append16Ratio != want {
			t.Errorf("append100k run %d: ratio to append16 %v, want %v", i+1, rep.Append100k.Runs[i].Append16Ratio, want)
		}
	}
	perRun := func(a *AppendReport, f func(AppendRun) float64) float64 {
		var v []float64
		for _, r := range a.Runs {
			v = append(v, f(r))
		}
		return median(v)
	}
	if want := perRun(rep.Append16, func(r AppendRun) float64 { return r.DDRatio }); rep.Append16.Median.DDRatio != want || want <= 0 {
		t.Errorf("append16 median ratio %v, want %v", rep.Append16.Median.DDRatio, want)
	}
	if want := rep.Append100k.Median.MBps / rep.Append16.Median.MBps; rep.Append100k.VsAppend16 != want {
		t.Errorf("append100k vs append16 %v, want %v", rep.Append100k.VsAppend16, want)
	}
	check := rep.Checks[0]
	if check.Workload != WorkloadAppend16 || check.Ratio != rep.Append16.Median.DDRatio || check.Unjudged {
		t.Errorf("append16 check %+v, want the median of the per-run ratios judged", check)
	}
	var ddMBps []float64
	for _, s := range samples {
		ddMBps = append(ddMBps, s.MBps)
	}
	if rep.DD.MBps != median(ddMBps) {
		t.Errorf("dd reference %v, want the median of the samples %v", rep.DD.MBps, median(ddMBps))
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"after append16 run 2/3", "median of the per-run ratios to dd", "median append100k / median append16"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
}

func TestParseWorkloads(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "all", want: strings.Join(Workloads, ",")},
		{in: "read,append16", want: "append16,read"},
		{in: "append100k, append16,append16", want: "append16,append100k"},
		{in: "append17", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseWorkloads(tt.in)
		if tt.wantErr != (err != nil) {
			t.Errorf("ParseWorkloads(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if strings.Join(got, ",") != tt.want {
			t.Errorf("ParseWorkloads(%q) = %v, want %s", tt.in, got, tt.want)
		}
	}
}

func TestRequireFree(t *testing.T) {
	dir := t.TempDir()
	if err := requireFree(dir, 1, "a test"); err != nil {
		t.Errorf("requireFree(1 byte): %v", err)
	}
	if err := requireFree(dir, 1<<62, "a test"); err == nil || !strings.Contains(err.Error(), "a test needs") {
		t.Errorf("requireFree(4 EiB) = %v, want a refusal", err)
	}
}

func TestMedian(t *testing.T) {
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median(3,1,2) = %v", got)
	}
	if got := median([]float64{4, 1, 2, 3}); got != 2.5 {
		t.Errorf("median(4,1,2,3) = %v", got)
	}
	if got := median([]float64(nil)); got != 0 {
		t.Errorf("median() = %v", got)
	}
}

func TestProcStatus(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	if rss := procStatus("VmRSS"); rss <= 0 {
		t.Errorf("VmRSS = %d", rss)
	}
}
