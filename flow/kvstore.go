package flow

import "fmt"

// StoreRef names a store that operators can be given (WithStores).
type StoreRef interface {
	// StoreName returns the store's name.
	StoreName() string
}

// StoreContext is where a store is used: a ProcessorContext.
type StoreContext interface {
	storeOf(name string) (*taskStore, error)
}

// KeyValueStore is a key-value store declared for processors: typed keys
// and values, kept in the task's local state (Pebble, or memory with
// InMemory) and backed by a compacted changelog topic
// "<application id>-<name>-changelog". Declare it with NewKeyValueStore,
// attach it to the processors that use it (WithStores), and reach it from
// their context with In.
type KeyValueStore[K, V any] struct {
	name string
	kc   Codec[K]
	vc   Codec[V]
}

// NewKeyValueStore declares a key-value store. Options: InMemory.
func NewKeyValueStore[K, V any](t *Topology, name string, kc Codec[K], vc Codec[V], opts ...Option) KeyValueStore[K, V] {
	o := collect(opts)
	if kc == nil || vc == nil {
		t.fail(fmt.Errorf("flow: store %s: %w", name, errNilCodec))
	}
	def := t.addStore(name, keyValueStore, true)
	def.cached = true
	def.inMemory = o.inMemory
	return KeyValueStore[K, V]{name: name, kc: kc, vc: vc}
}

// StoreName returns the store's name.
func (s KeyValueStore[K, V]) StoreName() string { return s.name }

// In returns the store of the task a processor runs in.
func (s KeyValueStore[K, V]) In(ctx StoreContext) KeyValueView[K, V] {
	st, err := ctx.storeOf(s.name)
	return KeyValueView[K, V]{s: st, err: err, kc: s.kc, vc: s.vc}
}

// KeyValueView is a task's key-value store as a processor uses it. Keys
// are ordered by their encoded bytes.
type KeyValueView[K, V any] struct {
	s   *taskStore
	err error
	kc  Codec[K]
	vc  Codec[V]
}

// Get returns key's value and whether it has one.
func (v KeyValueView[K, V]) Get(key K) (V, bool, error) {
	var zero V
	if v.err != nil {
		return zero, false, v.err
	}
	k, err := v.encodeKey(key)
	if err != nil {
		return zero, false, err
	}
	raw, found, err := v.s.get(k)
	if err != nil || !found {
		return zero, false, err
	}
	value, err := v.vc.Decode(raw)
	if err != nil {
		return zero, false, fmt.Errorf("store %s: decode: %w", v.s.def.name, err)
	}
	return value, true, nil
}

// Put sets key's value.
func (v KeyValueView[K, V]) Put(key K, value V) error {
	if v.err != nil {
		return v.err
	}
	k, err := v.encodeKey(key)
	if err != nil {
		return err
	}
	raw, err := v.vc.Encode(value)
	if err != nil {
		return fmt.Errorf("store %s: encode: %w", v.s.def.name, err)
	}
	if raw == nil {
		raw = []byte{}
	}
	return v.s.put(k, raw)
}

// Delete deletes key.
func (v KeyValueView[K, V]) Delete(key K) error {
	if v.err != nil {
		return v.err
	}
	k, err := v.encodeKey(key)
	if err != nil {
		return err
	}
	return v.s.put(k, nil)
}

// encodeKey encodes a key for the store.
func (v KeyValueView[K, V]) encodeKey(key K) ([]byte, error) {
	k, err := v.kc.Encode(key)
	if err != nil {
		return nil, fmt.Errorf("store %s: encode key: %w", v.s.def.name, err)
	}
	return k, nil
}

// Range calls fn with the entries whose encoded keys are at or after
// from's and before to's, in order, until fn returns false. All is the
// whole store.
func (v KeyValueView[K, V]) Range(from, to K, fn func(K, V) bool) error {
	if v.err != nil {
		return v.err
	}
	f, err := v.kc.Encode(from)
	if err != nil {
		return err
	}
	t, err := v.kc.Encode(to)
	if err != nil {
		return err
	}
	return v.scan(f, append([]byte{}, t...), fn)
}

// All calls fn with every entry, in key order, until fn returns false.
func (v KeyValueView[K, V]) All(fn func(K, V) bool) error {
	if v.err != nil {
		return v.err
	}
	return v.scan(nil, nil, fn)
}

// scan decodes the entries of a range of encoded keys.
func (v KeyValueView[K, V]) scan(from, to []byte, fn func(K, V) bool) error {
	if err := v.s.flush(); err != nil {
		return err
	}
	var decodeErr error
	err := v.s.kv.Range(from, to, func(kb, vb []byte) bool {
		k, err := v.kc.Decode(kb)
		if err != nil {
			decodeErr = fmt.Errorf("store %s: decode key: %w", v.s.def.name, err)
			return false
		}
		val, err := v.vc.Decode(vb)
		if err != nil {
			decodeErr = fmt.Errorf("store %s: decode: %w", v.s.def.name, err)
			return false
		}
		return fn(k, val)
	})
	if err != nil {
		return err
	}
	return decodeErr
}
