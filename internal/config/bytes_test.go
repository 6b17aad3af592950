package config

import "testing"

func TestBytes(t *testing.T) {
	for _, c := range []struct {
		in     string
		want   int64
		format string
	}{
		{"0", 0, "0"},
		{"1048588", 1048588, "1048588"},
		{"1024", 1024, "1KiB"},
		{"512KiB", 512 << 10, "512KiB"},
		{"128MiB", 128 << 20, "128MiB"},
		{" 2 GiB ", 2 << 30, "2GiB"},
		{"1536MiB", 1536 << 20, "1536MiB"},
		{"3TiB", 3 << 40, "3TiB"},
		{"-1", -1, "-1"},
	} {
		got, err := parseBytes(c.in)
		if err != nil || got != c.want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
		if f := formatBytes(got); f != c.format {
			t.Errorf("formatBytes(%d) = %q, want %q", got, f, c.format)
		}
	}
	for _, bad := range []string{"", "MiB", "1.5GiB", "12 apples", "10MB", "9999999TiB", "0x10"} {
		if v, err := parseBytes(bad); err == nil {
			t.Errorf("parseBytes(%q) = %d, want an error", bad, v)
		}
	}
}
