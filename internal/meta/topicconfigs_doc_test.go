package meta

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// docRow is a config's row in docs/topics.md.
func docRow(c TopicConfig) string {
	effect := "applied"
	if c.Effect == Kept {
		effect = "kept, no effect"
	}
	synonym := c.BrokerSynonym
	if synonym == "" {
		synonym = "-"
	}
	return fmt.Sprintf("| `%s` | %s | `%s` | `%s` | %s | %s |", c.Name, strings.ToLower(c.Type.String()), c.Default, synonym, effect, c.Doc)
}

// TestTopicConfigsDoc checks that docs/topics.md has a row for every topic
// config, as the table here describes it.
func TestTopicConfigsDoc(t *testing.T) {
	doc, err := os.ReadFile("../../docs/topics.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range topicConfigs {
		if row := docRow(c); !strings.Contains(string(doc), row+"\n") {
			t.Errorf("docs/topics.md lacks the row\n%s", row)
		}
	}
}
