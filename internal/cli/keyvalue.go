package cli

import (
	"fmt"
	"strings"
)

// keyValue is one name=value pair given on the command line (--config,
// --header, --set).
type keyValue struct {
	key, value string
}

// parseKeyValues splits each "name=value" at its first "=": the value may
// hold further "=" and be empty, the name may not be empty.
func parseKeyValues(flag string, pairs []string) ([]keyValue, error) {
	out := make([]keyValue, 0, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--%s %q: want name=value", flag, p)
		}
		out = append(out, keyValue{k, v})
	}
	return out, nil
}
