// Package procstatus reads fields of a Linux process's /proc/PID/status,
// which the benchmarks use for memory (VmRSS, VmHWM) and thread counts.
package procstatus

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Self names the calling process to Field and Bytes.
const Self = 0

// Field returns a numeric field of the status of process pid (Self: this
// process), without its unit.
func Field(pid int, field string) (int64, error) {
	path := "/proc/self/status"
	if pid != Self {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		name, rest, ok := strings.Cut(s.Text(), ":")
		if !ok || name != field {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s of %s: %w", field, path, err)
		}
		return v, nil
	}
	if err := s.Err(); err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	return 0, fmt.Errorf("no %s in %s", field, path)
}

// Bytes returns a field counted in kB (VmRSS, VmHWM), in bytes.
func Bytes(pid int, field string) (int64, error) {
	v, err := Field(pid, field)
	return v << 10, err
}
