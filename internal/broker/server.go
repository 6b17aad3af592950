package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"

	"github.com/weir-io/weir/internal/group"
	"github.com/weir-io/weir/internal/storage"
	"github.com/weir-io/weir/internal/txn"
)

// Config configures a broker.
type Config struct {
	// Listen is the address to listen on (127.0.0.1:9092).
	Listen string
	// AdvertisedHost and AdvertisedPort are what Metadata tells clients
	// to connect to (the listener's address when empty).
	AdvertisedHost string
	AdvertisedPort int32
	// NodeID is this node's id (1).
	NodeID int32
	// ClusterID is the cluster's id, as Metadata reports it.
	ClusterID string
	// MaxRequestBytes is socket.request.max.bytes (104857600): a frame
	// announcing more closes the connection.
	MaxRequestBytes int32
	// DisableAutoCreate turns off auto.create.topics.enable (on by
	// default, as in Kafka).
	DisableAutoCreate bool
	// DefaultPartitions is num.partitions for auto-created topics (1).
	DefaultPartitions int32
	// Logger receives the broker's logs (slog.Default() when nil).
	Logger *slog.Logger
	// Observer is told of connections, requests and record bytes, for
	// metrics (observer.go); nil tells nobody.
	Observer Observer
	// Groups configures the group coordinator (group.DefaultConfig()
	// when zero).
	Groups *group.Config
	// Transactions configures the transaction coordinator (Kafka's
	// defaults when zero; its PartitionExists and OffsetsPartition are
	// the broker's).
	Transactions txn.Config
	// TransactionVersion is the finalized level of the feature
	// transaction.version (txn_version.go): 2 (the default) or 1.
	TransactionVersion int16
}

func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:9092"
	}
	if c.NodeID == 0 {
		c.NodeID = 1
	}
	if c.ClusterID == "" {
		c.ClusterID = "weir"
	}
	if c.MaxRequestBytes <= 0 {
		c.MaxRequestBytes = 104857600
	}
	if c.DefaultPartitions <= 0 {
		c.DefaultPartitions = 1
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.TransactionVersion == 0 {
		c.TransactionVersion = TransactionVersionDefault
	}
	return c
}

// Broker serves the Kafka protocol for one storage engine.
type Broker struct {
	cfg          Config
	engine       *storage.Engine
	logger       *slog.Logger
	handlerByKey map[int16]handler
	ln           net.Listener

	// sessions are the fetch sessions (fetch_sessions.go).
	sessions *fetchSessions

	// groups is the group coordinator, offsets its durable state
	// (groups.go).
	groups  *group.Coordinator
	offsets *internalLog
	// offsetsMu orders the coordinator's changes and their appends to
	// the offsets topic (groups.go, logged).
	offsetsMu sync.Mutex

	// txn is the transaction coordinator, txnLog its durable state,
	// txnMu the order of its writes (txn.go).
	txn    *txn.Coordinator
	txnLog *internalLog
	txnMu  sync.Mutex
	// txnAppendMu orders the verification and append of a transactional
	// produce against the markers of the transaction (txn_version.go):
	// produces hold it shared, the marker writer exclusively.
	txnAppendMu sync.RWMutex

	// configMu serializes the read-modify-write of topic configs
	// (AlterConfigs, IncrementalAlterConfigs).
	configMu sync.Mutex

	mu    sync.Mutex
	conns map[*conn]struct{}
	wg    sync.WaitGroup

	// arrival wakes long-polling fetches (arrival.go).
	arrival struct {
		sync.Mutex
		ch chan struct{}
	}
}

// Listen binds the broker's listener and returns the broker, ready to
// Serve.
func Listen(cfg Config, engine *storage.Engine) (*Broker, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	if cfg.AdvertisedHost == "" || cfg.AdvertisedPort == 0 {
		host, port, _ := net.SplitHostPort(ln.Addr().String())
		if cfg.AdvertisedHost == "" {
			cfg.AdvertisedHost = host
		}
		if cfg.AdvertisedPort == 0 {
			p, _ := strconv.Atoi(port)
			cfg.AdvertisedPort = int32(p)
		}
	}
	b := &Broker{cfg: cfg, engine: engine, logger: cfg.Logger, ln: ln, conns: make(map[*conn]struct{})}
	if err := b.openGroups(); err != nil {
		ln.Close()
		return nil, err
	}
	if err := b.openTxn(); err != nil {
		ln.Close()
		return nil, err
	}
	b.sessions = newFetchSessions(fetchSessionSlots, fetchSessionIdle)
	b.handlerByKey = make(map[int16]handler)
	for _, h := range b.handlers() {
		b.handlerByKey[h.key] = h
	}
	return b, nil
}

// Addr returns the listener's address.
func (b *Broker) Addr() net.Addr { return b.ln.Addr() }

// Serve accepts connections until ctx ends, then stops accepting, lets the
// requests in flight finish, and closes every connection.
func (b *Broker) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { b.ln.Close() })
	defer stop()
	if b.wakesOnSync() {
		syncsCtx, stopSyncs := context.WithCancel(ctx)
		defer stopSyncs()
		go b.forwardSyncs(syncsCtx)
	}
	timerCtx, stopTimer := context.WithCancel(ctx)
	defer stopTimer()
	go b.runGroupTimer(timerCtx)
	for {
		nc, err := b.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				b.shutdown()
				return nil
			}
			b.logger.Warn("accept failed", "err", err)
			continue
		}
		c := newConn(b, nc)
		b.mu.Lock()
		b.conns[c] = struct{}{}
		b.mu.Unlock()
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			c.serve(ctx)
			b.mu.Lock()
			delete(b.conns, c)
			b.mu.Unlock()
		}()
	}
}

// shutdown ends reading on every connection, so that each writes the
// responses in flight and closes, and waits for them.
func (b *Broker) shutdown() {
	b.mu.Lock()
	for c := range b.conns {
		if tc, ok := c.nc.(*net.TCPConn); ok {
			tc.CloseRead()
		} else {
			c.close()
		}
	}
	b.mu.Unlock()
	b.wg.Wait()
}
