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
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// App runs a topology against brokers: New, then Run. Instances with the
// same application id share the input partitions through a consumer
// group; each runs the tasks the group's balancer gives it (balancer.go),
// with their state (checkpoint.go), and keeps standby replicas of others
// (standby.go).
//
// One goroutine, Run's, polls, processes and commits, in steps. The
// client blocks rebalances from the moment a poll returns until the step
// ends (kgo.BlockRebalanceOnPoll), so that the group's callbacks, which
// run on the client's goroutine, never see a step half done: tasks are
// closed (revoked) between steps, with their state committed, and the
// tasks and standbys a rebalance assigns are opened by the next step.
// The standbys are read by a goroutine of their own (standby.go). Lock
// order: tasksMu before localMu; no other two locks are held together.
type App struct {
	top    *Topology
	cfg    Config
	logger *slog.Logger
	// compression is the producer's compression (Config.Compression).
	compression []kgo.CompressionCodec
	// promise is a.onProduced, the promise of every record produced but
	// those of sentPromise, a.onSent.
	promise, sentPromise func(*kgo.Record, error)
	// sent holds the records the tasks produce (with sentPromise), and
	// their encoded values; fetched, the slices the client decodes
	// fetched records into.
	sent    sendArena
	fetched fetchPool

	admin *kadm.Client
	// partitions are the partition counts of the topics the application
	// writes with a custom partitioner, by full name (cached).
	partitionsMu sync.Mutex
	partitions   map[string]int

	// client consumes and produces; under exactly-once it belongs to
	// session. work is the context of producing and committing: a step
	// under way when Run's context ends finishes (for shutdownGrace at
	// most) rather than aborting its transaction.
	client   *kgo.Client
	session  *kgo.GroupTransactSession
	work     context.Context
	balancer *balancer
	// restorer reads changelogs for the tasks opened by Run's goroutine;
	// standbys have their own reader.
	restorer *changelogReader
	standbys *standbys

	// clock is the wall clock as of the step's poll, the tasks' "now"
	// (read once a step, as Kafka Streams reads it once a loop, rather
	// than twice a record). Owned by Run's goroutine.
	clock time.Time

	// tasks are the active tasks open on this instance. tasksMu guards
	// them: the client's rebalance callbacks close tasks from its own
	// goroutine.
	tasksMu sync.Mutex
	tasks   map[taskID]*taskState
	// readers maps each input topic (full name) to its sub-topology;
	// changelogs holds the changelog topics' names.
	readers    map[string]int
	changelogs map[string]bool
	// repartitions holds the repartition topics' names; purged is how
	// far each of their partitions has been purged, purgedAt when
	// (purge.go). Owned by Run's goroutine.
	repartitions map[string]bool
	purged       map[topicPartition]int64
	purgedAt     time.Time
	// standbyIDs are the standbys of the last assignment; unassigned
	// says since when each task directory without a task or standby
	// here has been so, cleanedAt when the state directory was last
	// cleaned (cleanup.go). Owned by Run's goroutine.
	standbyIDs map[taskID]bool
	unassigned map[taskID]time.Time
	cleanedAt  time.Time

	// assignMu guards active, the tasks assigned to this instance,
	// pending, an assignment that the next step applies, and wake, which
	// ends the step's poll (nil outside it), so that a new assignment's
	// tasks are opened at once.
	assignMu sync.Mutex
	active   map[taskID]bool
	pending  *assignment
	wake     context.CancelFunc
	// inTransaction says the step began a transaction (exactly once);
	// Run's goroutine alone uses it.
	inTransaction bool
	// sessionReset is set when partitions were revoked or lost: franz-go's
	// transaction session then aborts the next transaction, which the
	// next step makes an empty one.
	sessionReset atomic.Bool

	// localMu guards local, the positions of the saved state this
	// instance holds by task (active or standby), and ran, the tasks it
	// was assigned last: what it tells the balancer when it joins.
	localMu sync.Mutex
	local   map[taskID]int64
	ran     map[taskID]bool

	// globals are the instance's global tables.
	globals *globalStores
	// metrics are the application's metrics (nil: none).
	metrics *appMetrics

	// batch is batch mode's state (nil outside it); batchRun is the
	// batch run this instance takes part in (0: none yet), which the
	// group's leader decides and the balancer sets.
	batch    *batchState
	batchRun atomic.Int64

	// produceMu guards produceErr, the first error of a produce since the
	// last commit, and produced, the offset after the last record
	// produced to each changelog partition since the last commit.
	produceMu  sync.Mutex
	produceErr error
	produced   map[topicPartition]int64
}

// assignment is what a rebalance gave this instance.
type assignment struct {
	active  map[taskID]bool
	standby []taskID
}

// shutdownGrace is how long a step under way when Run's context ends may
// take to commit.
const shutdownGrace = 10 * time.Second

// New checks the configuration and the topology.
func New(top *Topology, cfg Config) (*App, error) {
	if cfg.ApplicationID == "" {
		return nil, errors.New("flow: Config.ApplicationID is required")
	}
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("flow: Config.Brokers is required")
	}
	if cfg.StandbyReplicas < 0 {
		return nil, errors.New("flow: Config.StandbyReplicas is negative")
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
	if cfg.StateCleanupDelay == 0 {
		cfg.StateCleanupDelay = DefaultStateCleanupDelay
	}
	if cfg.RepartitionPurgeInterval == 0 {
		cfg.RepartitionPurgeInterval = DefaultRepartitionPurgeInterval
	}
	if cfg.TransactionTimeout <= 0 {
		cfg.TransactionTimeout = 10 * time.Second
	}
	codecs, err := compression(cfg.Compression)
	if err != nil {
		return nil, err
	}
	if err := top.build(); err != nil {
		return nil, err
	}
	var batch *batchState
	if cfg.Batch != nil {
		graph := newBatchGraph(top, cfg.ApplicationID)
		if graph.cycle {
			return nil, errors.New("flow: batch mode: repartition topics wait for each other's end in a cycle (a timed operator above a foreign-key join's subscriptions?), which batch mode cannot end")
		}
		top = withBatchStores(top)
		batch = &batchState{graph: graph, limits: make(map[topicPartition]int64)}
	}
	a := &App{compression: codecs, top: top, batch: batch, cfg: cfg, logger: cfg.Logger.With("application", cfg.ApplicationID),
		partitions: make(map[string]int), tasks: make(map[taskID]*taskState), readers: make(map[string]int),
		changelogs: make(map[string]bool), repartitions: make(map[string]bool), purged: make(map[topicPartition]int64), unassigned: make(map[taskID]time.Time), active: make(map[taskID]bool), local: make(map[taskID]int64),
		ran: make(map[taskID]bool), produced: make(map[topicPartition]int64)}
	a.balancer = &balancer{a: a}
	a.promise, a.sentPromise = a.onProduced, a.onSent
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
					a.repartitions[name] = true
				}
				a.readers[name] = sub
			}
		}
	}
	for _, s := range top.stores {
		if s.logged {
			a.changelogs[ChangelogTopic(cfg.ApplicationID, s.name)] = true
		}
	}
	return a, nil
}

// Run processes until ctx ends (then it returns nil, after a clean
// shutdown) or an error stops it. In batch mode (Config.Batch) it also
// returns nil, after the same shutdown, once every task assigned to this
// instance has finished its range and committed. It creates the internal
// topics that do not exist.
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
	if err := a.scanLocal(); err != nil {
		return err
	}
	if a.restorer, err = newChangelogReader(a.cfg.Brokers); err != nil {
		return err
	}
	defer a.restorer.close()
	standbyReader, err := newChangelogReader(a.cfg.Brokers)
	if err != nil {
		return err
	}
	a.standbys = &standbys{a: a, reader: standbyReader, tasks: make(map[taskID]*taskState)}
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	stopAfter := context.AfterFunc(ctx, func() { time.AfterFunc(shutdownGrace, stopWork) })
	defer stopAfter()
	a.work = work
	if a.batch != nil {
		// No commit passes an input's end (batch.go).
		a.work = kgo.PreTxnCommitFnContext(kgo.PreCommitFnContext(work, a.clampCommit), a.clampTxnCommit)
	}
	if err := a.startClient(); err != nil {
		a.standbys.close()
		return err
	}
	defer a.shutdown()
	a.logger.Info("running", "guarantee", a.cfg.Guarantee, "sub_topologies", a.top.subTopologies(), "standby_replicas", a.cfg.StandbyReplicas)
	for ctx.Err() == nil {
		if err := a.step(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if a.batch != nil && a.batchDone() {
			a.logger.Info("batch run done on this instance", "run", a.batchRun.Load())
			return nil
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
		// The balancer assigns tasks: partition p of every input topic
		// of a sub-topology to the same instance, co-partitioned
		// topics meeting in one task. The range balancer does that
		// too, without standbys: the group falls back to it while
		// some members do not offer the first.
		kgo.Balancers(a.balancer, kgo.RangeBalancer()),
		kgo.BlockRebalanceOnPoll(),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.RecordPartitioner(partitioner{}),
		kgo.ProducerBatchCompression(a.compression...),
		kgo.WithPools(&a.fetched),
		kgo.OnPartitionsAssigned(a.assigned),
		kgo.OnPartitionsRevoked(a.revoked),
		kgo.OnPartitionsLost(a.revoked),
	}
	if a.batch != nil {
		// Batch runs are decided by this balancer alone; transaction
		// markers tell where a consumer stands (batch.go).
		opts = append(opts, kgo.Balancers(a.balancer), kgo.KeepControlRecords())
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
		a.client, err = kgo.NewClient(opts...)
	}
	return err
}

// step polls, processes what came and commits it. The tasks and
// standbys of a new assignment are opened first, their stores restored.
func (a *App) step(ctx context.Context) error {
	fetches, err := a.poll(ctx)
	a.clock = time.Now()
	defer a.client.AllowRebalance()
	if err != nil {
		return err
	}
	if ready, err := a.prepare(ctx, fetches); !ready || err != nil {
		return err
	}
	if a.session != nil && fetches.NumRecords() > 0 && !a.inTransaction {
		if err := a.beginTransaction(); err != nil {
			return err
		}
	}
	a.tasksMu.Lock()
	for _, t := range a.tasks {
		t.dirty = true
	}
	a.sent.recycle()
	processErr := a.processAll(fetches)
	if processErr == nil {
		processErr = a.tick()
	}
	if processErr == nil && a.batch != nil {
		processErr = a.finishTasks()
	}
	if processErr == nil {
		processErr = a.flushStores()
	}
	a.tasksMu.Unlock()
	if a.session != nil {
		err = a.endTransaction(processErr)
	} else if err = processErr; err == nil {
		err = a.commitAtLeastOnce()
	}
	if err == nil {
		a.purge()
		a.cleanUp()
	}
	return err
}

// poll polls for records until some come, the commit interval passes or
// an assignment comes (which ends the poll early). Errors of the group
// session are logged: the client joins the group again by itself.
func (a *App) poll(ctx context.Context) (kgo.Fetches, error) {
	pollCtx, cancel := context.WithTimeout(ctx, a.cfg.CommitInterval)
	defer cancel()
	a.assignMu.Lock()
	a.wake = cancel
	a.assignMu.Unlock()
	fetches := a.client.PollFetches(pollCtx)
	a.assignMu.Lock()
	a.wake = nil
	a.assignMu.Unlock()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var fetchErr error
	fetches.EachError(func(topic string, p int32, err error) {
		var session *kgo.ErrGroupSession
		switch {
		case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		case errors.As(err, &session) && !errors.Is(err, kerr.GroupAuthorizationFailed):
			a.logger.Warn("group membership", "err", err)
		case fetchErr == nil:
			fetchErr = fmt.Errorf("flow: fetch %s/%d: %w", topic, p, err)
		}
	})
	return fetches, fetchErr
}

// prepare applies a new assignment and opens the tasks the step needs;
// ready is false when the step has nothing to process.
func (a *App) prepare(ctx context.Context, fetches kgo.Fetches) (ready bool, err error) {
	a.applyAssignment(ctx)
	if a.session != nil && a.sessionReset.Swap(false) {
		// Partitions were revoked or lost since the last transaction:
		// franz-go's session would abort the next one, and the tasks
		// would drop their state. An empty transaction takes the
		// abort; it rewinds the consumer to the committed offsets, so
		// what this poll brought comes again.
		if err := a.session.Begin(); err != nil {
			return false, err
		}
		_, err := a.session.End(a.work, kgo.TryAbort)
		return false, err
	}
	if err := a.openTasks(ctx, a.needed(fetches)); err != nil {
		return false, err
	}
	a.tasksMu.Lock()
	defer a.tasksMu.Unlock()
	return fetches.NumRecords() > 0 || len(a.tasks) > 0, nil
}

// endTransaction ends the step under exactly-once: it commits or aborts
// its transaction, if it began one.
func (a *App) endTransaction(processErr error) error {
	if a.inTransaction {
		a.inTransaction = false
		return a.commitTransaction(processErr)
	}
	// Nothing polled, nothing produced: nothing to commit.
	if err := errors.Join(processErr, a.takeProduceErr()); err != nil {
		return err
	}
	a.tasksMu.Lock()
	defer a.tasksMu.Unlock()
	for _, t := range a.tasks {
		t.dirty = false
	}
	return nil
}

// commitAtLeastOnce ends the step under at-least-once: once what it
// produced is acknowledged, it commits the input offsets, then the tasks
// set their checkpoints.
func (a *App) commitAtLeastOnce() error {
	if err := a.client.Flush(a.work); err != nil {
		return err
	}
	if err := a.takeProduceErr(); err != nil {
		return err
	}
	started := time.Now()
	err := a.client.CommitUncommittedOffsets(a.work)
	a.metrics.committed(err == nil, time.Since(started))
	if err != nil {
		return err
	}
	a.tasksMu.Lock()
	defer a.tasksMu.Unlock()
	return a.checkpointTasks()
}

// beginTransaction begins the step's transaction: before processing
// when the poll brought records, else (the tasks' timers and idle inputs
// may still produce) at the first record produced. A step that polled
// nothing and produced nothing has no transaction: committing an empty
// one would cost a round trip, and franz-go, seeing no offsets
// committed, would then hold rebalances back 500 ms (its wait for brokers
// without KIP-447).
func (a *App) beginTransaction() error {
	if err := a.session.Begin(); err != nil {
		return err
	}
	a.inTransaction = true
	return nil
}

// needed returns the tasks the step needs open: those assigned, and
// those of the records fetched.
func (a *App) needed(fetches kgo.Fetches) []taskID {
	a.assignMu.Lock()
	set := maps.Clone(a.active)
	a.assignMu.Unlock()
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if sub, ok := a.readers[p.Topic]; ok && len(p.Records) > 0 {
			set[taskID{sub: sub, partition: p.Partition}] = true
		}
	})
	return slices.SortedFunc(maps.Keys(set), compareTasks)
}

// processAll processes every fetched record in its task.
// REQUIRES: a.tasksMu is held.
func (a *App) processAll(fetches kgo.Fetches) error {
	var err error
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if err != nil || len(p.Records) == 0 {
			return
		}
		// The partition's task, looked up once for its records.
		sub, ok := a.readers[p.Topic]
		if !ok {
			err = fmt.Errorf("flow: a record of topic %s, which no source reads", p.Topic)
			return
		}
		t := a.tasks[taskID{sub: sub, partition: p.Partition}]
		if t == nil {
			err = fmt.Errorf("flow: a record of %s/%d, whose task is not open", p.Topic, p.Partition)
			return
		}
		repartition := t.sources[p.Topic] != nil && t.sources[p.Topic].repartition
		for _, r := range p.Records {
			if t.batch != nil {
				process, berr := a.batchRecord(t, r)
				if berr != nil {
					err = berr
					return
				}
				if !process {
					continue
				}
			} else if _, marker := endMarkerOf(r); r.Attrs.IsControl() || marker && repartition {
				continue // a batch run's end marker: never processed
			}
			perr := t.processInput(r.Topic, r.Key, r.Value, r.Timestamp.UnixMilli(), r.Headers)
			if err = a.handle(r, perr); err == nil && t.batch != nil {
				err = a.batchProcessed(t, r)
			}
			if err != nil {
				return
			}
		}
		if a.metrics != nil {
			a.metrics.lagged(p.Topic, p.Partition, p.HighWatermark-p.Records[len(p.Records)-1].Offset-1)
		}
		for _, r := range p.Records {
			r.Recycle() // to fetchPool: flow keeps no pointer to it
		}
	})
	return err
}

// tick runs the tasks' wall-clock reactions (processing-time timers,
// idle partitions releasing the watermark).
// REQUIRES: a.tasksMu is held.
func (a *App) tick() error {
	for _, t := range a.tasks {
		if t.batch != nil && t.batch.finished {
			continue // its input ended: no more output
		}
		if err := t.tick(); err != nil {
			return fmt.Errorf("flow: task %s: %w", t.id, err)
		}
	}
	return nil
}

// wallClock returns the wall clock as of the step's poll.
func (a *App) wallClock() time.Time { return a.clock }

// flushStores writes the tasks' cached store writes to their stores and
// changelogs, to be committed with the step.
// REQUIRES: a.tasksMu is held.
func (a *App) flushStores() error {
	for _, t := range a.tasks {
		if err := t.flushStores(); err != nil {
			return fmt.Errorf("flow: %w", err)
		}
	}
	return nil
}

// handle applies the error policy to a record's error.
func (a *App) handle(r *kgo.Record, err error) error {
	if err == nil {
		return nil
	}
	var re *recordError
	if !errors.As(err, &re) {
		return err
	}
	switch {
	case a.cfg.OnError.DeadLetterTopic != "":
		dl := &kgo.Record{Topic: a.cfg.OnError.DeadLetterTopic, Partition: -1, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp,
			Headers: append(slices.Clone(r.Headers), deadLetterHeaders(err, r.Topic, r.Partition, r.Offset)...)}
		a.produce(dl, a.promise)
		return nil
	case a.cfg.OnError.Skip:
		a.logger.Warn("skipping a record that cannot be processed", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
		return nil
	}
	return fmt.Errorf("flow: %s/%d at offset %d: %w", r.Topic, r.Partition, r.Offset, err)
}

// commitTransaction ends the transaction of a poll: committed if
// everything went well, and then the tasks set their checkpoints; else
// aborted, and then the tasks are closed: the local state of those that
// wrote holds the aborted changes and has no checkpoint any more, to be
// restored from the changelogs when they open again.
func (a *App) commitTransaction(processErr error) error {
	flushErr := a.client.Flush(a.work)
	produceErr := a.takeProduceErr()
	try := kgo.TryCommit
	if processErr != nil || flushErr != nil || produceErr != nil {
		try = kgo.TryAbort
	}
	started := time.Now()
	committed, err := a.session.End(a.work, try)
	a.metrics.committed(committed, time.Since(started))
	a.tasksMu.Lock()
	defer a.tasksMu.Unlock()
	if committed {
		if cerr := a.checkpointTasks(); cerr != nil {
			return cerr
		}
	} else {
		a.logger.Info("transaction aborted; tasks restore their state", "err", errors.Join(processErr, flushErr, produceErr, err))
		a.takeProduced()
		a.closeTasks(nil, false)
	}
	if processErr != nil {
		return processErr
	}
	if err != nil && !errors.Is(err, kerr.OperationNotAttempted) {
		return err
	}
	return nil
}

// applyAssignment applies the assignment of the last rebalance, if it is
// not applied yet: the standbys change (those becoming active here are
// closed first), and the tasks to open are known.
func (a *App) applyAssignment(ctx context.Context) {
	a.assignMu.Lock()
	p := a.pending
	a.pending = nil
	if p != nil {
		a.active = p.active
	}
	a.assignMu.Unlock()
	if p == nil {
		return
	}
	want := map[taskID]bool{}
	for _, id := range p.standby {
		if !p.active[id] {
			want[id] = true
		}
	}
	a.standbyIDs = want
	a.standbys.update(ctx, want)
}

// openTasks opens the tasks of ids not open yet and restores their
// stores, from their checkpoints or, without one that fits, from the
// changelogs' start. A changelog that lost records after a checkpoint
// wipes its task, which restores again from the start.
func (a *App) openTasks(ctx context.Context, ids []taskID) error {
	a.tasksMu.Lock()
	var missing []taskID
	for _, id := range ids {
		if a.tasks[id] == nil {
			missing = append(missing, id)
		}
	}
	a.tasksMu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	bounds, err := a.listBounds(ctx, missing)
	if err != nil {
		return err
	}
	opened := make(map[taskID]*taskState, len(missing))
	closeAll := func() {
		for _, st := range opened {
			a.closeState(st, false)
		}
	}
	for _, id := range missing {
		st, err := a.openState(id, appOutput{a: a}, bounds)
		if err != nil {
			closeAll()
			return err
		}
		opened[id] = st
	}
	for attempt := 1; ; attempt++ {
		err := a.restore(ctx, a.restorings(opened, bounds))
		var oor *outOfRangeError
		if err == nil || !errors.As(err, &oor) || attempt == 3 {
			if err != nil {
				closeAll()
				return err
			}
			break
		}
		if bounds, err = a.listBounds(ctx, missing); err != nil {
			closeAll()
			return err
		}
		if err := a.wipe(opened, oor.tp, bounds); err != nil {
			closeAll()
			return err
		}
	}
	for _, st := range opened {
		if st.stateful() && !st.saved {
			if err := st.save(); err != nil {
				closeAll()
				return err
			}
		}
		if st.stateful() {
			a.rememberLocal(st)
		}
	}
	if a.batch != nil {
		if err := a.openBatch(ctx, opened); err != nil {
			closeAll()
			return err
		}
	}
	a.tasksMu.Lock()
	for _, st := range opened {
		a.metrics.bind(st.task)
	}
	maps.Copy(a.tasks, opened)
	a.tasksMu.Unlock()
	return nil
}

// restorings returns the restores of the opened tasks' stores, from
// their positions to the ends of their changelogs.
func (a *App) restorings(opened map[taskID]*taskState, bounds changelogBounds) []*restoring {
	var out []*restoring
	for _, id := range slices.SortedFunc(maps.Keys(opened), compareTasks) {
		st := opened[id]
		for _, name := range slices.Sorted(maps.Keys(st.changelogs)) {
			tp := st.changelogs[name]
			_, end, _ := bounds.bounds(tp)
			out = append(out, &restoring{state: st, store: name, tp: tp, start: st.positions[name], end: end})
		}
	}
	return out
}

// wipe drops the local state of the opened task reading changelog
// partition tp, and opens it again empty.
func (a *App) wipe(opened map[taskID]*taskState, tp topicPartition, bounds changelogBounds) error {
	for id, st := range opened {
		if storeOf(st, tp) == "" {
			continue
		}
		a.logger.Info("a changelog lost records after the local state's position", "task", id.String(), "changelog", tp.String())
		if err := st.db.ClearCheckpoint(); err != nil {
			return err
		}
		a.closeState(st, false)
		delete(opened, id)
		fresh, err := a.openState(id, appOutput{a: a}, bounds)
		if err != nil {
			return err
		}
		opened[id] = fresh
		return nil
	}
	return fmt.Errorf("flow: restore: no task reads %s", tp)
}

// taskDir is a task's local state directory.
func (a *App) taskDir(id taskID) string {
	return AppStateDir(a.cfg.StateDir, a.cfg.ApplicationID) + string(os.PathSeparator) + id.String()
}

// tasksOfPartitions returns the tasks of topic partitions.
func (a *App) tasksOfPartitions(partitions map[string][]int32) map[taskID]bool {
	out := map[taskID]bool{}
	for topic, ps := range partitions {
		sub, ok := a.readers[topic]
		if !ok {
			continue
		}
		for _, p := range ps {
			out[taskID{sub: sub, partition: p}] = true
		}
	}
	return out
}

// assigned records a new assignment (the client's callback, eager: the
// whole assignment), for the next step to apply, and ends the poll under
// way, if any, so that it does without waiting for records.
func (a *App) assigned(_ context.Context, _ *kgo.Client, partitions map[string][]int32) {
	active := a.tasksOfPartitions(partitions)
	p := &assignment{active: active, standby: a.balancer.takeStandbys()}
	a.assignMu.Lock()
	a.pending = p
	if a.batch != nil {
		a.batch.assigned = true
	}
	if a.wake != nil {
		a.wake()
	}
	a.assignMu.Unlock()
	a.localMu.Lock()
	a.ran = maps.Clone(active)
	a.localMu.Unlock()
	a.logger.Info("tasks assigned", "active", slices.SortedFunc(maps.Keys(active), compareTasks), "standby", p.standby)
}

// revoked closes the tasks of partitions taken away or lost (the
// client's callback, between steps: their state is committed, and they
// set their checkpoints).
func (a *App) revoked(_ context.Context, _ *kgo.Client, partitions map[string][]int32) {
	if a.session != nil {
		a.sessionReset.Store(true)
	}
	gone := a.tasksOfPartitions(partitions)
	a.assignMu.Lock()
	for id := range gone {
		delete(a.active, id)
		if a.pending != nil {
			delete(a.pending.active, id)
		}
	}
	a.assignMu.Unlock()
	a.tasksMu.Lock()
	defer a.tasksMu.Unlock()
	a.closeTasks(gone, true)
}

// closeTasks closes the tasks in ids (every task when nil); save sets
// their checkpoints when their state is committed.
// REQUIRES: a.tasksMu is held.
func (a *App) closeTasks(ids map[taskID]bool, save bool) {
	for id, t := range a.tasks {
		if ids != nil && !ids[id] {
			continue
		}
		a.closeState(t, save)
		delete(a.tasks, id)
	}
}

// shutdown leaves the group and closes the tasks and standbys.
func (a *App) shutdown() {
	if a.session != nil {
		a.session.CloseAllowingRebalance()
	} else if a.client != nil {
		a.client.CloseAllowingRebalance()
	}
	a.standbys.close()
	a.tasksMu.Lock()
	defer a.tasksMu.Unlock()
	a.closeTasks(nil, true)
}

// produce sends a record, remembering the first error, and the offsets
// of changelog records. The promise is called for every record, sent or
// not.
func (a *App) produce(r *kgo.Record, promise func(*kgo.Record, error)) {
	if a.session != nil && !a.inTransaction {
		if err := a.beginTransaction(); err != nil {
			promise(r, err)
			return
		}
	}
	if a.session != nil {
		a.session.Produce(a.work, r, promise)
	} else {
		a.client.Produce(a.work, r, promise)
	}
}

// onProduced is the promise of every record produced (a.promise, made once
// rather than a closure a record): it notes the first error, or the
// record's offset.
func (a *App) onProduced(r *kgo.Record, err error) {
	if err != nil {
		a.produceMu.Lock()
		if a.produceErr == nil {
			a.produceErr = err
		}
		a.produceMu.Unlock()
		return
	}
	a.recordProduced(r)
}

// onSent is the promise of the records of a.sent (a.sentPromise): as
// onProduced, and then the arena has one record less waiting.
func (a *App) onSent(r *kgo.Record, err error) {
	a.onProduced(r, err)
	a.sent.done()
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
type appOutput struct{ a *App }

// send produces a record of the instance's arena.
// REQUIRES: a.tasksMu is held.
func (o appOutput) send(topic string, partition int32, key, value []byte, ts int64, headers []kgo.RecordHeader) error {
	r := o.a.sent.record()
	r.Topic, r.Key, r.Value, r.Timestamp, r.Headers, r.Partition = topic, key, value, time.UnixMilli(ts), headers, partition
	o.a.produce(r, o.a.sentPromise)
	return nil
}

// sendAppended encodes the value into the instance's arena.
// REQUIRES: a.tasksMu is held.
func (o appOutput) sendAppended(topic string, partition int32, key []byte, encode appendFunc, value any, ts int64, headers []kgo.RecordHeader) error {
	b, err := o.a.sent.encode(encode, value)
	if err != nil {
		return err
	}
	return o.send(topic, partition, key, b, ts, headers)
}

func (o appOutput) partitions(topic string) (int, error) { return o.a.partitionCount(o.a.work, topic) }

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
