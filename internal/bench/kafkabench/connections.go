package kafkabench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The connections workload: Count TCP connections to one broker, each of
// which sends one ApiVersions request, reads the answer and then stays
// open and idle. The broker's resident memory (VmRSS of /proc/PID/status,
// so the broker must run on this machine for it) is read before the
// first connection and again Settle after the last one is open; the
// difference over Count is the memory an idle connection costs. Then every
// connection sends a second ApiVersions, to check that the broker still
// serves them all, and they are closed.
//
// The requests are encoded and the answers decoded by kmsg; a kgo.Client
// per connection would cost the generator far more than the broker.

// ConnectionsConfig configures the connections workload.
type ConnectionsConfig struct {
	// Broker is the address to connect to.
	Broker string `json:"broker"`
	// Count is how many connections to open.
	Count int `json:"count"`
	// PID is the broker's process id, for its memory (0: not measured).
	PID int `json:"pid"`
	// Settle is how long to wait, once every connection is open, before
	// reading the broker's memory again.
	Settle time.Duration `json:"settle_ns"`
	// Concurrency is how many connections are being opened at once.
	Concurrency int `json:"concurrency"`
	// Timeout bounds each dial and each request.
	Timeout time.Duration `json:"timeout_ns"`
	// Version is the ApiVersions version sent (3: what current clients
	// send first).
	Version int16 `json:"api_versions_version"`
	// Progress, when not nil, receives a line now and then.
	Progress io.Writer `json:"-"`
}

// DefaultConnectionsConfig returns the defaults of `weir bench
// connections`.
func DefaultConnectionsConfig() ConnectionsConfig {
	return ConnectionsConfig{
		Broker:      "127.0.0.1:9092",
		Count:       10_000,
		Settle:      5 * time.Second,
		Concurrency: 64,
		Timeout:     10 * time.Second,
		Version:     3,
	}
}

// ConnectionsResult is the outcome of the connections workload.
type ConnectionsResult struct {
	Config ConnectionsConfig `json:"config"`
	// Opened connections completed their first ApiVersions; Failed did
	// not (ErrorSamples says why); Answered also completed the second,
	// after the settle time.
	Opened       int          `json:"opened"`
	Failed       int          `json:"failed"`
	Answered     int          `json:"answered"`
	ErrorSamples []ErrorCount `json:"error_samples,omitempty"`
	// OpenTime is how long opening them all took.
	OpenTime time.Duration `json:"open_time_ns"`
	// Broker memory, when Config.PID is set: VmRSS before and after,
	// VmHWM (peak) after, (after - before) / Opened, and the broker's
	// threads before and after.
	RSSBefore     int64   `json:"rss_before_bytes,omitempty"`
	RSSAfter      int64   `json:"rss_after_bytes,omitempty"`
	PeakRSS       int64   `json:"peak_rss_bytes,omitempty"`
	BytesPerConn  float64 `json:"bytes_per_connection,omitempty"`
	ThreadsBefore int64   `json:"broker_threads_before,omitempty"`
	ThreadsAfter  int64   `json:"broker_threads_after,omitempty"`
	// FileLimit is how many files this process may open.
	FileLimit   uint64 `json:"file_limit"`
	Interrupted bool   `json:"interrupted,omitempty"`
}

// RunConnections runs the connections workload.
func RunConnections(ctx context.Context, cfg ConnectionsConfig) (*ConnectionsResult, error) {
	if cfg.Count < 1 || cfg.Concurrency < 1 || cfg.Timeout <= 0 {
		return nil, errors.New("count, concurrency and timeout must be positive")
	}
	res := &ConnectionsResult{Config: cfg}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil {
		// Go raises the soft limit to the hard one at start.
		res.FileLimit = lim.Cur
		if uint64(cfg.Count)+64 > lim.Cur {
			return nil, fmt.Errorf("%d connections need as many file descriptors, and this process may open %d: raise the hard limit (ulimit -Hn)", cfg.Count, lim.Cur)
		}
	}
	if cfg.PID > 0 {
		var err error
		if res.RSSBefore, err = procStatus(cfg.PID, "VmRSS"); err != nil {
			return nil, err
		}
		res.ThreadsBefore, _ = procStatusCount(cfg.PID, "Threads")
	}
	conns, errs := openConnections(ctx, cfg, res)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	res.Opened, res.Failed = len(conns), cfg.Count-len(conns)
	select {
	case <-ctx.Done():
		res.Interrupted = true
	case <-time.After(cfg.Settle):
	}
	if cfg.PID > 0 {
		var err error
		if res.RSSAfter, err = procStatus(cfg.PID, "VmRSS"); err != nil {
			return res, err
		}
		res.PeakRSS, _ = procStatus(cfg.PID, "VmHWM")
		res.ThreadsAfter, _ = procStatusCount(cfg.PID, "Threads")
		if res.Opened > 0 {
			res.BytesPerConn = float64(res.RSSAfter-res.RSSBefore) / float64(res.Opened)
		}
	}
	res.Answered = askAll(cfg, conns, errs)
	res.ErrorSamples = errs.samples()
	return res, nil
}

// openConnections opens cfg.Count connections, cfg.Concurrency at a time,
// each completing one ApiVersions request, and returns those that did.
func openConnections(ctx context.Context, cfg ConnectionsConfig, res *ConnectionsResult) ([]net.Conn, *errorLog) {
	errs := &errorLog{}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	next := make(chan int)
	started := time.Now()
	for range cfg.Concurrency {
		wg.Go(func() {
			dialer := net.Dialer{Timeout: cfg.Timeout}
			for n := range next {
				c, err := dialer.DialContext(ctx, "tcp", cfg.Broker)
				if err == nil {
					if err = apiVersions(c, cfg, int32(n)); err != nil {
						c.Close()
					}
				}
				if err != nil {
					errs.add(err)
					continue
				}
				mu.Lock()
				conns = append(conns, c)
				opened := len(conns)
				mu.Unlock()
				if cfg.Progress != nil && opened%1000 == 0 {
					fmt.Fprintf(cfg.Progress, "connections: %d open\n", opened)
				}
			}
		})
	}
	for n := range cfg.Count {
		if ctx.Err() != nil {
			break
		}
		next <- n
	}
	close(next)
	wg.Wait()
	res.OpenTime = time.Since(started)
	return conns, errs
}

// askAll sends a second ApiVersions on every connection and returns how
// many answered.
func askAll(cfg ConnectionsConfig, conns []net.Conn, errs *errorLog) int {
	var answered sync.WaitGroup
	var mu sync.Mutex
	n := 0
	work := make(chan net.Conn)
	for range cfg.Concurrency {
		answered.Go(func() {
			for c := range work {
				if err := apiVersions(c, cfg, 1<<30); err != nil {
					errs.add(fmt.Errorf("second request: %w", err))
					continue
				}
				mu.Lock()
				n++
				mu.Unlock()
			}
		})
	}
	for _, c := range conns {
		work <- c
	}
	close(work)
	answered.Wait()
	return n
}

// apiVersions sends one ApiVersions request on c and reads its answer.
func apiVersions(c net.Conn, cfg ConnectionsConfig, correlation int32) error {
	if err := c.SetDeadline(time.Now().Add(cfg.Timeout)); err != nil {
		return err
	}
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = cfg.Version
	req.ClientSoftwareName = clientID
	req.ClientSoftwareVersion = "1"
	frame := kmsg.NewRequestFormatter(kmsg.FormatterClientID(clientID)).AppendRequest(nil, req, correlation)
	if _, err := c.Write(frame); err != nil {
		return fmt.Errorf("send ApiVersions: %w", err)
	}
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		return fmt.Errorf("read ApiVersions answer: %w", err)
	}
	n := binary.BigEndian.Uint32(size[:])
	if n < 4 || n > 1<<20 {
		return fmt.Errorf("ApiVersions answer of %d bytes", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c, body); err != nil {
		return fmt.Errorf("read ApiVersions answer: %w", err)
	}
	// The response header of ApiVersions is the correlation id alone, at
	// every version (it is never flexible, so that any client can read it).
	if got := int32(binary.BigEndian.Uint32(body)); got != correlation {
		return fmt.Errorf("ApiVersions answer for correlation id %d, want %d", got, correlation)
	}
	resp := req.ResponseKind().(*kmsg.ApiVersionsResponse)
	if err := resp.ReadFrom(body[4:]); err != nil {
		return fmt.Errorf("decode ApiVersions answer: %w", err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return fmt.Errorf("ApiVersions: %w", err)
	}
	return c.SetDeadline(time.Time{})
}

// WriteText writes the result for people.
func (r *ConnectionsResult) WriteText(w io.Writer) error {
	c := r.Config
	fmt.Fprintf(w, "connections: %d to %s (ApiVersions v%d each, then idle), %d opened in %.2f s, %d failed; %d answered a second request after %v\n",
		c.Count, c.Broker, c.Version, r.Opened, r.OpenTime.Seconds(), r.Failed, r.Answered, c.Settle)
	for _, s := range r.ErrorSamples {
		fmt.Fprintf(w, "  %d x %s\n", s.Count, s.Error)
	}
	if c.PID > 0 {
		fmt.Fprintf(w, "broker pid %d: VmRSS %.1f MiB before, %.1f MiB after (%+.1f MiB, %.1f KiB a connection); VmHWM %.1f MiB; threads %d before, %d after\n",
			c.PID, mib(r.RSSBefore), mib(r.RSSAfter), mib(r.RSSAfter-r.RSSBefore), r.BytesPerConn/1024, mib(r.PeakRSS), r.ThreadsBefore, r.ThreadsAfter)
	} else {
		fmt.Fprintln(w, "broker memory not measured (give its --pid)")
	}
	if r.Interrupted {
		fmt.Fprintln(w, "interrupted")
	}
	_, err := fmt.Fprintf(w, "this process may open %d files\n", r.FileLimit)
	return err
}

// WriteJSON writes the result as one indented JSON object.
func (r *ConnectionsResult) WriteJSON(w io.Writer) error { return writeJSON(w, r) }

func mib(b int64) float64 { return float64(b) / (1 << 20) }
