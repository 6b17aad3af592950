package config

import (
	"fmt"
	"strings"
)

// DocPath is where the configuration's documentation lives, from the
// repository's root.
const DocPath = "docs/configuration.md"

// Markdown returns docs/configuration.md: how settings are given, and the
// table of every setting. A test keeps the file equal to it.
func Markdown() string {
	var b strings.Builder
	b.WriteString(docIntro)
	group := ""
	for _, s := range settings {
		if s.Group != group {
			group = s.Group
			fmt.Fprintf(&b, "\n### %s\n\n", group)
			b.WriteString("| YAML key | flag | environment | type | default | meaning |\n")
			b.WriteString("| --- | --- | --- | --- | --- | --- |\n")
		}
		def := "`" + s.Default + "`"
		if s.Default == "" {
			def = "empty"
		}
		fmt.Fprintf(&b, "| `%s` | `--%s` | `%s` | %s | %s | %s |\n",
			s.Key, s.Flag(), s.Env(), cell(s.Type), cell(def), cell(s.Usage))
	}
	return b.String()
}

// cell escapes text for a cell of a Markdown table.
func cell(text string) string { return strings.ReplaceAll(text, "|", `\|`) }

const docIntro = `# Configuration of weir serve

<!-- Generated from the table in internal/config/settings.go by
go test ./internal/config -run TestConfigurationDoc -update
Edit the table, not this file: the test fails when they differ. -->

Every setting of ` + "`weir serve`" + ` can be given in a YAML file, as an
environment variable and as a flag, under names derived from one key:

| | form | example |
| --- | --- | --- |
| YAML key | snake_case | ` + "`log_segment_bytes: 256MiB`" + ` |
| flag | the key with dashes | ` + "`--log-segment-bytes=256MiB`" + ` |
| environment | ` + "`WEIR_`" + ` and the key in capitals | ` + "`WEIR_LOG_SEGMENT_BYTES=256MiB`" + ` |

Keys are snake_case, like Redpanda's. Where Apache Kafka has a broker
config for the same thing, the key is Kafka's name with underscores for
dots: Kafka's ` + "`log.retention.ms`" + ` is ` + "`log_retention_ms`" + `.

**Precedence.** A flag beats an environment variable, which beats the
config file, which beats the default.

**The file.** ` + "`weir serve --config weir.yaml`" + `, or ` + "`WEIR_CONFIG=weir.yaml`" + `.
It is one YAML mapping of keys to values. A key that is no setting, a key
given twice, a list or mapping where a value belongs, and a bad value stop
the node before it starts, with the file and line. WEIR_* variables that
name no setting are ignored (other tools share the prefix). A relative
path in any of them is relative to the working directory, not to the file.

**Topic defaults** are the node's defaults of topic configs, under the
names of Kafka's broker configs that supply them (` + "`log_retention_ms`" + ` for
the topic config ` + "`retention.ms`" + `): a topic takes the node's default for
every config it does not set itself.

**Values.** Sizes (type bytes) are whole numbers of bytes, optionally with
a unit that is a power of 1024: ` + "`1048576`, `512KiB`, `128MiB`, `2GiB`, `1TiB`" + `.
Durations are Go's: ` + "`500ms`, `30s`, `5m`, `1h30m`" + `. Booleans are
` + "`true` or `false`" + `. A bad value is an error naming the setting, the value
and where it came from (` + "`flag --listen`, `environment WEIR_LISTEN`, `weir.yaml:3`" + `).

**What is in effect.** ` + "`weir serve --print-config`" + ` writes the configuration
that the file, the environment and the flags give, as a config file with a
comment on each setting, and exits. It is also a starting point for a file:

` + "```sh" + `
weir serve --print-config > weir.yaml    # edit, then
weir serve --config weir.yaml
` + "```" + `

` + "`weir serve --help`" + ` lists the flags, with their defaults and variables.

A file for a node that clients reach over the network, keeping data three
days:

` + "```yaml" + `
data_dir: /var/lib/weir
listen: :9092
advertised_host: weir-1.example.com
log_retention_ms: 259200000
metrics_listen: :9644
log_format: json
` + "```" + `

## Settings
`
