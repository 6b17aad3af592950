package storage

// The catalog file.
//
// Dir/catalog is a JSON copy of the catalog (format version 1):
//
//	{"version": 1,
//	 "position": C,                       // the log position it covers
//	 "next_partition_id": N, "next_topic_id": N,
//	 "topics": [topicRecord...],          // as under the "t" index keys
//	 "log_starts": {"<partition id>": offset, ...}}  // those above 0
//
// It is written to catalog.tmp, synced, renamed over catalog and the
// directory synced, by a checkpoint at position C when the catalog changed
// or a log start moved since the last one. It holds at least the effect of
// every catalog entry below C (the in-memory catalog it copies may be
// newer). It exists so that a damaged index can be rebuilt from the log: the
// log alone cannot say which topics exist, because the cleaner removes
// segments whose catalog entries recovery no longer needs. A rebuild seeds
// the index from the file and replays the catalog entries from C on; the
// cleaner removes only segments below both the checkpoint and the file's C,
// so those entries are still there.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
)

const catalogFileVersion = 1

type catalogFile struct {
	Version         int              `json:"version"`
	Position        uint64           `json:"position"`
	NextPartitionID uint64           `json:"next_partition_id"`
	NextTopicID     uint64           `json:"next_topic_id"`
	Topics          []topicRecord    `json:"topics"`
	LogStarts       map[string]int64 `json:"log_starts"`
}

// writeCatalogFile writes the catalog file from the in-memory state, which
// holds the effect of every entry below position.
func (e *Engine) writeCatalogFile(position uint64) error {
	e.catalogFileMu.Lock()
	defer e.catalogFileMu.Unlock()
	cf := catalogFile{Version: catalogFileVersion, Position: position, LogStarts: make(map[string]int64)}
	e.mu.RLock()
	cf.NextPartitionID, cf.NextTopicID = e.mu.counters.nextPartitionID, e.mu.counters.nextTopicID
	var parts []*Partition
	for _, t := range e.mu.topics {
		rec := topicRecord{Name: t.name, ID: t.id, UUID: fmt.Sprintf("%x", t.uuid[:]), Config: t.config}
		for _, p := range t.partitions {
			rec.Partitions = append(rec.Partitions, p.id)
		}
		parts = append(parts, t.partitions...)
		cf.Topics = append(cf.Topics, rec)
	}
	e.mu.RUnlock()
	for _, p := range parts {
		p.mu.Lock()
		if p.mu.logStart > 0 {
			cf.LogStarts[strconv.FormatUint(p.id, 10)] = p.mu.logStart
		}
		p.mu.Unlock()
	}
	data, err := json.Marshal(cf)
	if err != nil {
		return err
	}
	path := filepath.Join(e.opts.Dir, "catalog")
	tmp := path + ".tmp"
	_ = e.opts.FS.Remove(tmp)
	f, err := e.opts.FS.Create(tmp)
	if err != nil {
		return fmt.Errorf("write catalog file: %w", err)
	}
	_, err = f.WriteAt(data, 0)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = e.opts.FS.Rename(tmp, path)
	}
	if err == nil {
		err = e.opts.FS.SyncDir(e.opts.Dir)
	}
	if err != nil {
		return fmt.Errorf("write catalog file: %w", err)
	}
	e.catalogFilePos.Store(position)
	return nil
}

// readCatalogFile reads the catalog file; ok is false if there is none.
func (e *Engine) readCatalogFile() (catalogFile, bool, error) {
	var cf catalogFile
	f, err := e.opts.FS.Open(filepath.Join(e.opts.Dir, "catalog"))
	if errors.Is(err, fs.ErrNotExist) {
		return cf, false, nil
	}
	if err != nil {
		return cf, false, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return cf, false, err
	}
	data := make([]byte, size)
	if _, err := f.ReadAt(data, 0); err != nil {
		return cf, false, err
	}
	if err := json.Unmarshal(data, &cf); err != nil {
		return cf, false, fmt.Errorf("catalog file: %w", err)
	}
	if cf.Version != catalogFileVersion {
		return cf, false, fmt.Errorf("catalog file: unsupported version %d", cf.Version)
	}
	return cf, true, nil
}
