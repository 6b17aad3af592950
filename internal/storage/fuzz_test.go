package storage

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/weir-io/weir/internal/recordbatch"
)

// fuzzTemplateDir writes a data directory under tb's temporary directory,
// which fuzz inputs copy and damage.
func fuzzTemplateDir(tb interface {
	testing.TB
	TempDir() string
}) string {
	tb.Helper()
	dir := tb.TempDir()
	if err := writeFuzzTemplate(tb, dir); err != nil {
		tb.Fatalf("fuzz template: %v", err)
	}
	return dir
}

// writeFuzzTemplate writes a small log of several segments with every
// entry kind: data in every codec, a compaction (replace and remove
// entries), DeleteRecords (set-start) and catalog changes.
func writeFuzzTemplate(t testing.TB, dir string) error {
	clock := &fakeClock{now: time.UnixMilli(1_700_000_000_000)}
	opts := testOptions(dir)
	opts.SegmentSize = 4 << 10
	opts.Now = clock.Now
	e, err := Open(opts)
	if err != nil {
		return err
	}
	compacted := DefaultTopicConfig()
	compacted.CleanupPolicy = CleanupCompact
	compacted.MinCleanableDirtyRatio = 0
	compacted.DeleteRetentionMs = 0
	if _, err := e.CreateTopic("plain", 2, DefaultTopicConfig()); err != nil {
		return err
	}
	if _, err := e.CreateTopic("compacted", 1, compacted); err != nil {
		return err
	}
	if _, err := e.CreateTopic("gone", 1, DefaultTopicConfig()); err != nil {
		return err
	}
	ts := clock.now.UnixMilli()
	for i := range 40 {
		codec := modelCodecs[i%len(modelCodecs)]
		name, index := "plain", int32(i%2)
		if i%3 == 0 {
			name, index = "compacted", 0
		}
		if i%7 == 0 {
			name, index = "gone", 0
		}
		p, err := e.Partition(name, index)
		if err != nil {
			return err
		}
		value := []byte("value-with-some-length-to-fill-segments-0123456789-0123456789-0123456789")
		if i%5 == 0 {
			value = nil
		}
		batch := makeBatch(t, codec,
			rec{key: []byte{'k', byte('0' + i%4)}, value: value, ts: ts + int64(i)},
			rec{key: []byte{'k', byte('0' + i%3)}, value: []byte("v"), ts: ts + int64(i) - 5})
		if _, err := p.AppendDurable(context.Background(), batch); err != nil {
			return err
		}
	}
	p, _ := e.Partition("plain", 1)
	if _, err := p.DeleteRecords(context.Background(), 3); err != nil {
		return err
	}
	if err := e.DeleteTopic("gone"); err != nil {
		return err
	}
	clock.now = clock.now.Add(time.Hour)
	if err := e.RunCleaner(context.Background()); err != nil {
		return err
	}
	p, _ = e.Partition("plain", 0)
	for i := range 3 { // entries after the checkpoint that Close takes
		if _, err := p.AppendDurable(context.Background(), valueBatch(t, "tail", 2, ts+100+int64(i))); err != nil {
			return err
		}
	}
	return e.Close()
}

// copyDir copies a directory tree.
func copyDir(t testing.TB, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		target := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// damageTargets lists the files damage may hit: the segments, then the
// index's files.
func damageTargets(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	for _, sub := range []string{"log", "index"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			if !e.IsDir() && e.Name() != "LOCK" {
				names = append(names, filepath.Join(dir, sub, e.Name()))
			}
		}
		sort.Strings(names)
		out = append(out, names...)
	}
	return out
}

// Damage modes.
const (
	damageTruncate = iota
	damageFlip
	damageOverwrite
	damageModes
)

// damage applies one damage to a file: truncate at, flip the bits of
// patch at at, at+7, at+14..., or overwrite from at with patch.
func damage(t testing.TB, name string, mode uint8, at uint32, patch []byte) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) == 0 {
		return
	}
	pos := int(at % uint32(len(data)))
	switch mode % damageModes {
	case damageTruncate:
		data = data[:pos]
	case damageFlip:
		for i, b := range patch {
			data[(pos+i*7)%len(data)] ^= b
		}
	case damageOverwrite:
		copy(data[pos:], patch)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// FuzzRecoverSegment damages a copy of a data directory (a segment or a
// file of the index) and opens it: Open must not panic; if it opens, every
// batch a read returns must be valid, and reads, time lookups and appends
// must return errors or valid answers, never panic.
func FuzzRecoverSegment(f *testing.F) {
	f.Add(uint8(0), uint8(damageTruncate), uint32(100), []byte{})
	f.Add(uint8(1), uint8(damageFlip), uint32(40), []byte{0x01, 0x80})
	f.Add(uint8(2), uint8(damageOverwrite), uint32(32), []byte{0, 0, 0, 0})
	f.Add(uint8(255), uint8(damageTruncate), uint32(1000), []byte{})
	f.Add(uint8(3), uint8(damageOverwrite), uint32(0), []byte("XXXX"))
	template := fuzzTemplateDir(f)
	f.Fuzz(func(t *testing.T, target, mode uint8, at uint32, patch []byte) {
		if len(patch) > 64 {
			patch = patch[:64]
		}
		dir := t.TempDir()
		copyDir(t, template, dir)
		targets := damageTargets(t, dir)
		damage(t, targets[int(target)%len(targets)], mode, at, patch)
		e, err := Open(testOptions(dir))
		if err != nil {
			t.Logf("open of a damaged %s: %v", filepath.Base(targets[int(target)%len(targets)]), err)
			return
		}
		defer e.Close()
		for _, info := range e.Topics() {
			for i := range info.Partitions {
				p, err := e.Partition(info.Name, i)
				if err != nil {
					t.Fatal(err)
				}
				checkServed(t, p)
			}
		}
		if err := e.RunCleaner(context.Background()); err != nil {
			t.Logf("cleaner on damaged data: %v", err)
		}
	})
}

// checkServed reads a whole partition and checks that every batch served
// is valid; errors are allowed, invalid data is not.
func checkServed(t *testing.T, p *Partition) {
	off := p.Offsets()
	for offset := off.LogStart; offset < off.HighWatermark; {
		r, err := p.Read(offset, 1<<20)
		if err != nil || len(r.Records) == 0 {
			break // an error is an answer; carry on with other lookups
		}
		batches, err := recordbatch.Split(r.Records)
		if err != nil {
			t.Fatalf("read at %d served bytes that do not split into batches: %v", offset, err)
		}
		next := offset
		for _, b := range batches {
			h, err := recordbatch.Validate(b)
			if err != nil {
				t.Fatalf("read at %d served an invalid batch: %v", offset, err)
			}
			next = max(next, h.LastOffset()+1)
		}
		if next <= offset {
			t.Fatalf("read at %d made no progress", offset)
		}
		offset = next
	}
	_, _, _, _ = p.OffsetForTime(0)
	_, _, _, _ = p.MaxTimestamp()
	if _, err := p.AppendDurable(context.Background(), valueBatch(t, "after", 1, time.Now().UnixMilli())); err == nil {
		if r, err := p.Read(p.Offsets().HighWatermark-1, 1<<20); err == nil {
			if _, err := recordbatch.Split(r.Records); err != nil {
				t.Fatalf("read of the new batch: %v", err)
			}
		}
	}
}

// TestOpenDamagedIndex: with the index damaged beyond what Pebble
// opens, the engine rebuilds it from the log and serves every batch.
func TestOpenDamagedIndex(t *testing.T) {
	template := fuzzTemplateDir(t)
	reference := t.TempDir()
	copyDir(t, template, reference)
	e := openTest(t, testOptions(reference))
	want := map[string][]readRecord{}
	for _, info := range e.Topics() {
		for i := range info.Partitions {
			p, _ := e.Partition(info.Name, i)
			want[p.Topic()+"/"+string(rune('0'+i))] = readAll(t, p, p.Offsets().LogStart)
		}
	}
	e.Close()
	indexFiles := func(dir string) []string {
		var out []string
		for _, name := range damageTargets(t, dir) {
			if filepath.Base(filepath.Dir(name)) == "index" {
				out = append(out, filepath.Base(name))
			}
		}
		return out
	}
	for _, name := range indexFiles(template) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			copyDir(t, template, dir)
			damage(t, filepath.Join(dir, "index", name), damageOverwrite, 0, []byte("this is not what Pebble wrote"))
			e, err := Open(testOptions(dir))
			if err != nil {
				t.Fatalf("open with a damaged index file %s: %v", name, err)
			}
			defer e.Close()
			for _, info := range e.Topics() {
				for i := range info.Partitions {
					p, _ := e.Partition(info.Name, i)
					got := readAll(t, p, p.Offsets().LogStart)
					if !equalRecords(got, want[p.Topic()+"/"+string(rune('0'+i))]) {
						t.Errorf("%s/%d after rebuilding: %d records, want %d", info.Name, i, len(got), len(want[p.Topic()+"/"+string(rune('0'+i))]))
					}
				}
			}
			if len(e.Topics()) != len(want) && len(e.Topics()) != 2 {
				t.Errorf("topics after rebuilding: %+v", e.Topics())
			}
		})
	}
}
