package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/cockroachdb/pebble/v2"
)

// topic is a topic's catalog entry in memory.
type topic struct {
	id         uint64
	name       string
	uuid       [16]byte
	config     TopicConfig // guarded by Engine.mu
	partitions []*Partition
}

// TopicInfo describes a topic.
type TopicInfo struct {
	Name       string
	ID         [16]byte // the Kafka topic id (a random UUID)
	Partitions int32
	Config     TopicConfig
}

// topicRecord is the JSON form of a topic, in catalog log entries and
// under the "t" keys of the index.
type topicRecord struct {
	Name       string      `json:"name"`
	ID         uint64      `json:"id"`
	UUID       string      `json:"uuid"`
	Config     TopicConfig `json:"config"`
	Partitions []uint64    `json:"partitions"` // partition ids by index
}

// catalogOp is the payload of a catalog entry.
type catalogOp struct {
	Op    string      `json:"op"` // create, delete, config, add-partitions
	Topic topicRecord `json:"topic"`
	// New lists the partition ids the op creates (create, add-partitions).
	New []uint64 `json:"new,omitempty"`
}

// MaxPartitionsPerTopic bounds one topic's partitions.
const MaxPartitionsPerTopic = 1 << 24

// ValidTopicName checks a name as Kafka does: 1 to 249 characters of
// [a-zA-Z0-9._-], neither "." nor "..".
func ValidTopicName(name string) error {
	if name == "" || name == "." || name == ".." || len(name) > 249 {
		return fmt.Errorf("%w: %q", ErrInvalidTopic, name)
	}
	for _, c := range []byte(name) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("%w: %q has the character %q", ErrInvalidTopic, name, c)
		}
	}
	return nil
}

// CreateTopic creates a topic with the given number of partitions. It
// returns when the creation is durable.
func (e *Engine) CreateTopic(name string, partitions int32, config TopicConfig) (TopicInfo, error) {
	if err := ValidTopicName(name); err != nil {
		return TopicInfo{}, err
	}
	if partitions <= 0 || partitions > MaxPartitionsPerTopic {
		return TopicInfo{}, fmt.Errorf("%w: %d", ErrInvalidPartitions, partitions)
	}
	if err := config.validate(); err != nil {
		return TopicInfo{}, err
	}
	if err := e.checkSpace(int(partitions) * 64); err != nil {
		return TopicInfo{}, err
	}
	e.catalogMu.Lock()
	defer e.catalogMu.Unlock()
	e.mu.RLock()
	_, exists := e.mu.topics[name]
	c := e.mu.counters
	e.mu.RUnlock()
	if exists {
		return TopicInfo{}, fmt.Errorf("%w: %s", ErrTopicExists, name)
	}
	rec := topicRecord{Name: name, ID: c.nextTopicID, Config: config}
	var uuid [16]byte
	if _, err := rand.Read(uuid[:]); err != nil {
		return TopicInfo{}, fmt.Errorf("topic id: %w", err)
	}
	rec.UUID = hex.EncodeToString(uuid[:])
	for i := range partitions {
		rec.Partitions = append(rec.Partitions, c.nextPartitionID+uint64(i))
	}
	if err := e.catalogChange(catalogOp{Op: "create", Topic: rec, New: rec.Partitions}); err != nil {
		return TopicInfo{}, err
	}
	return e.topicInfo(name)
}

// DeleteTopic deletes a topic and its data. It returns when the deletion
// is durable; the cleaner reclaims the space.
func (e *Engine) DeleteTopic(name string) error {
	e.catalogMu.Lock()
	defer e.catalogMu.Unlock()
	rec, err := e.topicRecord(name)
	if err != nil {
		return err
	}
	return e.catalogChange(catalogOp{Op: "delete", Topic: rec})
}

// AddPartitions grows a topic to total partitions.
func (e *Engine) AddPartitions(name string, total int32) error {
	if err := e.checkSpace(int(total) * 64); err != nil {
		return err
	}
	e.catalogMu.Lock()
	defer e.catalogMu.Unlock()
	rec, err := e.topicRecord(name)
	if err != nil {
		return err
	}
	if int(total) <= len(rec.Partitions) || total > MaxPartitionsPerTopic {
		return fmt.Errorf("%w: topic %s has %d partitions, asked for %d", ErrInvalidPartitions, name, len(rec.Partitions), total)
	}
	e.mu.RLock()
	next := e.mu.counters.nextPartitionID
	e.mu.RUnlock()
	var added []uint64
	for i := len(rec.Partitions); i < int(total); i++ {
		added = append(added, next)
		next++
	}
	rec.Partitions = append(rec.Partitions, added...)
	return e.catalogChange(catalogOp{Op: "add-partitions", Topic: rec, New: added})
}

// SetTopicConfig replaces a topic's configs.
func (e *Engine) SetTopicConfig(name string, config TopicConfig) error {
	if err := config.validate(); err != nil {
		return err
	}
	e.catalogMu.Lock()
	defer e.catalogMu.Unlock()
	rec, err := e.topicRecord(name)
	if err != nil {
		return err
	}
	rec.Config = config
	return e.catalogChange(catalogOp{Op: "config", Topic: rec})
}

// Topics lists the topics, sorted by name.
func (e *Engine) Topics() []TopicInfo {
	e.mu.RLock()
	defer e.mu.RUnlock()
	infos := make([]TopicInfo, 0, len(e.mu.topics))
	for _, t := range e.mu.topics {
		infos = append(infos, TopicInfo{Name: t.name, ID: t.uuid, Partitions: int32(len(t.partitions)), Config: t.config})
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name < infos[j].Name })
	return infos
}

// Topic describes one topic.
func (e *Engine) Topic(name string) (TopicInfo, error) { return e.topicInfo(name) }

// TopicByID describes the topic with the Kafka topic id, if there is one.
func (e *Engine) TopicByID(id [16]byte) (TopicInfo, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, t := range e.mu.topics {
		if t.uuid == id {
			return TopicInfo{Name: t.name, ID: t.uuid, Partitions: int32(len(t.partitions)), Config: t.config}, true
		}
	}
	return TopicInfo{}, false
}

func (e *Engine) topicInfo(name string) (TopicInfo, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	t, ok := e.mu.topics[name]
	if !ok {
		return TopicInfo{}, fmt.Errorf("%w: %s", ErrUnknownTopicOrPartition, name)
	}
	return TopicInfo{Name: t.name, ID: t.uuid, Partitions: int32(len(t.partitions)), Config: t.config}, nil
}

// Partition returns a partition of a topic.
func (e *Engine) Partition(topicName string, index int32) (*Partition, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	t, ok := e.mu.topics[topicName]
	if !ok || index < 0 || int(index) >= len(t.partitions) {
		return nil, fmt.Errorf("%w: %s/%d", ErrUnknownTopicOrPartition, topicName, index)
	}
	return t.partitions[index], nil
}

// topicRecord returns the record of an existing topic.
func (e *Engine) topicRecord(name string) (topicRecord, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	t, ok := e.mu.topics[name]
	if !ok {
		return topicRecord{}, fmt.Errorf("%w: %s", ErrUnknownTopicOrPartition, name)
	}
	rec := topicRecord{Name: t.name, ID: t.id, UUID: hex.EncodeToString(t.uuid[:]), Config: t.config}
	for _, p := range t.partitions {
		rec.Partitions = append(rec.Partitions, p.id)
	}
	return rec, nil
}

// catalogChange logs a catalog op, applies it to the index and to memory,
// and waits until it is durable, whatever the durability policy.
// REQUIRES: e.catalogMu is held.
func (e *Engine) catalogChange(op catalogOp) error {
	payload, err := json.Marshal(op)
	if err != nil {
		return fmt.Errorf("encode catalog change: %w", err)
	}
	e.applyMu.RLock()
	_, _, err = e.log.Append(kindCatalog, 0, payload)
	if err != nil {
		e.applyMu.RUnlock()
		return logError("log catalog change", err)
	}
	b := e.db.NewIndexedBatch()
	removed, err := applyCatalog(b, op)
	if err == nil {
		err = b.Commit(pebble.NoSync)
	}
	b.Close()
	if err != nil {
		e.applyMu.RUnlock()
		return fmt.Errorf("%w: apply catalog change: %v", ErrStorage, err)
	}
	e.applyCatalogMemory(op, removed)
	e.applyMu.RUnlock()
	if err := e.log.Sync(context.Background()); err != nil {
		return logError("sync catalog change", err)
	}
	// The next checkpoint copies the catalog to the catalog file.
	e.catalogStale.Store(true)
	return nil
}

// applyCatalog applies a catalog op to the index. It is used both live
// and in replay, and is idempotent. It returns the index entries it
// deleted, by partition.
func applyCatalog(b *pebble.Batch, op catalogOp) (map[uint64][]indexEntry, error) {
	rec, err := json.Marshal(op.Topic)
	if err != nil {
		return nil, err
	}
	switch op.Op {
	case "create", "add-partitions", "config":
		if err := b.Set(topicKey(op.Topic.Name), rec, nil); err != nil {
			return nil, err
		}
		// The new partitions are the last ones of the topic.
		first := len(op.Topic.Partitions) - len(op.New)
		for i, pid := range op.New {
			pr := encodePartitionRecord(partitionRecord{topicID: op.Topic.ID, index: int32(first + i)})
			if err := b.Set(partitionKey(pid), pr, nil); err != nil {
				return nil, err
			}
		}
		if err := bumpCounters(b, op); err != nil {
			return nil, err
		}
		return nil, nil
	case "delete":
		if err := b.Delete(topicKey(op.Topic.Name), nil); err != nil {
			return nil, err
		}
		removed := make(map[uint64][]indexEntry)
		for _, pid := range op.Topic.Partitions {
			entries, err := dropPartition(b, pid)
			if err != nil {
				return nil, err
			}
			removed[pid] = entries
		}
		return removed, nil
	}
	return nil, fmt.Errorf("unknown catalog op %q", op.Op)
}

// bumpCounters raises the id counters past the ids op uses.
func bumpCounters(b *pebble.Batch, op catalogOp) error {
	v, err := get(b, keyCounters)
	if err != nil {
		return err
	}
	var c counters
	if v != nil {
		if c, err = decodeCounters(v); err != nil {
			return err
		}
	}
	c.nextTopicID = max(c.nextTopicID, op.Topic.ID+1)
	for _, pid := range op.New {
		c.nextPartitionID = max(c.nextPartitionID, pid+1)
	}
	return b.Set(keyCounters, encodeCounters(c), nil)
}

// dropPartition deletes a partition's keys and returns its index entries.
func dropPartition(b *pebble.Batch, pid uint64) ([]indexEntry, error) {
	entries, err := scanIndex(b, pid, 0, -1)
	if err != nil {
		return nil, err
	}
	lo, hi := partitionRange(prefixIndex, pid)
	if err := b.DeleteRange(lo, hi, nil); err != nil {
		return nil, err
	}
	lo, hi = partitionRange(prefixTime, pid)
	if err := b.DeleteRange(lo, hi, nil); err != nil {
		return nil, err
	}
	for _, prefix := range []byte{prefixProducer, prefixOpenTxn, prefixAbortedTxn, prefixTxnApplied} {
		lo, hi = partitionRange(prefix, pid)
		if err := b.DeleteRange(lo, hi, nil); err != nil {
			return nil, err
		}
	}
	return entries, b.Delete(partitionKey(pid), nil)
}

// applyCatalogMemory applies a catalog op to the in-memory catalog.
// REQUIRES: e.applyMu is held (shared or exclusive).
func (e *Engine) applyCatalogMemory(op catalogOp, removed map[uint64][]indexEntry) {
	switch op.Op {
	case "create", "add-partitions", "config":
		e.mu.Lock()
		t, ok := e.mu.topics[op.Topic.Name]
		if !ok {
			t = &topic{id: op.Topic.ID, name: op.Topic.Name}
			if raw, err := hex.DecodeString(op.Topic.UUID); err == nil {
				copy(t.uuid[:], raw)
			}
			e.mu.topics[t.name] = t
		}
		t.config = e.effectiveConfig(op.Topic.Config)
		for _, pid := range op.New {
			p := &Partition{e: e, id: pid, topic: t, index: int32(len(t.partitions))}
			p.mu.maxTs = -1
			p.mu.runningMax = -1 << 63
			t.partitions = append(t.partitions, p)
			e.mu.byID[pid] = p
		}
		e.mu.counters.nextTopicID = max(e.mu.counters.nextTopicID, op.Topic.ID+1)
		for _, pid := range op.New {
			e.mu.counters.nextPartitionID = max(e.mu.counters.nextPartitionID, pid+1)
		}
		e.mu.Unlock()
	case "delete":
		e.mu.Lock()
		t := e.mu.topics[op.Topic.Name]
		delete(e.mu.topics, op.Topic.Name)
		if t != nil {
			for _, p := range t.partitions {
				delete(e.mu.byID, p.id)
			}
		}
		e.mu.Unlock()
		if t == nil {
			return
		}
		for _, p := range t.partitions {
			p.mu.Lock()
			p.mu.deleted = true
			p.mu.Unlock()
			for _, ie := range removed[p.id] {
				e.addLive(ie.position, -int64(ie.size))
			}
		}
	}
}

func (c TopicConfig) validate() error {
	switch {
	case c.RetentionMs < -1, c.RetentionBytes < -1, c.DeleteRetentionMs < 0,
		c.MaxMessageBytes <= 0, c.MinCleanableDirtyRatio < 0, c.MinCleanableDirtyRatio > 1:
		return fmt.Errorf("%w: %+v", ErrInvalidConfig, c)
	case c.CleanupPolicy != CleanupDelete && c.CleanupPolicy != CleanupCompact && c.CleanupPolicy != CleanupCompactDelete:
		return fmt.Errorf("%w: cleanup.policy %q", ErrInvalidConfig, c.CleanupPolicy)
	}
	return nil
}

// effectiveConfig returns a topic's configs from their stored form: a
// topic with overrides takes the node's current defaults for what it does
// not set (they may have changed since it was created or altered).
func (e *Engine) effectiveConfig(stored TopicConfig) TopicConfig {
	if stored.Overrides == nil {
		return stored
	}
	config, err := e.opts.TopicDefaults.WithOverrides(stored.Overrides)
	if err != nil {
		e.logger.Warn("topic configs no longer valid; keeping those stored", "overrides", stored.Overrides, "err", err)
		return stored
	}
	return config
}

// TopicDefaults returns the node's default topic configs, which a topic
// created without configs of its own takes.
func (e *Engine) TopicDefaults() TopicConfig { return e.opts.TopicDefaults }
