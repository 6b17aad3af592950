package flow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weir-io/weir/flow/store"
)

// App runs a topology against brokers: New, then Run. Instances with the
// same application id share the input partitions through a consumer
// group; each owns the tasks of its partitions, with their state.
type App struct {
	top    *Topology
	cfg    Config
	logger *slog.Logger

	admin *kadm.Client
	// partitions are the partition counts of the topics the application
	// writes with a custom partitioner, by full name (cached).
	partitionsMu sync.Mutex
	partitions   map[string]int

	// client consumes and produces; under exactly-once it belongs to
	// session.
	client  *kgo.Client
	session *kgo.GroupTransactSession

	// tasks are the tasks of the partitions assigned to this instance,
	// created when their first record arrives. tasksMu guards them: the
	// client's rebalance callbacks close tasks from its own goroutine.
	tasksMu sync.Mutex
	tasks   map[taskID]*task
	// readers maps each input topic (full name) to its sub-topology.
	readers map[string]int

	// globals are the instance's global tables.
	globals *globalStores
	// metrics are the application's metrics (nil: none).
	metrics *appMetrics

	// produceErr is the first error of a produce since the last commit.
	produceMu  sync.Mutex
	produceErr error
}

// New checks the configuration and the topology.
func New(top *Topology, cfg Config) (*App, error) {
	if cfg.ApplicationID == "" {
		return nil, errors.New("flow: Config.ApplicationID is required")
	}
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("flow: Config.Brokers is required")
	}
	if cfg.CommitInterval <= 0 {
		cfg.CommitInterval = 100 * time.Millisecond
		if cfg.Guarantee == AtLeastOnce {
			cfg.CommitInterval = 30 * time.Second
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.TransactionTimeout <= 0 {
		cfg.TransactionTimeout = 10 * time.Second
	}
	if err := top.build(); err != nil {
		return nil, err
	}
	a := &App{top: top, cfg: cfg, logger: cfg.Logger.With("application", cfg.ApplicationID),
		partitions: make(map[string]int), tasks: make(map[taskID]*task), readers: make(map[string]int)}
	var err error
	if a.metrics, err = newAppMetrics(cfg.Registerer, cfg.ApplicationID); err != nil {
		return nil, fmt.Errorf("flow: register metrics: %w", err)
	}
	for sub := range top.subTopologies() {
		for _, n := range top.nodes {
			if n.sub != sub {
				continue
			}
			for _, topic := range n.topics {
				name := topic
				if n.repartition {
					name = RepartitionTopic(cfg.ApplicationID, topic)
				}
				a.readers[name] = sub
			}
		}
	}
	return a, nil
}

// Run processes until ctx ends (then it returns nil, after a clean
// shutdown) or an error stops it. It creates the internal topics that do
// not exist.
func (a *App) Run(ctx context.Context) error {
	adminClient, err := kgo.NewClient(kgo.SeedBrokers(a.cfg.Brokers...))
	if err != nil {
		return err
	}
	defer adminClient.Close()
	a.admin = kadm.NewClient(adminClient)
	if err := a.setUpTopics(ctx); err != nil {
		return err
	}
	globalCtx, stopGlobals := context.WithCancel(ctx)
	waitGlobals, err := a.startGlobals(globalCtx)
	if err != nil {
		stopGlobals()
		return err
	}
	defer func() {
		stopGlobals()
		waitGlobals()
		a.globals.close()
	}()
	if err := a.startClient(); err != nil {
		return err
	}
	defer a.shutdown()
	a.logger.Info("running", "guarantee", a.cfg.Guarantee, "sub_topologies", a.top.subTopologies())
	for ctx.Err() == nil {
		if err := a.step(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	return nil
}

// startClient creates the consumer (and transactional producer).
func (a *App) startClient() error {
	opts := []kgo.Opt{
		kgo.SeedBrokers(a.cfg.Brokers...),
		kgo.ConsumerGroup(a.cfg.ApplicationID),
		kgo.ConsumeTopics(slices.Sorted(maps.Keys(a.readers))...),
		// The range balancer gives partition p of every input topic to
		// the same instance: co-partitioned topics meet in one task.
		kgo.Balancers(kgo.RangeBalancer()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.RecordPartitioner(partitioner{}),
		kgo.OnPartitionsRevoked(a.revoked),
		kgo.OnPartitionsLost(a.revoked),
	}
	if a.cfg.SessionTimeout > 0 {
		opts = append(opts, kgo.SessionTimeout(a.cfg.SessionTimeout), kgo.HeartbeatInterval(a.cfg.SessionTimeout/10))
	}
	var err error
	if a.cfg.Guarantee == ExactlyOnce {
		id := fmt.Sprintf("%s-%d-%d", a.cfg.ApplicationID, os.Getpid(), time.Now().UnixNano())
		// A killed instance's open transaction holds back the last
		// stable offset of the partitions it wrote until the
		// coordinator aborts it: a short timeout, as Kafka Streams
		// sets (10 s), bounds that stall.
		a.session, err = kgo.NewGroupTransactSession(append(opts, kgo.TransactionalID(id),
			kgo.RequireStableFetchOffsets(), kgo.TransactionTimeout(a.cfg.TransactionTimeout))...)
		if err == nil {
			a.client = a.session.Client()
		}
	} else {
		a.client, err = kgo.NewClient(append(opts, kgo.BlockRebalanceOnPoll())...)
	}
	return err
}

// step polls, processes what came and commits it.
func (a *App) step(ctx context.Context) error {
	pollCtx, cancel := context.WithTimeout(ctx, a.cfg.CommitInterval)
	defer cancel()
	var fetches kgo.Fetches
	if a.session != nil {
		fetches = a.session.PollFetches(pollCtx)
	} else {
		fetches = a.client.PollFetches(pollCtx)
		defer a.client.AllowRebalance()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var fetchErr error
	fetches.EachError(func(topic string, p int32, err error) {
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) && fetchErr == nil {
			fetchErr = fmt.Errorf("flow: fetch %s/%d: %w", topic, p, err)
		}
	})
	if fetchErr != nil {
		return fetchErr
	}
	a.tasksMu.Lock()
	idle := fetches.NumRecords() == 0 && len(a.tasks) == 0
	a.tasksMu.Unlock()
	if idle {
		return nil
	}
	if a.session != nil {
		if err := a.session.Begin(); err != nil {
			return err
		}
	}
	a.tasksMu.Lock()
	processErr := a.processAll(ctx, fetches)
	if processErr == nil {
		processErr = a.tick()
	}
	a.tasksMu.Unlock()
	if a.session != nil {
		return a.commitTransaction(ctx, processErr)
	}
	if processErr != nil {
		return processErr
	}
	if err := a.client.Flush(ctx); err != nil {
		return err
	}
	if err := a.takeProduceErr(); err != nil {
		return err
	}
	started := time.Now()
	err := a.client.CommitUncommittedOffsets(ctx)
	a.metrics.committed(err == nil, time.Since(started))
	return err
}

// processAll processes every fetched record in its task.
func (a *App) processAll(ctx context.Context, fetches kgo.Fetches) error {
	var err error
	fetches.EachRecord(func(r *kgo.Record) {
		if err != nil {
			return
		}
		var t *task
		if t, err = a.task(ctx, r.Topic, r.Partition); err != nil {
			return
		}
		perr := t.processInput(r.Topic, r.Key, r.Value, r.Timestamp.UnixMilli(), r.Headers)
		err = a.handle(ctx, r, perr)
	})
	if a.metrics != nil {
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			if n := len(p.Records); n > 0 {
				a.metrics.lagged(p.Topic, p.Partition, p.HighWatermark-p.Records[n-1].Offset-1)
			}
		})
	}
	return err
}

// tick runs the tasks' wall-clock reactions (processing-time timers,
// idle partitions releasing the watermark).
// REQUIRES: a.tasksMu is held.
func (a *App) tick() error {
	for _, t := range a.tasks {
		if err := t.tick(); err != nil {
			return fmt.Errorf("flow: task %s: %w", t.id, err)
		}
	}
	return nil
}

// handle applies the error policy to a record's error.
func (a *App) handle(ctx context.Context, r *kgo.Record, err error) error {
	var re *recordError
	if err == nil || !errors.As(err, &re) {
		return err
	}
	switch {
	case a.cfg.OnError.DeadLetterTopic != "":
		dl := &kgo.Record{Topic: a.cfg.OnError.DeadLetterTopic, Partition: -1, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp,
			Headers: append(slices.Clone(r.Headers), deadLetterHeaders(err, r.Topic, r.Partition, r.Offset)...)}
		a.produce(ctx, dl)
		return nil
	case a.cfg.OnError.Skip:
		a.logger.Warn("skipping a record that cannot be processed", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
		return nil
	}
	return fmt.Errorf("flow: %s/%d at offset %d: %w", r.Topic, r.Partition, r.Offset, err)
}

// commitTransaction ends the transaction of a poll: committed if
// everything went well, else aborted, and then the tasks' local state,
// which holds the aborted changes, is dropped, to be restored from the
// changelogs.
func (a *App) commitTransaction(ctx context.Context, processErr error) error {
	flushErr := a.client.Flush(ctx)
	produceErr := a.takeProduceErr()
	try := kgo.TryCommit
	if processErr != nil || flushErr != nil || produceErr != nil {
		try = kgo.TryAbort
	}
	started := time.Now()
	committed, err := a.session.End(ctx, try)
	a.metrics.committed(committed, time.Since(started))
	if !committed {
		a.logger.Info("transaction aborted; tasks restore their state", "err", errors.Join(processErr, flushErr, produceErr, err))
		a.tasksMu.Lock()
		a.closeTasks(nil)
		a.tasksMu.Unlock()
	}
	if processErr != nil {
		return processErr
	}
	if err != nil && !errors.Is(err, kerr.OperationNotAttempted) {
		return err
	}
	return nil
}

// task returns the task of an input record, creating and restoring it.
func (a *App) task(ctx context.Context, topic string, partition int32) (*task, error) {
	sub, ok := a.readers[topic]
	if !ok {
		return nil, fmt.Errorf("flow: a record of topic %s, which no source reads", topic)
	}
	id := taskID{sub: sub, partition: partition}
	if t := a.tasks[id]; t != nil {
		return t, nil
	}
	dir := ""
	if len(a.top.storesOf(sub)) > 0 {
		dir = a.taskDir(id)
		// No local checkpoint is trusted yet: the state is rebuilt
		// from the changelogs.
		if err := store.Destroy(dir); err != nil {
			return nil, err
		}
	}
	db, err := store.Open(dir, store.Options{Logger: a.logger})
	if err != nil {
		return nil, err
	}
	t, err := newTask(a.top, a.cfg.ApplicationID, id, db, appOutput{a: a, ctx: ctx}, taskClock{now: time.Now, idle: a.cfg.IdleTimeout}, a.logger)
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := a.restore(ctx, t); err != nil {
		db.Close()
		return nil, err
	}
	a.metrics.bind(t)
	a.tasks[id] = t
	return t, nil
}

// taskDir is a task's local state directory.
func (a *App) taskDir(id taskID) string {
	return AppStateDir(a.cfg.StateDir, a.cfg.ApplicationID) + string(os.PathSeparator) + id.String()
}

// revoked closes the tasks of partitions taken away.
func (a *App) revoked(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	gone := map[taskID]bool{}
	for topic, partitions := range lost {
		sub, ok := a.readers[topic]
		if !ok {
			continue
		}
		for _, p := range partitions {
			gone[taskID{sub: sub, partition: p}] = true
		}
	}
	a.tasksMu.Lock()
	defer a.tasksMu.Unlock()
	a.closeTasks(gone)
}

// closeTasks closes the tasks in ids (every task when nil).
// REQUIRES: a.tasksMu is held.
func (a *App) closeTasks(ids map[taskID]bool) {
	for id, t := range a.tasks {
		if ids != nil && !ids[id] {
			continue
		}
		if err := t.close(); err != nil {
			a.logger.Warn("closing a task's state", "task", id.String(), "err", err)
		}
		delete(a.tasks, id)
	}
}

// shutdown leaves the group and closes the tasks.
func (a *App) shutdown() {
	if a.session != nil {
		a.session.Close()
	} else if a.client != nil {
		a.client.Close()
	}
	a.tasksMu.Lock()
	defer a.tasksMu.Unlock()
	a.closeTasks(nil)
}

// produce sends a record, remembering the first error.
func (a *App) produce(ctx context.Context, r *kgo.Record) {
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			a.produceMu.Lock()
			if a.produceErr == nil {
				a.produceErr = err
			}
			a.produceMu.Unlock()
		}
	}
	if a.session != nil {
		a.session.Produce(ctx, r, promise)
	} else {
		a.client.Produce(ctx, r, promise)
	}
}

// takeProduceErr returns and clears the first produce error.
func (a *App) takeProduceErr() error {
	a.produceMu.Lock()
	defer a.produceMu.Unlock()
	err := a.produceErr
	a.produceErr = nil
	return err
}

// appOutput is the application's producer as a task's output.
type appOutput struct {
	a   *App
	ctx context.Context
}

func (o appOutput) send(topic string, partition int32, key, value []byte, ts int64, headers []kgo.RecordHeader) error {
	r := &kgo.Record{Topic: topic, Key: key, Value: value, Timestamp: time.UnixMilli(ts), Headers: headers, Partition: partition}
	o.a.produce(o.ctx, r)
	return nil
}

func (o appOutput) partitions(topic string) (int, error) { return o.a.partitionCount(o.ctx, topic) }

// partitionCount returns a topic's partition count.
func (a *App) partitionCount(ctx context.Context, topic string) (int, error) {
	a.partitionsMu.Lock()
	defer a.partitionsMu.Unlock()
	if n, ok := a.partitions[topic]; ok {
		return n, nil
	}
	details, err := a.admin.ListTopics(ctx, topic)
	if err != nil {
		return 0, err
	}
	d, ok := details[topic]
	if !ok || d.Err != nil {
		return 0, fmt.Errorf("flow: topic %s: %v", topic, d.Err)
	}
	a.partitions[topic] = len(d.Partitions)
	return len(d.Partitions), nil
}

// partitioner sends a record to the partition a task chose (Partition >=
// 0), or by its key as Kafka's producers do.
type partitioner struct{}

func (partitioner) ForTopic(topic string) kgo.TopicPartitioner {
	return topicPartitioner{byKey: kgo.StickyKeyPartitioner(nil).ForTopic(topic)}
}

type topicPartitioner struct{ byKey kgo.TopicPartitioner }

func (p topicPartitioner) RequiresConsistency(*kgo.Record) bool { return true }

func (p topicPartitioner) Partition(r *kgo.Record, n int) int {
	if r.Partition >= 0 && int(r.Partition) < n {
		return int(r.Partition)
	}
	return p.byKey.Partition(r, n)
}
