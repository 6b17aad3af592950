package storagebench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// DDResult is one run of the dd reference.
type DDResult struct {
	Command string  `json:"command"`
	Output  string  `json:"output"` // dd's summary line
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"`
	// MBps is Bytes/Seconds in 10^6 bytes a second, as dd counts MB; it is
	// the figure dd prints, unrounded. PrintedMBps is the one it prints.
	MBps        float64 `json:"mb_per_s"`
	PrintedMBps float64 `json:"printed_mb_per_s"`
}

// RunDD runs `dd if=/dev/zero of=DIR/dd.tmp bs=1M count=MIB conv=fdatasync`
// and parses its summary; the file is removed afterwards.
func RunDD(ctx context.Context, dir string, mib int) (DDResult, error) {
	target := filepath.Join(dir, "dd.tmp")
	args := []string{"if=/dev/zero", "of=" + target, "bs=1M", "count=" + strconv.Itoa(mib), "conv=fdatasync"}
	cmd := exec.CommandContext(ctx, "dd", args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	os.Remove(target)
	result := DDResult{Command: "dd " + strings.Join(args, " ")}
	if err != nil {
		return result, fmt.Errorf("%s: %w: %s", result.Command, err, strings.TrimSpace(stderr.String()))
	}
	parsed, err := ParseDD(stderr.String())
	if err != nil {
		return result, fmt.Errorf("%s: %w", result.Command, err)
	}
	parsed.Command = result.Command
	return parsed, nil
}

// ddSummary matches GNU dd's last line, in its forms since coreutils 8.24
// and before it:
//
//	2147483648 bytes (2.1 GB, 2.0 GiB) copied, 3.0367 s, 707 MB/s
//	2147483648 bytes (2.1 GB) copied, 3.0367 s, 707 MB/s
var ddSummary = regexp.MustCompile(`(?m)^(\d+) bytes .*copied, ([0-9.,]+) s, ([0-9.,]+) ([kKMGT]?i?B)/s\s*$`)

// ParseDD parses dd's output (its stderr).
func ParseDD(output string) (DDResult, error) {
	m := ddSummary.FindStringSubmatch(output)
	if m == nil {
		return DDResult{}, errors.New("no transfer summary in dd's output")
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return DDResult{}, fmt.Errorf("bytes %q: %w", m[1], err)
	}
	seconds, err := strconv.ParseFloat(strings.ReplaceAll(m[2], ",", "."), 64)
	if err != nil || seconds <= 0 {
		return DDResult{}, fmt.Errorf("seconds %q: not a positive number", m[2])
	}
	rate, err := strconv.ParseFloat(strings.ReplaceAll(m[3], ",", "."), 64)
	if err != nil {
		return DDResult{}, fmt.Errorf("rate %q: %w", m[3], err)
	}
	scale := map[string]float64{
		"B": 1e-6, "kB": 1e-3, "KB": 1e-3, "MB": 1, "GB": 1e3, "TB": 1e6,
		"KiB": 1024.0 / 1e6, "MiB": 1 << 20 / 1e6, "GiB": (1 << 30) / 1e6, "TiB": (1 << 40) / 1e6,
	}[m[4]]
	if scale == 0 {
		return DDResult{}, fmt.Errorf("unknown unit %q", m[4])
	}
	return DDResult{
		Output:      strings.TrimSpace(m[0]),
		Bytes:       n,
		Seconds:     seconds,
		MBps:        float64(n) / seconds / 1e6,
		PrintedMBps: rate * scale,
	}, nil
}
