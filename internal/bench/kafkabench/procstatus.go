package kafkabench

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// procStatus returns a "kB" field of /proc/PID/status (VmRSS, VmHWM) in
// bytes.
func procStatus(pid int, field string) (int64, error) {
	v, err := procStatusCount(pid, field)
	return v << 10, err
}

// procStatusCount returns a numeric field of /proc/PID/status, without
// its unit.
func procStatusCount(pid int, field string) (int64, error) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("broker memory: %w", err)
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
