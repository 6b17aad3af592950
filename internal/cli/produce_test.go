package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weir-io/weir/internal/broker"
)

// TestProduceFile reads a file with --file, shows the progress bar when
// asked with --progress (stderr is not a terminal here) and prints the
// summary as JSON.
func TestProduceFile(t *testing.T) {
	addr := startBroker(t, broker.Config{})
	var input strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&input, "key-%d=value-%d\n", i, i)
	}
	file := filepath.Join(t.TempDir(), "input.txt")
	if err := os.WriteFile(file, []byte(input.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		args         []string
		wantProgress bool
	}{
		{"progress", []string{"--progress"}, true},
		{"no terminal", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topic := "file-" + strings.ReplaceAll(tt.name, " ", "-")
			r := run(t, "", append([]string{"produce", topic, "-b", addr, "--file", file, "-K", "=", "--output", "json"}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("exit code %d: %s", r.code, r.stderr)
			}
			var summary produceSummary
			decodeJSON(t, r.stdout, &summary)
			wantBytes := int64(input.Len() - 5000*2) // no newlines, no separators
			if summary != (produceSummary{topic, 5000, wantBytes}) {
				t.Fatalf("summary %+v, want %d records and %d bytes", summary, 5000, wantBytes)
			}
			size := formatBytes(int64(input.Len()))
			final := fmt.Sprintf("] 100.0%%  %s / %s  ", size, size)
			if got := strings.Contains(r.stderr, final); got != tt.wantProgress {
				t.Fatalf("progress bar shown: %v, want %v; stderr %q", got, tt.wantProgress, r.stderr)
			}
			out := mustRun(t, "", "consume", topic, "-b", addr, "--from", "-1", "--format", `%k %v`)
			if out != "key-4999 value-4999" {
				t.Fatalf("last record %q", out)
			}
		})
	}
}

func TestRenderProgress(t *testing.T) {
	tests := []struct {
		done, total int64
		elapsed     time.Duration
		want        string
	}{
		{0, 1000, 0, "[------------------------------]   0.0%  0 B / 1000 B  -"},
		{512, 1024, time.Second, "[###############---------------]  50.0%  512 B / 1.0 KiB  512 B/s"},
		{3 << 20, 3 << 20, 2 * time.Second, "[##############################] 100.0%  3.0 MiB / 3.0 MiB  1.5 MiB/s"},
		{0, 0, time.Second, "[##############################] 100.0%  0 B / 0 B  0 B/s"},
		{5 << 30, -1, 10 * time.Second, "5.0 GiB  512.0 MiB/s"},
	}
	for _, tt := range tests {
		if got := renderProgress(tt.done, tt.total, tt.elapsed); got != tt.want {
			t.Errorf("renderProgress(%d, %d, %v) = %q, want %q", tt.done, tt.total, tt.elapsed, got, tt.want)
		}
	}
}
