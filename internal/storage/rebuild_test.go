package storage

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestIndexRebuild damages or removes the index in several ways; each time
// the engine must open, rebuild the index from the log and the catalog
// file, and serve the same data.
func TestIndexRebuild(t *testing.T) {
	damage := map[string]func(t *testing.T, index string){
		"removed": func(t *testing.T, index string) {
			if err := os.RemoveAll(index); err != nil {
				t.Fatal(err)
			}
		},
		"manifest garbage": func(t *testing.T, index string) {
			names, _ := filepath.Glob(filepath.Join(index, "MANIFEST-*"))
			if len(names) == 0 {
				t.Fatal("no manifest")
			}
			for _, n := range names {
				if err := os.WriteFile(n, []byte("not a manifest"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		},
		"emptied": func(t *testing.T, index string) {
			if err := os.RemoveAll(index); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(index, 0o755); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, hurt := range damage {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			opts := testOptions(dir)
			opts.SegmentSize = 16 << 10
			e := openTest(t, opts)
			ctx := context.Background()
			keep := DefaultTopicConfig()
			keep.RetentionMs = -1
			if _, err := e.CreateTopic("a", 2, keep); err != nil {
				t.Fatal(err)
			}
			if _, err := e.CreateTopic("gone", 1, DefaultTopicConfig()); err != nil {
				t.Fatal(err)
			}
			want := map[int32][]readRecord{}
			for i := range 40 {
				p, _ := e.Partition("a", int32(i%2))
				if _, err := p.AppendDurable(ctx, valueBatch(t, "v", 20, int64(i))); err != nil {
					t.Fatal(err)
				}
			}
			p0, _ := e.Partition("a", 0)
			if _, err := p0.DeleteRecords(ctx, 100); err != nil {
				t.Fatal(err)
			}
			if err := e.DeleteTopic("gone"); err != nil {
				t.Fatal(err)
			}
			if err := e.RunCleaner(ctx); err != nil {
				t.Fatal(err)
			}
			for i := range int32(2) {
				p, _ := e.Partition("a", i)
				want[i] = readAll(t, p, p.Offsets().LogStart)
				if len(want[i]) < 300 {
					t.Fatalf("partition %d holds %d records before the damage", i, len(want[i]))
				}
			}
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}

			hurt(t, filepath.Join(dir, "index"))

			e = openTest(t, opts)
			defer e.Close()
			if topics := e.Topics(); len(topics) != 1 || topics[0].Name != "a" {
				t.Fatalf("topics after rebuild: %+v", topics)
			}
			for i := range int32(2) {
				p, err := e.Partition("a", i)
				if err != nil {
					t.Fatal(err)
				}
				got := readAll(t, p, p.Offsets().LogStart)
				if !equalRecords(got, want[i]) {
					t.Fatalf("partition %d after rebuild: %d records, want %d", i, len(got), len(want[i]))
				}
			}
			if p0, _ := e.Partition("a", 0); p0.Offsets().LogStart != 100 {
				t.Fatalf("log start after rebuild: %+v", p0.Offsets())
			}
		})
	}
}

// TestIndexRebuildFromStaleCatalogFile loses the index after catalog
// changes that no checkpoint copied to the catalog file: the rebuild must
// take them from the log's catalog entries past the file's position.
func TestIndexRebuildFromStaleCatalogFile(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	e := openTest(t, opts)
	keep := DefaultTopicConfig()
	keep.RetentionMs = -1
	if _, err := e.CreateTopic("before", 1, keep); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = openTest(t, opts)
	if _, err := e.CreateTopic("after", 2, keep); err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteTopic("before"); err != nil {
		t.Fatal(err)
	}
	p, _ := e.Partition("after", 1)
	if _, err := p.AppendDurable(context.Background(), valueBatch(t, "v", 3, 1)); err != nil {
		t.Fatal(err)
	}
	// A crash: no checkpoint, so the catalog file still holds "before".
	e.closed.Store(true)
	close(e.stop)
	e.wg.Wait()
	if err := e.log.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}

	e = openTest(t, opts)
	defer e.Close()
	topics := e.Topics()
	if len(topics) != 1 || topics[0].Name != "after" || topics[0].Partitions != 2 {
		t.Fatalf("topics after rebuild: %+v", topics)
	}
	p, _ = e.Partition("after", 1)
	if got := readAll(t, p, 0); len(got) != 3 {
		t.Fatalf("records after rebuild: %v", got)
	}
}
