package kafkabench

import "time"

// pacer spaces one producer's sends at a fixed rate on an absolute
// schedule: send n (from 0) is due at start + n/rate. It never lets a send
// go ahead of its time; a producer that has fallen behind (a sleep that
// overshot, a pool with no free record) sends without waiting until it is
// back on schedule, so the mean rate holds. A pacer of rate 0 does not
// wait. It belongs to one goroutine.
type pacer struct {
	start    time.Time
	interval float64 // nanoseconds between sends; 0: no pacing
	sent     int64
	timer    *time.Timer
}

func newPacer(start time.Time, rate float64) *pacer {
	p := &pacer{start: start}
	if rate > 0 {
		p.interval = float64(time.Second) / rate
	}
	return p
}

// due returns when the next send is due.
func (p *pacer) due() time.Time {
	return p.start.Add(time.Duration(float64(p.sent) * p.interval))
}

// wait returns once the next send is due, true; or false as soon as stop
// is closed.
func (p *pacer) wait(stop <-chan struct{}) bool {
	if p.interval > 0 {
		if d := time.Until(p.due()); d > 0 {
			if p.timer == nil {
				p.timer = time.NewTimer(d)
			} else {
				p.timer.Reset(d)
			}
			select {
			case <-p.timer.C:
			case <-stop:
				return false
			}
		}
	}
	select {
	case <-stop:
		return false
	default:
	}
	p.sent++
	return true
}
