package metrics

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// The readiness conditions of a node.
const (
	// Storage: the storage engine is open (recovery done, not closed).
	Storage = "storage"
	// KafkaListener: the Kafka listener accepts connections and the node
	// is not shutting down.
	KafkaListener = "kafka_listener"
	// CommitLog: no fsync of the commit log has failed since the node
	// started.
	CommitLog = "commit_log"
)

var (
	errNotOpen      = errors.New("not open")
	errNotListening = errors.New("not listening")
)

// Readiness is a set of named conditions, each holding or not for a
// reason; the node is ready when all hold. It is safe for concurrent use.
type Readiness struct {
	mu     sync.Mutex
	failed map[string]error // the conditions that do not hold, and why
}

// NewReadiness returns a Readiness with no conditions: ready.
func NewReadiness() *Readiness {
	return &Readiness{failed: make(map[string]error)}
}

// Set records whether the named condition holds: it does when reason is
// nil.
func (r *Readiness) Set(name string, reason error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if reason == nil {
		delete(r.failed, name)
	} else {
		r.failed[name] = reason
	}
}

// Check returns nil when every condition holds, or an error naming those
// that do not, sorted by name.
func (r *Readiness) Check() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.failed) == 0 {
		return nil
	}
	names := make([]string, 0, len(r.failed))
	for name := range r.failed {
		names = append(names, name)
	}
	sort.Strings(names)
	lines := make([]string, len(names))
	for i, name := range names {
		lines[i] = fmt.Sprintf("%s: %v", name, r.failed[name])
	}
	return errors.New(strings.Join(lines, "\n"))
}
