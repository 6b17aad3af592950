package kafkabench

import (
	"fmt"

	"github.com/weir-io/weir/internal/bench/procstatus"
)

// procStatus returns a "kB" field of /proc/PID/status (VmRSS, VmHWM) in
// bytes.
func procStatus(pid int, field string) (int64, error) {
	v, err := procstatus.Bytes(pid, field)
	if err != nil {
		return 0, fmt.Errorf("broker memory: %w", err)
	}
	return v, nil
}

// procStatusCount returns a numeric field of /proc/PID/status, without
// its unit.
func procStatusCount(pid int, field string) (int64, error) {
	return procstatus.Field(pid, field)
}
