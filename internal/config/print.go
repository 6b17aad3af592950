package config

import (
	"bytes"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// YAML returns c as a config file: every setting, in the table's order,
// each under a comment saying what it does. Applying the file gives c
// back.
func (c Config) YAML() []byte {
	top := &yaml.Node{Kind: yaml.MappingNode}
	group := ""
	for _, s := range settings {
		key := &yaml.Node{Kind: yaml.ScalarNode, Value: s.Key, HeadComment: wrap(s.Usage, 76, "")}
		if s.Group != group {
			group = s.Group
			key.HeadComment = "\n## " + group + "\n\n" + key.HeadComment
		}
		top.Content = append(top.Content, key, scalar(s.Type, s.get(&c)))
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{top},
		HeadComment: "Configuration of weir serve: every setting, with its value.\ndocs/configuration.md says more of each."}
	if err := enc.Encode(doc); err != nil {
		panic("config: encode: " + err.Error()) // a tree of scalars always encodes
	}
	enc.Close()
	return out.Bytes()
}

// scalar is a YAML scalar of a setting's value: a number or a boolean when
// the setting's type is one, quoted text when the text would read as
// something else.
func scalar(typ, value string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: value, Tag: "!!str"}
	switch typ {
	case "int":
		if _, err := strconv.ParseInt(value, 10, 64); err == nil {
			n.Tag = "!!int"
		}
	case "bool":
		n.Tag = "!!bool"
	case "ratio":
		if _, err := strconv.ParseFloat(value, 64); err == nil {
			n.Tag = "!!float"
		}
	case "bytes":
		if _, err := strconv.ParseInt(value, 10, 64); err == nil {
			n.Tag = "!!int"
		}
	}
	return n
}

// wrap breaks text into lines of at most width characters, each starting
// with prefix.
func wrap(text string, width int, prefix string) string {
	var lines []string
	line := prefix
	for _, word := range strings.Fields(text) {
		if len(line) > len(prefix) && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = prefix
		}
		if len(line) > len(prefix) {
			line += " "
		}
		line += word
	}
	return strings.Join(append(lines, line), "\n")
}
