package config

import (
	"errors"
	"strconv"
	"strings"
)

// byteUnits are the suffixes a byte size may carry, largest first.
var byteUnits = []struct {
	suffix string
	size   int64
}{
	{"TiB", 1 << 40},
	{"GiB", 1 << 30},
	{"MiB", 1 << 20},
	{"KiB", 1 << 10},
}

var errBytes = errors.New("want a whole number of bytes, optionally with a unit: 1048576, 512KiB, 128MiB, 2GiB, 1TiB")

// parseBytes parses a byte size: an integer, optionally followed by KiB,
// MiB, GiB or TiB (powers of 1024).
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	unit := int64(1)
	for _, u := range byteUnits {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, unit = strings.TrimSpace(rest), u.size
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > 0 && n > (1<<63-1)/unit || n < 0 && n < -(1<<63-1)/unit {
		return 0, errBytes
	}
	return n * unit, nil
}

// formatBytes writes n with the largest unit that divides it exactly, so
// that parseBytes reads it back.
func formatBytes(n int64) string {
	if n > 0 {
		for _, u := range byteUnits {
			if n%u.size == 0 {
				return strconv.FormatInt(n/u.size, 10) + u.suffix
			}
		}
	}
	return strconv.FormatInt(n, 10)
}
