package broker

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestKcat produces and consumes with kcat (librdkafka), which .ci/run
// installs: keyed records under each codec librdkafka has, consumed back
// from the earliest offset. librdkafka is stricter than franz-go in places
// (it refuses a null records field in a fetch response).
func TestKcat(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat is not installed (.ci/run installs it)")
	}
	b := startBroker(t, Config{})
	addr := b.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var want []string
	for _, codec := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
		var lines []string
		for i := range 20 {
			lines = append(lines, codec+"-key-"+string(rune('a'+i))+":"+codec+" value "+strings.Repeat("x", i))
		}
		produce := exec.CommandContext(ctx, kcat, "-b", addr, "-t", "kcat", "-P", "-K:", "-z", codec, "-X", "acks=all")
		produce.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
		if out, err := produce.CombinedOutput(); err != nil {
			t.Fatalf("kcat produce with %s: %v\n%s", codec, err, out)
		}
		for _, l := range lines {
			want = append(want, strings.Replace(l, ":", "=", 1))
		}
	}
	consume := exec.CommandContext(ctx, kcat, "-b", addr, "-t", "kcat", "-C", "-o", "beginning", "-e", "-q", "-f", "%k=%s\n")
	out, err := consume.Output()
	if err != nil {
		t.Fatalf("kcat consume: %v\n%s", err, out)
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("kcat consumed %d records:\n%s\nwant %d:\n%s", len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
	}
}
