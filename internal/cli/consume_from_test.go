package cli

import "testing"

func TestParseFromAndResolve(t *testing.T) {
	r := offsetRange{start: 10, end: 20} // offsets 10 to 19 kept
	tests := []struct {
		from   string
		listed int64 // what ListOffsets by time answered
		want   int64
	}{
		{"earliest", -1, 10},
		{"latest", -1, 20},
		{"15", -1, 15},
		{"0", -1, 10},   // before the log start
		{"99", -1, 20},  // past the end
		{"-3", -1, 17},  // the last 3
		{"-50", -1, 10}, // more than there are
		{"@1700000000000", 12, 12},
		{"@1700000000000", -1, 20}, // no record that recent
		{"2024-05-01T12:00:00Z", 18, 18},
		{"@2024-05-01T12:00:00.5+02:00", 11, 11},
	}
	for _, tt := range tests {
		p, err := parseFrom(tt.from)
		if err != nil {
			t.Fatalf("parse %q: %v", tt.from, err)
		}
		if got := p.resolve(r, tt.listed); got != tt.want {
			t.Errorf("%q with listed %d: %d, want %d", tt.from, tt.listed, got, tt.want)
		}
	}

	p, _ := parseFrom("2024-05-01T12:00:00.5+02:00")
	if p.kind != fromTime || p.millis != 1714557600500 {
		t.Errorf("RFC 3339 time: %+v", p)
	}
	for _, bad := range []string{"", "first", "@", "@-5", "1.5", "2024-05-01", "@soon"} {
		if _, err := parseFrom(bad); err == nil {
			t.Errorf("parse %q: no error", bad)
		}
	}
}
