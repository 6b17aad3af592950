package storagebench

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/weir-io/weir/internal/bench/procstatus"
)

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Memory is a process's memory at one moment.
type Memory struct {
	// RSS is VmRSS after runtime.GC: what the process holds resident.
	RSS int64 `json:"rss_bytes"`
	// PeakRSS is VmHWM, the largest RSS the process had.
	PeakRSS int64 `json:"peak_rss_bytes"`
	// RSSAfterFree is VmRSS after debug.FreeOSMemory returned the free
	// heap to the system.
	RSSAfterFree int64 `json:"rss_after_free_bytes"`
	// HeapInuse is the Go heap in use after the GC.
	HeapInuse int64 `json:"heap_inuse_bytes"`
}

// measureMemory runs a GC and reads the process's memory.
func measureMemory() Memory {
	runtime.GC()
	var m Memory
	m.RSS, m.PeakRSS = procStatus("VmRSS"), procStatus("VmHWM")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.HeapInuse = int64(ms.HeapInuse)
	debug.FreeOSMemory()
	m.RSSAfterFree = procStatus("VmRSS")
	return m
}

// procStatus reads a "kB" field of /proc/self/status, in bytes; -1 if it
// cannot.
func procStatus(field string) int64 {
	v, err := procstatus.Bytes(procstatus.Self, field)
	if err != nil {
		return -1
	}
	return v
}

// Machine describes where the benchmark ran.
type Machine struct {
	CPUs       int    `json:"cpus"`
	CPUModel   string `json:"cpu_model"`
	MemTotal   int64  `json:"mem_total_bytes"`
	Kernel     string `json:"kernel"`
	GoVersion  string `json:"go_version"`
	Dir        string `json:"dir"`
	Device     string `json:"device"`
	FileSystem string `json:"file_system"`
	MountOpts  string `json:"mount_options"`
	DiskFree   int64  `json:"disk_free_bytes"`
}

func describeMachine(dir string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Dir: dir}
	var uts syscall.Utsname
	if syscall.Uname(&uts) == nil {
		m.Kernel = utsString(uts.Release[:])
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
				m.CPUModel = strings.TrimSpace(value)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				m.MemTotal = kb << 10
			}
		}
	}
	m.Device, m.FileSystem, m.MountOpts = mountOf(dir)
	m.DiskFree, _ = freeBytes(dir)
	return m
}

func utsString(b []int8) string {
	var sb strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		sb.WriteByte(byte(c))
	}
	return sb.String()
}

// mountOf returns the device, type and options of the mount holding dir,
// from /proc/mounts (the longest mount point that is a prefix of dir).
func mountOf(dir string) (device, fsType, options string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", ""
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	b, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return "", "", ""
	}
	best := -1
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 4 {
			continue
		}
		point := fields[1]
		inside := abs == point || point == "/" || strings.HasPrefix(abs, point+"/")
		if inside && len(point) > best {
			best = len(point)
			device, fsType, options = fields[0], fields[2], fields[3]
		}
	}
	return device, fsType, options
}

// freeBytes returns the bytes available to an unprivileged user in dir's
// file system.
func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// requireFree refuses when dir's file system has less than need bytes
// available.
func requireFree(dir string, need int64, what string) error {
	free, err := freeBytes(dir)
	if err != nil {
		return err
	}
	if free < need {
		return fmt.Errorf("%s needs %.1f GiB free in %s, and only %.1f GiB are: use a smaller size or another --dir",
			what, float64(need)/(1<<30), dir, float64(free)/(1<<30))
	}
	return nil
}
