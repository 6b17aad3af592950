package kafkabench

import "testing"

func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"1048576", 1 << 20},
		{"1GiB", 1 << 30},
		{"1 GiB", 1 << 30},
		{"1.5GB", 1_500_000_000},
		{"512MiB", 512 << 20},
		{"500MB", 500_000_000},
		{"2K", 2048},
		{"7B", 7},
	} {
		got, err := ParseBytes(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseBytes(%q) = %d, %v: want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "GiB", "-1", "1XB", "one"} {
		if got, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) = %d: want an error", bad, got)
		}
	}
	for _, n := range []int64{0, 1000, 1 << 20, 3 << 30, 1<<30 + 1} {
		back, err := ParseBytes(FormatBytes(n))
		if err != nil || back != n {
			t.Errorf("FormatBytes(%d) = %q reads back as %d, %v", n, FormatBytes(n), back, err)
		}
	}
}
