package flow

import (
	"os"
	"path/filepath"
	"strings"
)

// The names of what an application keeps outside its process, as Kafka
// Streams names them, so that operators find them the same way: the
// consumer group is the application id; internal topics are
// "<application id>-<name>-changelog" (a store's changelog, compacted)
// and "<application id>-<name>-repartition" (records re-keyed between
// sub-topologies); local state lives under the state directory, in a
// directory named after the application id.
const (
	// ChangelogSuffix ends the name of a store's changelog topic.
	ChangelogSuffix = "-changelog"
	// RepartitionSuffix ends the name of a repartition topic.
	RepartitionSuffix = "-repartition"
)

// ChangelogTopic is the changelog topic of store name in application
// appID.
func ChangelogTopic(appID, name string) string { return appID + "-" + name + ChangelogSuffix }

// RepartitionTopic is the repartition topic of operator name in
// application appID.
func RepartitionTopic(appID, name string) string { return appID + "-" + name + RepartitionSuffix }

// IsInternalTopic reports whether topic is one of application appID's
// internal topics: its name starts with the application id and a dash and
// ends with ChangelogSuffix or RepartitionSuffix.
func IsInternalTopic(appID, topic string) bool {
	return strings.HasPrefix(topic, appID+"-") && len(topic) > len(appID)+1 &&
		(strings.HasSuffix(topic, ChangelogSuffix) || strings.HasSuffix(topic, RepartitionSuffix))
}

// DefaultStateDir is the directory under which applications keep their
// local state when Config.StateDir is empty: weir-flow in the system's
// temporary directory (as Kafka Streams uses /tmp/kafka-streams).
func DefaultStateDir() string { return filepath.Join(os.TempDir(), "weir-flow") }

// AppStateDir is the local state directory of application appID under
// stateDir (DefaultStateDir when empty).
func AppStateDir(stateDir, appID string) string {
	if stateDir == "" {
		stateDir = DefaultStateDir()
	}
	return filepath.Join(stateDir, appID)
}
