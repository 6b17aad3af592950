package storagebench

import (
	"context"
	"math"
	"os/exec"
	"testing"
)

func TestParseDD(t *testing.T) {
	tests := []struct {
		name    string
		output  string
		bytes   int64
		seconds float64
		printed float64
		wantErr bool
	}{
		{
			name:   "coreutils 8.24 and later",
			output: "2048+0 records in\n2048+0 records out\n2147483648 bytes (2.1 GB, 2.0 GiB) copied, 3.0367 s, 707 MB/s\n",
			bytes:  2147483648, seconds: 3.0367, printed: 707,
		},
		{
			name:   "coreutils before 8.24",
			output: "2048+0 records in\n2048+0 records out\n2147483648 bytes (2.1 GB) copied, 1.5 s, 1.4 GB/s\n",
			bytes:  2147483648, seconds: 1.5, printed: 1400,
		},
		{
			name:   "slow disk in kB/s",
			output: "4194304 bytes (4.2 MB, 4.0 MiB) copied, 10.5 s, 399 kB/s\n",
			bytes:  4194304, seconds: 10.5, printed: 0.399,
		},
		{
			name:   "decimal comma",
			output: "1048576 bytes (1,0 MB, 1,0 MiB) copied, 0,5 s, 2,1 MB/s\n",
			bytes:  1048576, seconds: 0.5, printed: 2.1,
		},
		{name: "no summary", output: "dd: failed to open 'x': Permission denied\n", wantErr: true},
		{name: "zero seconds", output: "1 bytes (1 B) copied, 0 s, 1 B/s\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDD(tt.output)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseDD = %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDD: %v", err)
			}
			if got.Bytes != tt.bytes || got.Seconds != tt.seconds || math.Abs(got.PrintedMBps-tt.printed) > 1e-9 {
				t.Errorf("ParseDD = %d bytes, %v s, printed %v MB/s; want %d, %v, %v", got.Bytes, got.Seconds, got.PrintedMBps, tt.bytes, tt.seconds, tt.printed)
			}
			if want := float64(tt.bytes) / tt.seconds / 1e6; math.Abs(got.MBps-want) > 1e-9 {
				t.Errorf("MBps = %v, want %v", got.MBps, want)
			}
		})
	}
}

func TestRunDD(t *testing.T) {
	if _, err := exec.LookPath("dd"); err != nil {
		t.Skip("no dd")
	}
	r, err := RunDD(context.Background(), t.TempDir(), 4)
	if err != nil {
		t.Fatalf("RunDD: %v", err)
	}
	if r.Bytes != 4<<20 || r.MBps <= 0 {
		t.Errorf("RunDD = %+v, want 4 MiB at a positive rate", r)
	}
}
