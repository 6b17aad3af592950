package compat

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"text/template"
)

var writeDoc = flag.Bool("doc", false, "rewrite ../../docs/compatibility.md from the outcomes of this run")

// docPath is docs/compatibility.md, from this package's directory.
const docPath = "../../docs/compatibility.md"

// clientOrder is the order of the table's columns.
var clientOrder = []string{"kcat", "confluent-kafka", "kafka-python", "franz-go", "sarama", "kafka-go", "kafkajs"}

type status int

const (
	notRun status = iota
	passes
	notSupported
	fails
	// notTested: the client can, but the suite does not run it (the note
	// says why).
	notTested
)

// outcome is how one feature went for one client.
type outcome struct {
	status status
	note   string
}

// outcomes are what this run's tests found, for the table.
var outcomes = struct {
	sync.Mutex
	byClient map[string]map[string]outcome
	versions map[string]string
}{byClient: map[string]map[string]outcome{}, versions: map[string]string{}}

func recordOutcome(client, feature string, o outcome) {
	outcomes.Lock()
	defer outcomes.Unlock()
	if outcomes.byClient[client] == nil {
		outcomes.byClient[client] = map[string]outcome{}
	}
	outcomes.byClient[client][feature] = o
}

func recordVersion(client, version string) {
	outcomes.Lock()
	defer outcomes.Unlock()
	outcomes.versions[client] = version
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	removeWeirBinary()
	if *writeDoc {
		if err := os.WriteFile(docPath, renderDoc(), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// tableRows are the features of the table, in order: the suite's, then
// the group scenario's.
func tableRows() []string {
	var rows []string
	for _, f := range features() {
		rows = append(rows, f.name)
	}
	return append(rows, groupRows()...)
}

// renderDoc fills testdata/compatibility.md.tmpl with the table of
// outcomes: a row per feature, a column per client, and the notes the
// cells refer to, numbered.
func renderDoc() []byte {
	outcomes.Lock()
	defer outcomes.Unlock()
	var (
		table   strings.Builder
		notes   []string
		noteNum = map[string]int{}
	)
	ref := func(note string) string {
		if note == "" {
			return ""
		}
		n, ok := noteNum[note]
		if !ok {
			notes = append(notes, note)
			n = len(notes)
			noteNum[note] = n
		}
		return fmt.Sprintf(" [%d]", n)
	}
	table.WriteString("| feature |")
	for _, c := range clientOrder {
		fmt.Fprintf(&table, " %s |", c)
	}
	table.WriteString("\n| --- |" + strings.Repeat(" --- |", len(clientOrder)) + "\n")
	for _, row := range tableRows() {
		fmt.Fprintf(&table, "| `%s` |", row)
		for _, c := range clientOrder {
			o, ran := outcomes.byClient[c][row]
			switch {
			case !ran:
				table.WriteString(" not run |")
			case o.status == passes:
				fmt.Fprintf(&table, " pass%s |", ref(o.note))
			case o.status == notSupported:
				fmt.Fprintf(&table, " not supported%s |", ref(o.note))
			case o.status == notTested:
				fmt.Fprintf(&table, " not tested%s |", ref(o.note))
			default:
				fmt.Fprintf(&table, " **fails**%s |", ref(o.note))
			}
		}
		table.WriteString("\n")
	}
	var noteList strings.Builder
	for i, n := range notes {
		fmt.Fprintf(&noteList, "%d. %s\n", i+1, strings.ReplaceAll(n, "\n", " "))
	}
	var versions strings.Builder
	for _, c := range clientOrder {
		v := outcomes.versions[c]
		if v == "" {
			v = "not run"
		}
		fmt.Fprintf(&versions, "| %s | %s |\n", c, v)
	}
	tmpl := template.Must(template.ParseFiles("testdata/compatibility.md.tmpl"))
	var out bytes.Buffer
	if err := tmpl.Execute(&out, map[string]string{
		"Table": table.String(), "Notes": noteList.String(), "Versions": versions.String(),
	}); err != nil {
		panic(err)
	}
	return out.Bytes()
}
