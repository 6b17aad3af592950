package broker

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestProtocolDoc checks that docs/protocol.md lists every API the broker
// serves, with the versions ApiVersions advertises, and no other.
func TestProtocolDoc(t *testing.T) {
	doc, err := os.ReadFile("../../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	b := startBroker(t, Config{})
	rows := 0
	for line := range strings.SplitSeq(string(doc), "\n") {
		if strings.HasPrefix(line, "| ") && !strings.HasPrefix(line, "| key") && !strings.HasPrefix(line, "| ---") {
			rows++
		}
	}
	for _, h := range b.handlers() {
		row := fmt.Sprintf("| %d | %s | %d-%d |", h.key, kmsg.NameForKey(h.key), h.min, h.max)
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/protocol.md has no row %q", row)
		}
	}
	if rows != len(b.handlers()) {
		t.Errorf("docs/protocol.md has %d rows for %d APIs", rows, len(b.handlers()))
	}
}
