package config

import (
	"errors"
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"
)

// applyFile applies the settings of a YAML config file to c. The file is
// one mapping of setting keys to scalar values; an unknown key, a repeated
// key, a value that is not a scalar and a bad value are errors naming the
// file and line.
//
// The file is read as YAML nodes and its keys looked up in the table,
// rather than decoded into a struct with yaml's KnownFields: the table is
// the only list of the settings, and the nodes give each error its line.
func applyFile(c *Config, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if doc.Kind == 0 {
		return nil // empty, or comments only
	}
	top := &doc
	if top.Kind == yaml.DocumentNode && len(top.Content) == 1 {
		top = top.Content[0]
	}
	if top.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: want a mapping of settings (key: value)", path, top.Line)
	}
	byKey := make(map[string]Setting, len(settings))
	for _, s := range settings {
		byKey[s.Key] = s
	}
	seen := make(map[string]int)
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		source := fmt.Sprintf("%s:%d", path, k.Line)
		s, ok := byKey[k.Value]
		if k.Kind != yaml.ScalarNode || !ok {
			return &Error{Source: source, Key: k.Value, Err: ErrUnknownSetting}
		}
		if line, dup := seen[k.Value]; dup {
			return &Error{Source: source, Key: k.Value, Err: fmt.Errorf("set already on line %d", line)}
		}
		seen[k.Value] = k.Line
		switch {
		case v.Kind != yaml.ScalarNode:
			return &Error{Source: source, Key: k.Value, Err: errors.New("want a single value, not a list or a mapping")}
		case v.Tag == "!!null":
			return &Error{Source: source, Key: k.Value, Value: v.Value, Err: errors.New(`no value (write "" for an empty one)`)}
		}
		if err := s.set(c, v.Value); err != nil {
			return &Error{Source: source, Key: k.Value, Value: v.Value, Err: err}
		}
	}
	return nil
}
