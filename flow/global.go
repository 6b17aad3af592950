package flow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/weir-io/weir/flow/store"
)

// GlobalTable is a table every instance holds whole (Kafka Streams'
// GlobalKTable): each instance reads every partition of its topic into a
// local store, so that a stream can be joined with it on any key, without
// co-partitioning or repartitioning. Its topic is its changelog: it
// should be compacted. An instance reads the topic to its end before it
// processes anything, then keeps reading it as it changes; a stream
// record meets the table as that instance has read it so far.
type GlobalTable[K, V any] struct {
	def *globalDef
	kc  Codec[K]
	vc  Codec[V]
}

// globalDef is a global table of a topology: its store is named after
// it, its topic read by every instance.
type globalDef struct {
	name, topic string
}

// GlobalTableOf reads a topic as a global table, stored in a store named
// "<topic>-global" (Named to change it). Options: Named.
func GlobalTableOf[K, V any](t *Topology, topic string, kc Codec[K], vc Codec[V], opts ...Option) GlobalTable[K, V] {
	o := collect(opts)
	if kc == nil || vc == nil {
		t.fail(fmt.Errorf("flow: global table %s: %w", topic, errNilCodec))
	}
	name := o.name
	if name == "" {
		name = topic + "-global"
	}
	if _, dup := t.sources[topic]; dup {
		t.fail(fmt.Errorf("flow: topic %s is read by two sources", topic))
	}
	for _, g := range t.globals {
		if g.topic == topic || g.name == name {
			t.fail(fmt.Errorf("flow: two global tables of topic %s or named %s", topic, name))
		}
	}
	def := &globalDef{name: name, topic: topic}
	t.globals = append(t.globals, def)
	return GlobalTable[K, V]{def: def, kc: kc, vc: vc}
}

// JoinGlobal enriches a stream with a global table (inner join): key
// gives each record's key in the table; records whose key is not there
// are dropped. Options: Named, WithValueCodec (the result's).
func JoinGlobal[K, V, KG, VG, VR any](s Stream[K, V], g GlobalTable[KG, VG], key func(K, V) KG, f func(K, V, VG) VR, opts ...Option) Stream[K, VR] {
	return joinGlobal(s, g, key, func(k K, v V, vg VG, found bool) (VR, bool) {
		if !found {
			var zero VR
			return zero, false
		}
		return f(k, v, vg), true
	}, opts)
}

// LeftJoinGlobal is JoinGlobal that keeps the records whose key is not in
// the table: f gets found false and the zero value then.
func LeftJoinGlobal[K, V, KG, VG, VR any](s Stream[K, V], g GlobalTable[KG, VG], key func(K, V) KG, f func(k K, v V, vg VG, found bool) VR, opts ...Option) Stream[K, VR] {
	return joinGlobal(s, g, key, func(k K, v V, vg VG, found bool) (VR, bool) { return f(k, v, vg, found), true }, opts)
}

func joinGlobal[K, V, KG, VG, VR any](s Stream[K, V], g GlobalTable[KG, VG], key func(K, V) KG, f func(K, V, VG, bool) (VR, bool), opts []Option) Stream[K, VR] {
	o := collect(opts)
	t := s.t
	n := t.add(kindGlobalJoin, o.name, []*node{s.n}, nil)
	n.newProc = func(tk *task, n *node) (procFunc, error) {
		st, err := tk.out.global(g.def.name)
		if err != nil {
			return nil, err
		}
		return func(tk *task, r rec) error {
			k, v := as[K](r.key), as[V](r.value)
			gk, err := g.kc.Encode(key(k, v))
			if err != nil {
				return fmt.Errorf("join %s: encode the table's key: %w", n.name, err)
			}
			raw, found, err := st.Get(gk)
			if err != nil {
				return err
			}
			var vg VG
			if found {
				if vg, err = g.vc.Decode(raw); err != nil {
					return fmt.Errorf("join %s: decode the table's value: %w", n.name, err)
				}
			}
			out, ok := f(k, v, vg, found)
			if !ok {
				return nil
			}
			r.value = out
			return tk.forward(n, r)
		}, nil
	}
	return Stream[K, VR]{t: t, n: n, kc: s.kc, keyChanged: s.keyChanged, vc: codecOf[VR](t, o.valueCodec, nil, "value")}
}

// globalStores are an instance's global tables: one store each, in one
// DB, written by one goroutine that follows their topics.
type globalStores struct {
	db     *store.DB
	stores map[string]*store.KeyValue // by global table name
	topics map[string]*store.KeyValue // by topic
}

// openGlobalStores opens the stores of a topology's global tables in a
// fresh DB in dir ("": in memory).
func openGlobalStores(top *Topology, dir string, opts store.Options) (*globalStores, error) {
	if len(top.globals) == 0 {
		return nil, nil
	}
	if dir != "" {
		if err := store.Destroy(dir); err != nil {
			return nil, err
		}
	}
	db, err := store.Open(dir, opts)
	if err != nil {
		return nil, err
	}
	g := &globalStores{db: db, stores: make(map[string]*store.KeyValue), topics: make(map[string]*store.KeyValue)}
	for _, def := range top.globals {
		kv, err := db.KeyValue(def.name, nil)
		if err != nil {
			db.Close()
			return nil, err
		}
		g.stores[def.name], g.topics[def.topic] = kv, kv
	}
	return g, nil
}

// get returns the store of a global table.
func (g *globalStores) get(name string) (*store.KeyValue, error) {
	if g == nil || g.stores[name] == nil {
		return nil, fmt.Errorf("flow: no global table %s", name)
	}
	return g.stores[name], nil
}

// apply applies a record of a global table's topic.
func (g *globalStores) apply(topic string, key, value []byte) error {
	kv := g.topics[topic]
	if kv == nil {
		return fmt.Errorf("flow: a record of %s, which is no global table's topic", topic)
	}
	if value == nil {
		return kv.Delete(key)
	}
	return kv.Put(key, value)
}

// close closes the stores.
func (g *globalStores) close() error {
	if g == nil {
		return nil
	}
	return g.db.Close()
}

// globalMaxWait is how long a fetch of the global tables' topics waits
// for records once they are read to their ends.
const globalMaxWait = 500 * time.Millisecond

// startGlobals reads the global tables' topics to their ends (their high
// watermarks when it starts, read_committed) and then follows them in the
// background until ctx ends; the returned function waits for that to
// stop. It reads with the changelog reader of restores, which ends by
// position: a last record that compaction removed, or a transaction
// marker, cannot hold it up.
func (a *App) startGlobals(ctx context.Context) (wait func(), err error) {
	if len(a.top.globals) == 0 {
		return func() {}, nil
	}
	dir := AppStateDir(a.cfg.StateDir, a.cfg.ApplicationID) + "/global"
	g, err := openGlobalStores(a.top, dir, store.Options{Logger: a.logger})
	if err != nil {
		return nil, err
	}
	fail := func(err error) (func(), error) {
		g.close()
		return nil, fmt.Errorf("flow: global tables: %w", err)
	}
	topics := make([]string, 0, len(a.top.globals))
	for _, def := range a.top.globals {
		topics = append(topics, def.topic)
	}
	starts, err := a.admin.ListStartOffsets(ctx, topics...)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return fail(err)
	}
	ends, err := a.admin.ListEndOffsets(ctx, topics...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fail(err)
	}
	next := map[topicPartition]int64{}
	pending := map[topicPartition]int64{} // partitions not read to their ends yet
	starts.Each(func(o kadm.ListedOffset) {
		tp := topicPartition{o.Topic, o.Partition}
		next[tp] = o.Offset
		if end, ok := ends.Lookup(o.Topic, o.Partition); ok && end.Offset > o.Offset {
			pending[tp] = end.Offset
		}
	})
	reader, err := newChangelogReader(a.cfg.Brokers)
	if err != nil {
		return fail(err)
	}
	poll := func(ctx context.Context) error {
		got, err := reader.fetch(ctx, next, globalMaxWait)
		var oor *outOfRangeError
		if errors.As(err, &oor) {
			// Records deleted under the reader: go on from the start.
			starts, lerr := a.admin.ListStartOffsets(ctx, oor.tp.topic)
			if lerr != nil {
				return lerr
			}
			if o, ok := starts.Lookup(oor.tp.topic, oor.tp.partition); ok {
				next[oor.tp] = o.Offset
			}
			return err
		}
		if err != nil {
			return err
		}
		for tp, f := range got {
			for _, r := range f.records {
				if err := g.apply(tp.topic, r.Key, r.Value); err != nil {
					return err
				}
			}
			next[tp] = max(next[tp], f.next)
			if end, ok := pending[tp]; ok && (next[tp] >= end || (f.empty && f.lastStable >= end)) {
				delete(pending, tp)
			}
		}
		return nil
	}
	for len(pending) > 0 {
		if err := poll(ctx); err != nil {
			reader.close()
			return fail(err)
		}
	}
	a.globals = g
	a.logger.Info("global tables read", "topics", topics)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if err := poll(ctx); err != nil && ctx.Err() == nil {
				a.logger.Warn("following the global tables", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(globalMaxWait):
				}
			}
		}
	}()
	return func() {
		<-done
		reader.close()
	}, nil
}

// global implements output: the instance's global tables.
func (o appOutput) global(name string) (*store.KeyValue, error) { return o.a.globals.get(name) }
