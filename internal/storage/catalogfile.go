package storage

// The catalog file.
//
// Dir/catalog is a JSON copy of the catalog (format version 1):
//
//	{"version": 1,
//	 "next_partition_id": N, "next_topic_id": N,
//	 "topics": [topicRecord...],          // as under the "t" index keys
//	 "log_starts": {"<partition id>": offset, ...}}  // those above 0
//
// It is written to catalog.tmp, synced, renamed over catalog and the
// directory synced, after every catalog change (before the change is
// acknowledged) and at checkpoints when a log start moved. It exists so that
// a damaged index can be rebuilt from the log: the log alone cannot say which
// topics exist, because the cleaner removes segments whose catalog entries
// are no longer needed by recovery.

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
	NextPartitionID uint64           `json:"next_partition_id"`
	NextTopicID     uint64           `json:"next_topic_id"`
	Topics          []topicRecord    `json:"topics"`
	LogStarts       map[string]int64 `json:"log_starts"`
}

// writeCatalogFile writes the catalog file from the in-memory state.
func (e *Engine) writeCatalogFile() error {
	e.catalogFileMu.Lock()
	defer e.catalogFileMu.Unlock()
	cf := catalogFile{Version: catalogFileVersion, LogStarts: make(map[string]int64)}
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
