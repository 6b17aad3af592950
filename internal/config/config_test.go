package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/weir-io/weir/internal/broker"
	"github.com/weir-io/weir/internal/group"
	"github.com/weir-io/weir/internal/group/consumer"
	"github.com/weir-io/weir/internal/storage"
	"github.com/weir-io/weir/internal/storage/commitlog"
	"github.com/weir-io/weir/internal/txn"
)

func init() {
	homeDir = func() (string, error) { return "/home/test", nil }
}

// load parses args as flags and loads with env as the environment.
func load(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	flags := AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	return flags.Load(func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	})
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "weir.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDefaults(t *testing.T) {
	c, err := load(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantBroker := broker.Config{Listen: "127.0.0.1:9092", NodeID: 1, ClusterID: "weir",
		MaxRequestBytes: 104857600, DefaultPartitions: 1, Groups: &group.Config{
			InitialRebalanceDelay: 3 * time.Second, MinSessionTimeout: 6 * time.Second, MaxSessionTimeout: 30 * time.Minute,
			OffsetsRetention: 7 * 24 * time.Hour, OffsetsRetentionCheckInterval: 10 * time.Minute, OffsetMetadataMaxBytes: 4096,
			Consumer: consumer.Config{SessionTimeout: 45 * time.Second, HeartbeatInterval: 5 * time.Second, Assignors: []string{"uniform", "range"}},
		},
		Transactions:       txn.Config{MaxTimeout: 15 * time.Minute, IDExpiration: 7 * 24 * time.Hour},
		TransactionVersion: 2,
	}
	if got := c.Broker(); !reflect.DeepEqual(got, wantBroker) {
		t.Errorf("broker config\n got %+v\nwant %+v", got, wantBroker)
	}
	wantStorage := storage.Options{
		Dir:                "/home/test/.weir/data",
		Durability:         commitlog.Durability{Mode: commitlog.Durable},
		SegmentSize:        commitlog.DefaultSegmentSize,
		PageCacheWindow:    commitlog.DefaultPageCacheWindow,
		CheckpointInterval: 30 * time.Second,
		CheckpointBytes:    256 << 20,
		CleanerInterval:    30 * time.Second,
		TopicDefaults:      storage.DefaultTopicConfig(),
		MinFreeBytes:       64 << 20,
		IndexCacheBytes:    64 << 20,
		ProducerExpiration: 24 * time.Hour,
	}
	if got := c.Storage(); !reflect.DeepEqual(got, wantStorage) {
		t.Errorf("storage options\n got %+v\nwant %+v", got, wantStorage)
	}
	if c.MetricsListen != "127.0.0.1:9644" || c.LogLevel != "info" || c.LogFormat != "text" {
		t.Errorf("operations: %q %q %q", c.MetricsListen, c.LogLevel, c.LogFormat)
	}
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, `
# A comment.
listen: 127.0.0.1:1001
node_id: 7
num_partitions: 3
log_segment_bytes: 64MiB
`)
	env := map[string]string{
		"WEIR_NODE_ID":        "8",
		"WEIR_NUM_PARTITIONS": "4",
		"WEIR_LOG_LEVEL":      "debug",
		"WEIR_UNRELATED":      "ignored",
	}
	args := []string{"--config", file, "--num-partitions", "5", "--auto-create-topics-enable=false"}
	c, err := load(t, args, env)
	if err != nil {
		t.Fatal(err)
	}
	for _, check := range []struct {
		what      string
		got, want any
	}{
		{"listen from the file", c.Listen, "127.0.0.1:1001"},
		{"segment size from the file", c.LogSegmentBytes, int64(64 << 20)},
		{"node id: environment over file", c.NodeID, int32(8)},
		{"log level from the environment", c.LogLevel, "debug"},
		{"partitions: flag over environment over file", c.NumPartitions, int32(5)},
		{"auto-create from the flag", c.AutoCreateTopics, false},
		{"cluster id by default", c.ClusterID, "weir"},
	} {
		if check.got != check.want {
			t.Errorf("%s: %v, want %v", check.what, check.got, check.want)
		}
	}

	// WEIR_CONFIG names the file when --config does not.
	c, err = load(t, nil, map[string]string{"WEIR_CONFIG": file})
	if err != nil || c.NodeID != 7 {
		t.Errorf("file from WEIR_CONFIG: node id %d, %v", c.NodeID, err)
	}
	// A bool flag alone is true.
	c, err = load(t, []string{"--auto-create-topics-enable"}, map[string]string{"WEIR_AUTO_CREATE_TOPICS_ENABLE": "false"})
	if err != nil || !c.AutoCreateTopics {
		t.Errorf("--auto-create-topics-enable over the environment: %v, %v", c.AutoCreateTopics, err)
	}
	// An empty variable sets an empty value.
	c, err = load(t, nil, map[string]string{"WEIR_METRICS_LISTEN": ""})
	if err != nil || c.MetricsListen != "" {
		t.Errorf("empty WEIR_METRICS_LISTEN: %q, %v", c.MetricsListen, err)
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		file string // the config file's text, if any
		env  map[string]string
		args []string
		want []string // in the error's text
	}{
		{name: "unknown key", file: "listen: :9092\nlisen: :9093\n",
			want: []string{"weir.yaml:2", `unknown setting "lisen"`}},
		{name: "key twice", file: "node_id: 1\nnode_id: 2\n",
			want: []string{"weir.yaml:2", "node_id", "already on line 1"}},
		{name: "bad value in the file", file: "\n\nlog_segment_bytes: 12 apples\n",
			want: []string{"weir.yaml:3", `log_segment_bytes "12 apples"`, "bytes"}},
		{name: "list for a value", file: "listen: [a, b]\n",
			want: []string{"weir.yaml:1", "listen", "single value"}},
		{name: "no value", file: "advertised_host:\n",
			want: []string{"weir.yaml:1", "advertised_host", "no value"}},
		{name: "not a mapping", file: "- listen\n",
			want: []string{"weir.yaml:1", "mapping"}},
		{name: "not YAML", file: "listen: :9092\n  node_id: [\n",
			want: []string{"weir.yaml", "yaml"}},
		{name: "bad value in the environment", env: map[string]string{"WEIR_LISTEN": "nowhere"},
			want: []string{"environment WEIR_LISTEN", `listen "nowhere"`, "host:port"}},
		{name: "out of range in the environment", env: map[string]string{"WEIR_NUM_PARTITIONS": "0"},
			want: []string{"environment WEIR_NUM_PARTITIONS", "num_partitions", "want 1 to"}},
		{name: "bad topic default", env: map[string]string{"WEIR_LOG_CLEANUP_POLICY": "shred"},
			want: []string{"environment WEIR_LOG_CLEANUP_POLICY", "log_cleanup_policy", "cleanup.policy"}},
		{name: "bad flag", args: []string{"--durability", "sometimes"},
			want: []string{"--durability", "sometimes", "want durable"}},
		{name: "bad enum flag", args: []string{"--log-format", "xml"},
			want: []string{"--log-format", "want text or json"}},
		{name: "bad duration", args: []string{"--checkpoint-interval", "-5s"},
			want: []string{"--checkpoint-interval", "positive duration"}},
		{name: "page cache window of 0", env: map[string]string{"WEIR_PAGE_CACHE_WINDOW_BYTES": "0"},
			want: []string{"page_cache_window_bytes", "-1"}},
		{name: "missing file", args: []string{"--config", "/nonexistent/weir.yaml"},
			want: []string{"config file", "/nonexistent/weir.yaml"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := c.args
			if c.file != "" {
				args = append([]string{"--config", writeFile(t, c.file)}, args...)
			}
			_, err := load(t, args, c.env)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	_, err := load(t, []string{"--config", writeFile(t, "bogus: 1\n")}, nil)
	var ce *Error
	if !errors.As(err, &ce) || !errors.Is(err, ErrUnknownSetting) || ce.Key != "bogus" {
		t.Errorf("unknown key: %#v", err)
	}
}

// samples holds a value other than the default for every setting.
var samples = map[string]string{
	"data_dir":                          "/srv/weir",
	"node_id":                           "3",
	"cluster_id":                        "prod",
	"listen":                            ":19092",
	"advertised_host":                   "weir.example.com",
	"advertised_port":                   "29092",
	"auto_create_topics_enable":         "false",
	"num_partitions":                    "6",
	"socket_request_max_bytes":          "10MiB",
	"durability":                        "interval:10ms",
	"log_segment_bytes":                 "1GiB",
	"checkpoint_interval":               "45s",
	"checkpoint_bytes":                  "1GiB",
	"cleaner_interval":                  "5s",
	"min_free_bytes":                    "0",
	"index_cache_bytes":                 "256MiB",
	"page_cache_window_bytes":           "-1",
	"producer_id_expiration":            "2h0m0s",
	"transaction_version":               "1",
	"transaction_max_timeout":           "5m0s",
	"transactional_id_expiration":       "24h0m0s",
	"log_retention_ms":                  "-1",
	"log_retention_bytes":               "10GiB",
	"log_cleanup_policy":                "compact,delete",
	"log_cleaner_delete_retention_ms":   "1000",
	"log_cleaner_min_cleanable_ratio":   "0.25",
	"message_max_bytes":                 "4MiB",
	"log_message_timestamp_type":        "LogAppendTime",
	"group_initial_rebalance_delay":     "0s",
	"group_min_session_timeout":         "1s",
	"group_max_session_timeout":         "1h0m0s",
	"group_max_size":                    "100",
	"group_consumer_session_timeout":    "30s",
	"group_consumer_heartbeat_interval": "2s",
	"group_consumer_max_size":           "50",
	"group_consumer_assignors":          "range",
	"offsets_retention":                 "24h0m0s",
	"offsets_retention_check_interval":  "1m0s",
	"offset_metadata_max_bytes":         "128",
	"metrics_listen":                    "",
	"log_level":                         "warn",
	"log_format":                        "json",
}

// operational settings change neither the broker's config nor the
// engine's options.
var operational = map[string]bool{"metrics_listen": true, "log_level": true, "log_format": true}

// TestEverySetting sets each setting to a sample value and checks that it
// reads back, that it changes no other setting, and that it reaches the
// broker's config or the engine's options.
func TestEverySetting(t *testing.T) {
	defaults, err := Defaults()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		sample, ok := samples[s.Key]
		if !ok {
			t.Errorf("%s: no sample value in the test", s.Key)
			continue
		}
		c, err := load(t, []string{"--" + s.Flag() + "=" + sample}, nil)
		if err != nil {
			t.Errorf("%s: %v", s.Key, err)
			continue
		}
		if got := s.Value(c); got != sample {
			t.Errorf("%s: set %q, reads %q", s.Key, sample, got)
		}
		for _, other := range settings {
			if other.Key != s.Key && other.Value(c) != other.Value(defaults) {
				t.Errorf("setting %s changed %s", s.Key, other.Key)
			}
		}
		reached := !reflect.DeepEqual(c.Broker(), defaults.Broker()) || !reflect.DeepEqual(c.Storage(), defaults.Storage())
		if reached == operational[s.Key] {
			t.Errorf("%s: reaches the broker or the engine: %v", s.Key, reached)
		}
	}
	for key := range samples {
		if !slicesContainsKey(settings, key) {
			t.Errorf("sample for %s, which is no setting", key)
		}
	}
}

func slicesContainsKey(ss []Setting, key string) bool {
	for _, s := range ss {
		if s.Key == key {
			return true
		}
	}
	return false
}

func TestNames(t *testing.T) {
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	seen := make(map[string]bool)
	for _, s := range settings {
		if !snake.MatchString(s.Key) {
			t.Errorf("key %q is not snake_case", s.Key)
		}
		if seen[s.Key] || s.Key == "config" {
			t.Errorf("key %q twice", s.Key)
		}
		seen[s.Key] = true
		if s.Usage == "" || s.Type == "" || s.Group == "" {
			t.Errorf("%s: usage, type or group missing", s.Key)
		}
		if s.Key != "data_dir" && s.Value(mustDefaults(t)) != s.Default {
			t.Errorf("%s: default %q reads back as %q", s.Key, s.Default, s.Value(mustDefaults(t)))
		}
	}
	// --help lists every flag with its variable.
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	AddFlags(fs)
	usage := fs.FlagUsages()
	for _, s := range settings {
		if !strings.Contains(usage, "--"+s.Flag()+" ") && !strings.Contains(usage, "--"+s.Flag()+"\n") {
			t.Errorf("--help does not list --%s", s.Flag())
		}
		if !strings.Contains(usage, s.Env()) {
			t.Errorf("--help does not name %s", s.Env())
		}
	}
}

func mustDefaults(t *testing.T) Config {
	t.Helper()
	c, err := Defaults()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPrintedConfigLoads checks that the file YAML writes loads back into
// the same configuration, for the defaults and for every sample.
func TestPrintedConfigLoads(t *testing.T) {
	var args []string
	for key, v := range samples {
		args = append(args, "--"+strings.ReplaceAll(key, "_", "-")+"="+v)
	}
	for name, args := range map[string][]string{"defaults": nil, "samples": args} {
		want, err := load(t, args, nil)
		if err != nil {
			t.Fatal(err)
		}
		text := want.YAML()
		got, err := load(t, []string{"--config", writeFile(t, string(text))}, nil)
		if err != nil {
			t.Fatalf("%s: loading the printed config: %v\n%s", name, err, text)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: printed config loads as\n%+v\nwant\n%+v\n%s", name, got, want, text)
		}
	}
}

func TestDataDirHome(t *testing.T) {
	for path, want := range map[string]string{
		"~/weir":    "/home/test/weir",
		"~":         "/home/test",
		"/var/weir": "/var/weir",
		"rel/weir":  "rel/weir",
		"~x/weir":   "~x/weir",
	} {
		c, err := load(t, []string{"--data-dir", path}, nil)
		if err != nil || c.DataDir != want {
			t.Errorf("data_dir %q: %q, %v; want %q", path, c.DataDir, err, want)
		}
	}
}
