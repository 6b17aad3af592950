package kafkabench

import (
	"fmt"
	"strconv"
	"strings"
)

// sizeUnits are the suffixes ParseBytes takes, longest first so that
// "GiB" is not read as "B".
var sizeUnits = []struct {
	suffix string
	bytes  int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
	{"B", 1},
}

// ParseBytes parses a byte count: a number with an optional unit, B, KB,
// MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024; K, M,
// G and T alone mean these too). "1GiB", "1.5 GB", "512MiB", "1048576".
func ParseBytes(s string) (int64, error) {
	text := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(text, u.suffix); ok {
			text, mult = strings.TrimSpace(rest), u.bytes
			break
		}
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("byte count %q: want a number and an optional unit (1GiB, 500MB, 1048576)", s)
	}
	return int64(v * float64(mult)), nil
}

// FormatBytes formats n with the largest binary unit that divides it,
// as ParseBytes reads it back: 1073741824 is "1GiB".
func FormatBytes(n int64) string {
	units := []struct {
		suffix string
		bytes  int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}
	for _, u := range units {
		if n >= u.bytes && n%u.bytes == 0 {
			return fmt.Sprintf("%d%s", n/u.bytes, u.suffix)
		}
	}
	return strconv.FormatInt(n, 10)
}
