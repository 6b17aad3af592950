package broker

// What the broker tells an Observer, and how it finds it out.
//
// The connection's handler goroutine times each handler call and, when it
// returns, reports the API key, the time taken and the error codes the
// response carries. Error codes are found generically, so that every
// handler is covered without code of its own: the first response of each
// type builds a plan of where its ErrorCode fields lie (in the response, in
// its arrays of topics, partitions ... at any depth), and later responses
// of the type follow the plan. Record bytes per topic come from the two
// APIs that carry records: a produce request's batches, counted for the
// partitions that stored them, and a fetch response's batches.

import (
	"reflect"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Observer is told what the broker serves, for metrics. Its methods are
// called from the connections' goroutines, concurrently and on the request
// path: they must be safe for concurrent use, cheap, and must not block.
type Observer interface {
	// ConnectionOpened and ConnectionClosed bracket each client
	// connection the broker accepts.
	ConnectionOpened()
	ConnectionClosed()
	// Served reports one request whose handler returned.
	Served(s Served)
	// TopicBytesIn reports n bytes of record batches that a produce
	// stored in topic; TopicBytesOut n bytes that a fetch returned from
	// it.
	TopicBytesIn(topic string, n int)
	TopicBytesOut(topic string, n int)
}

// Served describes one request served.
type Served struct {
	// Key is the request's API key.
	Key int16
	// Latency is the time its handler took, from the parsed request to the
	// response (a produce's wait for its fsync and a fetch's long poll
	// included; the wait for earlier responses of the connection not).
	Latency time.Duration
	// ErrorCodes are the distinct non-zero error codes of the response, at
	// any level (request, topic, partition); nil when there are none.
	ErrorCodes []int16
	// Failed: the handler returned an error and the connection was closed
	// instead of answering.
	Failed bool
}

// observeRequest tells the observer about a request whose handler returned
// resp (nil: nothing is sent) or err.
func (b *Broker) observeRequest(key int16, started time.Time, req kmsg.Request, resp kmsg.Response, err error) {
	obs := b.cfg.Observer
	if obs == nil {
		return
	}
	s := Served{Key: key, Latency: time.Since(started), Failed: err != nil}
	if err == nil && resp != nil {
		s.ErrorCodes = errorCodes(nil, resp)
	}
	obs.Served(s)
	if err != nil {
		return
	}
	switch req := req.(type) {
	case *kmsg.ProduceRequest:
		produced, _ := resp.(*kmsg.ProduceResponse)
		b.observeProduce(obs, req, produced)
	case *kmsg.FetchRequest:
		if fetched, ok := resp.(*kmsg.FetchResponse); ok {
			b.observeFetch(obs, fetched)
		}
	}
}

// observeProduce reports the bytes of the batches a produce stored: those
// of the partitions whose response has no error, or, for acks=0 (no
// response), of the topics that exist. Counting only stored bytes keeps the
// topic names reported to those of real topics.
func (b *Broker) observeProduce(obs Observer, req *kmsg.ProduceRequest, resp *kmsg.ProduceResponse) {
	for i, rt := range req.Topics {
		n := 0
		switch {
		case resp == nil:
			if _, err := b.engine.Topic(rt.Topic); err != nil {
				continue
			}
			for _, rp := range rt.Partitions {
				n += len(rp.Records)
			}
		case i < len(resp.Topics) && resp.Topics[i].Topic == rt.Topic:
			st := resp.Topics[i]
			for j, rp := range rt.Partitions {
				if j < len(st.Partitions) && st.Partitions[j].Partition == rp.Partition && st.Partitions[j].ErrorCode == 0 {
					n += len(rp.Records)
				}
			}
		}
		if n > 0 {
			obs.TopicBytesIn(rt.Topic, n)
		}
	}
}

// observeFetch reports the bytes of the batches a fetch returned.
func (b *Broker) observeFetch(obs Observer, resp *kmsg.FetchResponse) {
	for _, t := range resp.Topics {
		n := 0
		for _, p := range t.Partitions {
			n += len(p.RecordBatches)
		}
		if n == 0 {
			continue
		}
		if name := b.topicName(t.Topic, t.TopicID); name != "" {
			obs.TopicBytesOut(name, n)
		}
	}
}

// topicName returns name, or when it is empty (fetch versions 13 and
// later name topics by id only) the name of the topic with the id. The
// lookup lists the topics: it must become a map before those versions are
// served.
func (b *Broker) topicName(name string, id [16]byte) string {
	if name != "" || id == [16]byte{} {
		return name
	}
	for _, t := range b.engine.Topics() {
		if t.ID == id {
			return t.Name
		}
	}
	return ""
}

// errorCodes appends to dst the distinct non-zero error codes of resp.
func errorCodes(dst []int16, resp kmsg.Response) []int16 {
	v := reflect.ValueOf(resp)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return dst
	}
	return codePlanOf(v.Elem().Type()).walk(dst, v.Elem())
}

// codePlan says where a struct type's error codes lie: in its own
// ErrorCode field, and in the struct and slice-of-struct fields whose types
// have error codes.
type codePlan struct {
	codes  []int // indexes of int16 fields named ErrorCode
	nested []nestedCodes
}

// nestedCodes is a field of a struct type, itself a struct or a slice of
// structs, that holds error codes.
type nestedCodes struct {
	index int
	slice bool
	plan  *codePlan
}

var codePlans struct {
	sync.Mutex
	byType sync.Map // reflect.Type -> *codePlan, complete plans only
}

// codePlanOf returns the plan of struct type t, building it on first use.
func codePlanOf(t reflect.Type) *codePlan {
	if p, ok := codePlans.byType.Load(t); ok {
		return p.(*codePlan)
	}
	codePlans.Lock()
	defer codePlans.Unlock()
	building := make(map[reflect.Type]*codePlan)
	p := buildCodePlan(t, building)
	// Published once complete: readers do not lock.
	for bt, bp := range building {
		codePlans.byType.Store(bt, bp)
	}
	return p
}

// buildCodePlan builds the plan of struct type t and of the types within
// it, into building, which also ends the recursion of a type that contains
// itself.
// REQUIRES: codePlans is locked.
func buildCodePlan(t reflect.Type, building map[reflect.Type]*codePlan) *codePlan {
	if p, ok := codePlans.byType.Load(t); ok {
		return p.(*codePlan)
	}
	if p, ok := building[t]; ok {
		return p
	}
	p := &codePlan{}
	building[t] = p
	for i := range t.NumField() {
		f := t.Field(i)
		switch {
		case f.Name == "ErrorCode" && f.Type.Kind() == reflect.Int16:
			p.codes = append(p.codes, i)
		case f.Type.Kind() == reflect.Struct:
			if sub := buildCodePlan(f.Type, building); !sub.empty() {
				p.nested = append(p.nested, nestedCodes{index: i, plan: sub})
			}
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
			if sub := buildCodePlan(f.Type.Elem(), building); !sub.empty() {
				p.nested = append(p.nested, nestedCodes{index: i, slice: true, plan: sub})
			}
		}
	}
	return p
}

func (p *codePlan) empty() bool { return len(p.codes) == 0 && len(p.nested) == 0 }

// walk appends the distinct non-zero codes of v, a struct of the plan's
// type, to dst.
func (p *codePlan) walk(dst []int16, v reflect.Value) []int16 {
	for _, i := range p.codes {
		dst = appendCode(dst, int16(v.Field(i).Int()))
	}
	for _, n := range p.nested {
		f := v.Field(n.index)
		if !n.slice {
			dst = n.plan.walk(dst, f)
			continue
		}
		for j := range f.Len() {
			dst = n.plan.walk(dst, f.Index(j))
		}
	}
	return dst
}

func appendCode(dst []int16, code int16) []int16 {
	if code == 0 {
		return dst
	}
	for _, c := range dst {
		if c == code {
			return dst
		}
	}
	return append(dst, code)
}
