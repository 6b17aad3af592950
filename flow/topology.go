package flow

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Topology is a graph of operators: sources read topics, operators
// transform and aggregate, sinks write topics. Build it with Source and
// TableOf and the operators of Stream, Table and Grouped, then run it
// with New (against brokers) or NewTestDriver (in memory). A Topology is
// not safe for concurrent building.
type Topology struct {
	nodes  []*node
	stores []*storeDef
	names  map[string]bool
	errs   []error
	// sources maps each source topic to its node.
	sources map[string]*node
	// globals are the global tables.
	globals []*globalDef
}

// NewTopology returns an empty topology.
func NewTopology() *Topology {
	return &Topology{names: make(map[string]bool), sources: make(map[string]*node)}
}

// node is one operator. Its processor is built per task by newProc.
type node struct {
	id       int
	name     string
	kind     string
	parents  []*node
	children []*node
	// topics are the topics a source node reads; sinkTopic the topic a
	// sink writes (for repartition and changelog topics, the name
	// without the application id: see internalTopic).
	topics    []string
	sinkTopic string
	// repartition marks the sink and source of a repartition topic, the
	// edge between two sub-topologies; partitions is its partition count
	// (0: that of the upstream sources).
	repartition bool
	partitions  int32
	// stores are the names of the stores the node uses.
	stores []string
	// timed operators emit records when the watermark or the wall clock
	// moves, not only when a record reaches them (windows, stream-stream
	// join buffers, processors' timers): batch mode ends a repartition
	// topic below one only when its task finishes (batch.go).
	timed bool
	// sub is the node's sub-topology, set by build.
	sub int
	// newProc builds the node's processor in a task.
	newProc func(t *task, n *node) (procFunc, error)
	// decode, for source nodes, turns a record's bytes into its key and
	// value; extract gives its timestamp.
	decode  func(key, value []byte) (any, any, error)
	extract func(key, value any, recordTime int64) int64
}

// procFunc processes one record in a task.
type procFunc func(t *task, r rec) error

// storeDef is a store the topology declares.
type storeDef struct {
	name string
	kind storeKind
	// logged stores have a changelog topic.
	logged bool
	sub    int
	// retention is how long a window or session store keeps windows
	// after event time passes their start (their size and grace).
	retention time.Duration
	// inMemory stores are kept in memory (still logged), others in the
	// task's Pebble directory.
	inMemory bool
	// cached stores hold their writes back until the task commits
	// (taskStore.cache, kvCache): the windows of time-windowed
	// aggregations, the other aggregations' tables and processors'
	// stores.
	cached bool
	// internal stores belong to the runtime, not to operators (batch
	// mode's, batch.go): their sub-topology is set when they are made.
	internal bool
}

type storeKind int

const (
	keyValueStore storeKind = iota
	windowStore
	sessionStore
	versionedStore
)

// add adds a node named name (or kind-<id> when empty) below parents.
func (t *Topology) add(kind, name string, parents []*node, newProc func(*task, *node) (procFunc, error)) *node {
	n := &node{id: len(t.nodes), kind: kind, parents: parents, newProc: newProc}
	if name == "" {
		name = fmt.Sprintf("%s-%d", kind, n.id)
	}
	if t.names[name] {
		t.fail(fmt.Errorf("flow: two operators named %q", name))
	}
	t.names[name] = true
	n.name = name
	for _, p := range parents {
		p.children = append(p.children, n)
	}
	t.nodes = append(t.nodes, n)
	return n
}

// addStore declares a store.
func (t *Topology) addStore(name string, kind storeKind, logged bool) *storeDef {
	def := &storeDef{name: name, kind: kind, logged: logged}
	for _, s := range t.stores {
		if s.name == name {
			t.fail(fmt.Errorf("flow: two stores named %q", name))
			return def
		}
	}
	t.stores = append(t.stores, def)
	return def
}

// fail records a mistake in building the topology, which New and
// NewTestDriver report.
func (t *Topology) fail(err error) { t.errs = append(t.errs, err) }

// build checks the topology and assigns sub-topologies: the connected
// parts of the graph once repartition topics cut it. It may be called
// more than once.
func (t *Topology) build() error {
	if len(t.errs) > 0 {
		return errors.Join(t.errs...)
	}
	if len(t.sources) == 0 {
		return errors.New("flow: the topology has no source")
	}
	parent := make([]int, len(t.nodes))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for _, n := range t.nodes {
		for _, c := range n.children {
			if n.repartition && c.repartition && n.kind == kindRepartitionSink {
				continue // the edge a repartition topic cuts
			}
			parent[find(c.id)] = find(n.id)
		}
	}
	// Operators that share a store run in one task.
	for _, s := range t.stores {
		if s.internal {
			continue
		}
		first := -1
		for _, n := range t.nodes {
			if slices.Contains(n.stores, s.name) {
				if first < 0 {
					first = n.id
				} else {
					parent[find(n.id)] = find(first)
				}
			}
		}
	}
	// Sub-topologies are numbered in the order of their first node.
	number := map[int]int{}
	for _, n := range t.nodes {
		root := find(n.id)
		if _, ok := number[root]; !ok {
			number[root] = len(number)
		}
		n.sub = number[root]
	}
	for _, s := range t.stores {
		if s.internal {
			continue
		}
		s.sub = -1
		for _, n := range t.nodes {
			if slices.Contains(n.stores, s.name) {
				if s.sub >= 0 && s.sub != n.sub {
					return fmt.Errorf("flow: store %q is used by operators of two sub-topologies", s.name)
				}
				s.sub = n.sub
			}
		}
		if s.sub < 0 {
			return fmt.Errorf("flow: store %q is used by no operator (WithStores attaches it)", s.name)
		}
	}
	return nil
}

// subTopologies returns the number of sub-topologies (after build).
func (t *Topology) subTopologies() int {
	subs := 0
	for _, n := range t.nodes {
		subs = max(subs, n.sub+1)
	}
	return subs
}

// storesOf returns the stores of sub-topology sub.
func (t *Topology) storesOf(sub int) []*storeDef {
	var out []*storeDef
	for _, s := range t.stores {
		if s.sub == sub {
			out = append(out, s)
		}
	}
	return out
}

// Describe returns a description of the topology, one sub-topology after
// the other, each node with its kind, its topics or stores and the nodes
// it sends to, as Kafka Streams' TopologyDescription prints it. Internal
// topics are named without the application id.
func (t *Topology) Describe() string {
	if err := t.build(); err != nil {
		return "invalid topology: " + err.Error()
	}
	var b strings.Builder
	for sub := range t.subTopologies() {
		fmt.Fprintf(&b, "Sub-topology %d\n", sub)
		for _, n := range t.nodes {
			if n.sub != sub {
				continue
			}
			fmt.Fprintf(&b, "  %s (%s)", n.name, n.kind)
			if len(n.topics) > 0 {
				fmt.Fprintf(&b, " topics [%s]", strings.Join(n.topics, ", "))
			}
			if n.sinkTopic != "" {
				fmt.Fprintf(&b, " topic %s", n.sinkTopic)
			}
			if len(n.stores) > 0 {
				fmt.Fprintf(&b, " stores [%s]", strings.Join(n.stores, ", "))
			}
			if len(n.children) > 0 {
				names := make([]string, 0, len(n.children))
				for _, c := range n.children {
					names = append(names, c.name)
				}
				sort.Strings(names)
				fmt.Fprintf(&b, " --> %s", strings.Join(names, ", "))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// The kinds of node Describe shows.
const (
	kindSource                  = "source"
	kindSink                    = "sink"
	kindRepartitionSink         = "repartition-sink"
	kindRepartitionSrc          = "repartition-source"
	kindFilter                  = "filter"
	kindMap                     = "map"
	kindMapValues               = "map-values"
	kindFlatMap                 = "flat-map"
	kindBranch                  = "branch"
	kindMerge                   = "merge"
	kindPeek                    = "peek"
	kindSelectKey               = "select-key"
	kindTableSource             = "table-source"
	kindToStream                = "to-stream"
	kindAggregate               = "aggregate"
	kindTableAggregate          = "table-aggregate"
	kindTableGroupBy            = "table-group-by"
	kindTableFilter             = "table-filter"
	kindTableMapValues          = "table-map-values"
	kindWindowAggregate         = "window-aggregate"
	kindSessionAggregate        = "session-aggregate"
	kindJoin                    = "join"
	kindProcessor               = "processor"
	kindJoinSide                = "join-side"
	kindSlidingAggregate        = "sliding-aggregate"
	kindTableJoin               = "table-join"
	kindMaterialize             = "materialize"
	kindGlobalJoin              = "global-join"
	kindForeignKeyJoin          = "foreign-key-join"
	kindForeignKeySubscribe     = "foreign-key-subscribe"
	kindForeignKeySubscriptions = "foreign-key-subscriptions"
)
