package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// openMemory opens an in-memory DB closed at the end of the test.
func openMemory(t testing.TB) *DB {
	t.Helper()
	db, err := Open("", Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// recorder keeps the changes reported to its log, copied.
type recorder struct{ changes []Change }

func (r *recorder) log(c Change) {
	r.changes = append(r.changes, Change{Key: bytes.Clone(c.Key), Value: cloneNil(c.Value), Timestamp: c.Timestamp})
}

// take returns the changes recorded since the last take.
func (r *recorder) take() []Change {
	c := r.changes
	r.changes = nil
	return c
}

// cloneNil copies b, keeping nil apart from empty.
func cloneNil(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// checkChanges fails the test unless got is want, nil values apart from
// empty ones.
func checkChanges(t *testing.T, got, want []Change) {
	t.Helper()
	if !slices.EqualFunc(got, want, func(a, b Change) bool {
		return bytes.Equal(a.Key, b.Key) && bytes.Equal(a.Value, b.Value) &&
			(a.Value == nil) == (b.Value == nil) && a.Timestamp == b.Timestamp
	}) {
		t.Fatalf("changes:\n got %s\nwant %s", formatChanges(got), formatChanges(want))
	}
}

func formatChanges(cs []Change) string {
	var parts []string
	for _, c := range cs {
		v := "nil"
		if c.Value != nil {
			v = fmt.Sprintf("%q", c.Value)
		}
		parts = append(parts, fmt.Sprintf("{%q %s @%d}", c.Key, v, c.Timestamp))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// be8 is t as 8 big-endian bytes, as changelog keys end.
func be8(t int64) string {
	var b [8]byte
	for i := range 8 {
		b[i] = byte(uint64(t) >> (56 - 8*i))
	}
	return string(b[:])
}

// rawCount counts the Pebble keys starting with prefix.
func rawCount(t *testing.T, db *DB, prefix []byte) int {
	t.Helper()
	it, err := db.pebble.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for it.First(); it.Valid(); it.Next() {
		n++
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	return n
}

// restoreAll restores changes into a store by its Restore.
func restoreAll(t *testing.T, restore func(Change) error, changes []Change) {
	t.Helper()
	for _, c := range changes {
		if err := restore(c); err != nil {
			t.Fatalf("restore %s: %v", formatChanges([]Change{c}), err)
		}
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
