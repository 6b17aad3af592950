package flow

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
)

// JoinForeignKey joins a table with another by a foreign key (inner
// join): each entry of the left table whose foreign key, fk of its value,
// is a key of the right table, joined with that entry by f. The result, a
// table with the left table's keys, follows updates of either side. The
// tables need not be co-partitioned: the left table's entries subscribe
// to their foreign keys through an internal topic partitioned like the
// right table ("<app>-<name>-subscription-repartition"), and answers come
// back through one partitioned like the left
// ("<app>-<name>-response-repartition"); an answer for a left value that
// has changed since is dropped. Both tables must be materialized (TableOf,
// an aggregation, Materialize). The result is kept in a store named after
// the operator. Options: Named, WithValueCodec (the result's).
func JoinForeignKey[K, V, KO, VO, VR any](left Table[K, V], right Table[KO, VO], fk func(V) KO, f func(K, V, VO) VR, opts ...Option) Table[K, VR] {
	return foreignKeyJoin(left, right, fk, func(k K, v V, vo VO, found bool) (VR, bool) {
		if !found {
			var zero VR
			return zero, false
		}
		return f(k, v, vo), true
	}, opts)
}

// LeftJoinForeignKey is JoinForeignKey whose result has every key of the
// left table: f gets found false and the zero VO when the foreign key is
// not in the right table.
func LeftJoinForeignKey[K, V, KO, VO, VR any](left Table[K, V], right Table[KO, VO], fk func(V) KO, f func(k K, v V, vo VO, found bool) VR, opts ...Option) Table[K, VR] {
	return foreignKeyJoin(left, right, fk, func(k K, v V, vo VO, found bool) (VR, bool) { return f(k, v, vo, found), true }, opts)
}

// subscription is what the subscription topic carries, keyed by the
// foreign key: a left key subscribing to it (or no longer), with the hash
// of the left value it subscribes for. Encoded as
//
//	version (1 byte, 0) | op (1 byte: 0 subscribe, 1 unsubscribe)
//	| hash (8 bytes, big-endian) | the left key, encoded
type subscription struct {
	unsubscribe bool
	hash        uint64
	leftKey     []byte
}

// fkResponse is what the response topic carries, keyed by the left key:
// the right value its foreign key has now, for the left value of hash.
// Encoded as
//
//	version (1 byte, 0) | hash (8 bytes, big-endian)
//	| found (1 byte: 0 or 1) | the right value, encoded
type fkResponse struct {
	hash  uint64
	found bool
	right []byte
}

var errBadInternal = errors.New("flow: a malformed record of a foreign-key join's internal topic")

func encodeSubscription(s subscription) []byte {
	b := []byte{0, 0}
	if s.unsubscribe {
		b[1] = 1
	}
	b = binary.BigEndian.AppendUint64(b, s.hash)
	return append(b, s.leftKey...)
}

func decodeSubscription(b []byte) (subscription, error) {
	if len(b) < 10 || b[0] != 0 || b[1] > 1 {
		return subscription{}, errBadInternal
	}
	return subscription{unsubscribe: b[1] == 1, hash: binary.BigEndian.Uint64(b[2:10]), leftKey: b[10:]}, nil
}

func encodeResponse(r fkResponse) []byte {
	b := binary.BigEndian.AppendUint64([]byte{0}, r.hash)
	if r.found {
		return append(append(b, 1), r.right...)
	}
	return append(b, 0)
}

func decodeResponse(b []byte) (fkResponse, error) {
	if len(b) < 10 || b[0] != 0 || b[9] > 1 || (b[9] == 0 && len(b) > 10) {
		return fkResponse{}, errBadInternal
	}
	return fkResponse{hash: binary.BigEndian.Uint64(b[1:9]), found: b[9] == 1, right: b[10:]}, nil
}

// valueHash is the hash of a left value's encoding that ties answers to
// the value they were asked for.
func valueHash(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// subscriptionKey is the key of a subscription in the subscriptions store:
// the foreign key's length (uvarint), the foreign key, the left key; so
// that a prefix finds a foreign key's subscribers.
func subscriptionKey(fk, leftKey []byte) []byte {
	b := binary.AppendUvarint(nil, uint64(len(fk)))
	return append(append(b, fk...), leftKey...)
}

// rawRecord is a record of an internal topic: its key's and value's
// bytes, decoded by the operator that reads it.
type rawRecord struct{ key, value []byte }

func rawDecoder(key, value []byte) (any, any, error) { return nil, rawRecord{key, value}, nil }

// foreignKeyJoin adds the operators of a foreign-key join: below the left
// table, one that subscribes and unsubscribes its entries; below the
// subscription topic, one that records subscriptions and answers them;
// below the right table, one that answers its updates' subscribers; below
// the response topic, one that joins each answer with the current left
// value.
func foreignKeyJoin[K, V, KO, VO, VR any](l Table[K, V], r Table[KO, VO], fk func(V) KO, f func(K, V, VO, bool) (VR, bool), opts []Option) Table[K, VR] {
	o := collect(opts)
	t := l.t
	leftStore, rightStore := tableStore(l), tableStore(r)
	if leftStore == "" || rightStore == "" {
		t.fail(fmt.Errorf("flow: foreign-key join of tables %s and %s: both must be materialized (TableOf, an aggregation, Materialize)", l.n.name, r.n.name))
	}
	lkc, lvc, rkc, rvc := l.kc, l.vc, r.kc, r.vc
	if lkc == nil || lvc == nil || rkc == nil || rvc == nil {
		t.fail(fmt.Errorf("flow: foreign-key join of tables %s and %s: %w", l.n.name, r.n.name, errNilCodec))
	}
	rc := codecOf[VR](t, o.valueCodec, nil, "value")
	if rc == nil {
		t.fail(fmt.Errorf("flow: foreign-key join of tables %s and %s: %w (WithValueCodec)", l.n.name, r.n.name, errNilCodec))
	}
	out := t.add(kindForeignKeyJoin, o.name, nil, passThrough)
	name := out.name
	resultStore, subStore := name, name+"-subscriptions"
	t.addStore(resultStore, keyValueStore, true)
	t.addStore(subStore, keyValueStore, true)

	// internal adds the sink and source of an internal topic, the sink
	// sending rawRecords as they are.
	internal := func(topic string, parents ...*node) (sink, src *node) {
		sink = t.add(kindRepartitionSink, topic, parents, func(*task, *node) (procFunc, error) {
			return func(tk *task, r rec) error {
				raw := r.value.(rawRecord)
				return tk.send(topic, true, -1, raw.key, raw.value, r)
			}, nil
		})
		sink.sinkTopic, sink.repartition = topic, true
		src = t.add(kindRepartitionSrc, topic+"-source", []*node{sink}, passThrough)
		src.topics, src.repartition, src.decode = []string{topic}, true, rawDecoder
		t.sources[topic] = src
		return sink, src
	}
	link := func(from, to *node) {
		from.children = append(from.children, to)
		to.parents = append(to.parents, from)
	}

	// Below the left table: subscribe to the new foreign key, unsubscribe
	// from the old; a deleted entry deletes its result.
	subscribe := t.add(kindForeignKeySubscribe, name+"-subscribe", []*node{l.n}, nil)
	subscribe.stores = []string{leftStore, resultStore}
	subSink, subSrc := internal(name+"-subscription", subscribe)
	link(subscribe, out)
	subscribe.newProc = func(tk *task, n *node) (procFunc, error) {
		left, results := tk.stores[leftStore], tk.stores[resultStore]
		return func(tk *task, r rec) error {
			c := r.value.(change)
			key, err := lkc.Encode(as[K](r.key))
			if err != nil {
				return fmt.Errorf("join %s: encode key: %w", name, err)
			}
			var oldFK, newFK []byte
			if c.hasOld {
				if oldFK, err = rkc.Encode(fk(as[V](c.old))); err != nil {
					return fmt.Errorf("join %s: encode foreign key: %w", name, err)
				}
			}
			if c.hasNew {
				if newFK, err = rkc.Encode(fk(as[V](c.new))); err != nil {
					return fmt.Errorf("join %s: encode foreign key: %w", name, err)
				}
			}
			if c.hasOld && (!c.hasNew || !bytes.Equal(oldFK, newFK)) {
				sub := rawRecord{oldFK, encodeSubscription(subscription{unsubscribe: true, leftKey: key})}
				if err := tk.process(subSink, rec{value: sub, ts: r.ts}); err != nil {
					return err
				}
			}
			if c.hasNew {
				raw, _, err := left.get(key)
				if err != nil {
					return err
				}
				sub := rawRecord{newFK, encodeSubscription(subscription{hash: valueHash(raw), leftKey: key})}
				return tk.process(subSink, rec{value: sub, ts: r.ts})
			}
			return setResult(tk, out, results, rc, r, key, nil, false)
		}, nil
	}

	// Below the subscription topic: record it, answer with the right
	// value now.
	answer := t.add(kindForeignKeySubscriptions, name+"-subscriptions", []*node{subSrc}, nil)
	answer.stores = []string{subStore, rightStore}
	// Below the right table: answer the subscribers of an update.
	notify := t.add(kindForeignKeySubscriptions, name+"-notify", []*node{r.n}, nil)
	notify.stores = []string{subStore}
	respSink, respSrc := internal(name+"-response", answer, notify)
	answer.newProc = func(tk *task, n *node) (procFunc, error) {
		subs, right := tk.stores[subStore], tk.stores[rightStore]
		return func(tk *task, r rec) error {
			raw := r.value.(rawRecord)
			s, err := decodeSubscription(raw.value)
			if err != nil {
				return &recordError{err: err}
			}
			sk := subscriptionKey(raw.key, s.leftKey)
			if s.unsubscribe {
				return subs.put(sk, nil)
			}
			if err := subs.put(sk, binary.BigEndian.AppendUint64(nil, s.hash)); err != nil {
				return err
			}
			value, found, err := right.get(raw.key)
			if err != nil {
				return err
			}
			resp := rawRecord{s.leftKey, encodeResponse(fkResponse{hash: s.hash, found: found, right: value})}
			return tk.process(respSink, rec{value: resp, ts: r.ts})
		}, nil
	}
	notify.newProc = func(tk *task, n *node) (procFunc, error) {
		subs := tk.stores[subStore]
		return func(tk *task, r rec) error {
			c := r.value.(change)
			key, err := rkc.Encode(as[KO](r.key))
			if err != nil {
				return fmt.Errorf("join %s: encode key: %w", name, err)
			}
			var value []byte
			if c.hasNew {
				if value, err = rvc.Encode(as[VO](c.new)); err != nil {
					return fmt.Errorf("join %s: encode: %w", name, err)
				}
			}
			prefix := subscriptionKey(key, nil)
			var resps []rawRecord
			err = subs.kv.PrefixScan(prefix, func(k, v []byte) bool {
				if len(v) == 8 {
					resp := fkResponse{hash: binary.BigEndian.Uint64(v), found: c.hasNew, right: value}
					resps = append(resps, rawRecord{append([]byte(nil), k[len(prefix):]...), encodeResponse(resp)})
				}
				return true
			})
			if err != nil {
				return err
			}
			for _, resp := range resps {
				if err := tk.process(respSink, rec{value: resp, ts: r.ts}); err != nil {
					return err
				}
			}
			return nil
		}, nil
	}

	// Below the response topic: join the answer with the left value, if
	// it is still the one asked for.
	resolve := t.add(kindForeignKeyJoin, name+"-resolve", []*node{respSrc}, nil)
	resolve.stores = []string{leftStore, resultStore}
	link(resolve, out)
	resolve.newProc = func(tk *task, n *node) (procFunc, error) {
		left, results := tk.stores[leftStore], tk.stores[resultStore]
		return func(tk *task, r rec) error {
			raw := r.value.(rawRecord)
			resp, err := decodeResponse(raw.value)
			if err != nil {
				return &recordError{err: err}
			}
			current, found, err := left.get(raw.key)
			if err != nil || !found || valueHash(current) != resp.hash {
				return err // deleted or changed since: a newer answer comes
			}
			k, err := lkc.Decode(raw.key)
			if err != nil {
				return fmt.Errorf("join %s: decode key: %w", name, err)
			}
			v, err := lvc.Decode(current)
			if err != nil {
				return fmt.Errorf("join %s: decode: %w", name, err)
			}
			var vo VO
			if resp.found {
				if vo, err = rvc.Decode(resp.right); err != nil {
					return fmt.Errorf("join %s: decode the right value: %w", name, err)
				}
			}
			result, ok := f(k, v, vo, resp.found)
			r.key = k
			return setResult(tk, n, results, rc, r, raw.key, any(result), ok)
		}, nil
	}
	return Table[K, VR]{t: t, n: out, kc: lkc, vc: rc}
}

// setResult sets (ok) or deletes a key's result in a join's result store
// and forwards the change from n, if there is one.
func setResult[VR any](tk *task, n *node, results *taskStore, rc Codec[VR], r rec, key []byte, result any, ok bool) error {
	if !ok {
		result = nil
	}
	c, err := replace(results, key, result, rc)
	if err != nil || (!c.hasOld && !c.hasNew) {
		return err
	}
	r.value = c
	return tk.forward(n, r)
}
