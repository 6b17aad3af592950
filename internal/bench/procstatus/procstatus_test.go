package procstatus

import (
	"os"
	"testing"
)

func TestField(t *testing.T) {
	for _, pid := range []int{Self, os.Getpid()} {
		if rss, err := Bytes(pid, "VmRSS"); err != nil || rss <= 0 {
			t.Errorf("VmRSS of %d: %d, %v", pid, rss, err)
		}
		if threads, err := Field(pid, "Threads"); err != nil || threads < 1 {
			t.Errorf("Threads of %d: %d, %v", pid, threads, err)
		}
	}
	if _, err := Field(Self, "NoSuchField"); err == nil {
		t.Error("a missing field was found")
	}
}
