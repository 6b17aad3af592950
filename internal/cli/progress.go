package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// progress draws a progress bar on one line of a terminal (rewritten in
// place with a carriage return): bytes read of the total, and the rate.
// A goroutine redraws it every progressInterval until finish.
type progress struct {
	w     io.Writer
	total int64 // -1 when unknown: no bar, only bytes and rate
	start time.Time
	done  atomic.Int64

	stop       chan struct{}
	stopped    chan struct{}
	finishOnce sync.Once
}

// progressInterval is how often the bar is redrawn.
const progressInterval = 250 * time.Millisecond

// progressWidth is the bar's width in characters.
const progressWidth = 30

func startProgress(w io.Writer, total int64) *progress {
	p := &progress{w: w, total: total, start: time.Now(), stop: make(chan struct{}), stopped: make(chan struct{})}
	go p.loop()
	return p
}

func (p *progress) loop() {
	defer close(p.stopped)
	tick := time.NewTicker(progressInterval)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
			fmt.Fprint(p.w, "\r"+renderProgress(p.done.Load(), p.total, time.Since(p.start)))
		}
	}
}

// add counts n more bytes read.
func (p *progress) add(n int) { p.done.Add(int64(n)) }

// finish stops redrawing and draws the final state on its own line.
func (p *progress) finish() {
	p.finishOnce.Do(func() {
		close(p.stop)
		<-p.stopped
		fmt.Fprint(p.w, "\r"+renderProgress(p.done.Load(), p.total, time.Since(p.start))+"\n")
	})
}

// renderProgress draws the bar for done bytes of total after elapsed:
// "[#######·······]  48.2%  12.1 MiB / 25.0 MiB  3.2 MiB/s". Without a
// total (-1) it draws only the bytes and the rate.
func renderProgress(done, total int64, elapsed time.Duration) string {
	rate := "-"
	if elapsed > 0 {
		rate = formatBytes(int64(float64(done)/elapsed.Seconds())) + "/s"
	}
	if total < 0 {
		return fmt.Sprintf("%s  %s", formatBytes(done), rate)
	}
	fraction := 1.0
	if total > 0 {
		fraction = min(float64(done)/float64(total), 1)
	}
	filled := int(fraction * progressWidth)
	bar := strings.Repeat("#", filled) + strings.Repeat("-", progressWidth-filled)
	return fmt.Sprintf("[%s] %5.1f%%  %s / %s  %s", bar, fraction*100, formatBytes(done), formatBytes(total), rate)
}

// formatBytes writes a byte count with a binary unit: 512 B, 1.5 KiB.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	value, suffix := float64(n)/unit, "KiB"
	for _, s := range []string{"MiB", "GiB", "TiB"} {
		if value < unit {
			break
		}
		value, suffix = value/unit, s
	}
	return fmt.Sprintf("%.1f %s", value, suffix)
}

// countingReader counts the bytes read through it into a progress bar.
type countingReader struct {
	r   io.Reader
	bar *progress
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.bar.add(n)
	return n, err
}

// countReads counts the bytes read from r into bar, if there is one.
func countReads(r io.Reader, bar *progress) io.Reader {
	if bar == nil {
		return r
	}
	return countingReader{r, bar}
}
