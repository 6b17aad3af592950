package nexmark

import (
	"fmt"
	"slices"
	"strings"

	"github.com/weir-io/weir/flow"
	model "github.com/weir-io/weir/flow/nexmark"
)

// A Query is one of the benchmark's queries as this package builds,
// reads and checks it.
type Query struct {
	// Name is "q0" to "q8".
	Name string
	// Topology builds the query's topology.
	Topology func(Config) *flow.Topology
	// Table is set when the output is a table, whose latest row per key
	// is the answer (a later row replaces an earlier one); otherwise
	// every output record is a row of the answer.
	Table bool
	// Rows decodes the output records, in the order they were written,
	// into the answer they make: its rows formatted with %+v, sorted.
	Rows func(records []Record) ([]string, error)
	// Expected is the answer, formatted as Rows formats it, that the
	// topology has written once it has processed events from one input
	// partition, computed by flow/nexmark's reference query over the
	// same events, closed at the watermark the topology's operators have
	// reached (see expected.go).
	Expected func(events []model.Event, cfg Config) []string
	// ExpectedAtEnd is the answer, formatted as Rows formats it, that the
	// topology has written once its input has ended (TestDriver.EndInput,
	// a run in batch mode): the reference query with every window closed
	// and every auction settled (model.EndOfInput; see expected_at_end.go).
	ExpectedAtEnd func(events []model.Event) []string
}

// Record is an output record: its key and value as written.
type Record struct {
	Key, Value []byte
}

// Queries are the queries this package runs, in order.
var Queries = []Query{
	{Name: "q0", Topology: Q0, Rows: streamRows(BidCodec()), Expected: expectQ0, ExpectedAtEnd: atEndQ0},
	{Name: "q1", Topology: Q1, Rows: streamRows(BidCodec()), Expected: expectQ1, ExpectedAtEnd: atEndQ1},
	{Name: "q2", Topology: Q2, Rows: streamRows(Q2Codec()), Expected: expectQ2, ExpectedAtEnd: atEndQ2},
	{Name: "q3", Topology: Q3, Table: true, Rows: tableRows(Q3Codec()), Expected: expectQ3, ExpectedAtEnd: atEndQ3},
	{Name: "q4", Topology: Q4, Table: true, Rows: tableRows(Q4Codec()), Expected: expectQ4, ExpectedAtEnd: atEndQ4},
	{Name: "q5", Topology: Q5, Rows: streamRows(Q5Codec()), Expected: expectQ5, ExpectedAtEnd: atEndQ5},
	{Name: "q6", Topology: Q6, Table: true, Rows: tableRows(Q6Codec()), Expected: expectQ6, ExpectedAtEnd: atEndQ6},
	{Name: "q7", Topology: Q7, Rows: streamRows(Q7Codec()), Expected: expectQ7, ExpectedAtEnd: atEndQ7},
	{Name: "q8", Topology: Q8, Rows: streamRows(Q8Codec()), Expected: expectQ8, ExpectedAtEnd: atEndQ8},
}

// Lookup returns the query named name ("q0" ... "q8").
func Lookup(name string) (Query, error) {
	for _, q := range Queries {
		if q.Name == name {
			return q, nil
		}
	}
	names := make([]string, len(Queries))
	for i, q := range Queries {
		names[i] = q.Name
	}
	return Query{}, fmt.Errorf("nexmark: no query %q (there are %s)", name, strings.Join(names, ", "))
}

// streamRows reads a stream of rows: every record's value is one.
func streamRows[T any](vc flow.Codec[T]) func([]Record) ([]string, error) {
	return func(records []Record) ([]string, error) {
		rows := make([]string, 0, len(records))
		for i, r := range records {
			row, err := vc.Decode(r.Value)
			if err != nil {
				return nil, fmt.Errorf("output record %d: %w", i, err)
			}
			rows = append(rows, fmt.Sprintf("%+v", row))
		}
		slices.Sort(rows)
		return rows, nil
	}
}

// tableRows reads a table of rows: the latest value of each key is a
// row, a null value deletes the key.
func tableRows[T any](vc flow.Codec[T]) func([]Record) ([]string, error) {
	return func(records []Record) ([]string, error) {
		latest := map[string]string{}
		for i, r := range records {
			if r.Value == nil {
				delete(latest, string(r.Key))
				continue
			}
			row, err := vc.Decode(r.Value)
			if err != nil {
				return nil, fmt.Errorf("output record %d: %w", i, err)
			}
			latest[string(r.Key)] = fmt.Sprintf("%+v", row)
		}
		rows := make([]string, 0, len(latest))
		for _, row := range latest {
			rows = append(rows, row)
		}
		slices.Sort(rows)
		return rows, nil
	}
}

// format formats rows as Query.Rows does.
func format[T any](rows []T) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = fmt.Sprintf("%+v", r)
	}
	slices.Sort(out)
	return out
}
