package compat

import (
	"context"
	"errors"
	"net"
	"sync"
)

// killSwitch is the dialer of a Go client that the group scenario kills:
// pulling it closes every connection the client has and refuses new ones,
// so that the client, still running in the test process, can no longer
// say anything to the broker (no commit, no LeaveGroup), as if its process
// had died.
type killSwitch struct {
	mu struct {
		sync.Mutex
		pulled bool
		conns  []net.Conn
	}
}

// errKilled is what the dialer of a killed client returns.
var errKilled = errors.New("compat: the member was killed")

// dial connects as a net.Dialer does, unless the switch is pulled.
func (k *killSwitch) dial(ctx context.Context, network, address string) (net.Conn, error) {
	if k.isPulled() {
		return nil, errKilled
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.mu.pulled {
		conn.Close()
		return nil, errKilled
	}
	k.mu.conns = append(k.mu.conns, conn)
	return conn, nil
}

// Dial is dial without a context (sarama's proxy.Dialer).
func (k *killSwitch) Dial(network, address string) (net.Conn, error) {
	return k.dial(context.Background(), network, address)
}

// pull closes every connection and refuses new ones.
func (k *killSwitch) pull() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.mu.pulled = true
	for _, c := range k.mu.conns {
		c.Close()
	}
	k.mu.conns = nil
}

func (k *killSwitch) isPulled() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.mu.pulled
}
