package meta

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ErrInvalidRequest is returned for operations a request may not ask for
// (Kafka's INVALID_REQUEST): an unknown operation, a config named twice.
var ErrInvalidRequest = errors.New("meta: invalid request")

// ConfigOp is one operation of an incremental alteration.
type ConfigOp struct {
	Name  string
	Op    kmsg.IncrementalAlterConfigOp
	Value *string
}

// ApplyIncremental applies ops to a topic's overrides, in place, as
// Kafka's IncrementalAlterConfigs does: SET gives a value, DELETE returns
// a config to its default (a name that is not a config has nothing to
// delete), APPEND and SUBTRACT add items to or remove them from a list
// config, starting from its current value (the override, else the node's
// default, else Kafka's). The values are not validated here
// (NormalizeTopicConfigs does that for the result).
func ApplyIncremental(overrides, nodeDefaults map[string]string, ops []ConfigOp) error {
	named := make(map[string]bool, len(ops))
	for _, op := range ops {
		if named[op.Name] {
			return fmt.Errorf("%w: config %s is named more than once", ErrInvalidRequest, op.Name)
		}
		named[op.Name] = true
	}
	for _, op := range ops {
		if err := applyOp(overrides, nodeDefaults, op); err != nil {
			return err
		}
	}
	return nil
}

func applyOp(overrides, nodeDefaults map[string]string, op ConfigOp) error {
	def, known := LookupTopicConfig(op.Name)
	switch {
	case op.Op < kmsg.IncrementalAlterConfigOpSet || op.Op > kmsg.IncrementalAlterConfigOpSubtract:
		return fmt.Errorf("%w: unknown operation %d on %s", ErrInvalidRequest, op.Op, op.Name)
	case !known && op.Op == kmsg.IncrementalAlterConfigOpDelete:
		return nil
	case !known:
		return fmt.Errorf("%w: %q is not a topic config", ErrInvalidConfig, op.Name)
	}
	switch op.Op {
	case kmsg.IncrementalAlterConfigOpSet:
		if op.Value == nil {
			return fmt.Errorf("%w: SET %s without a value", ErrInvalidConfig, op.Name)
		}
		overrides[op.Name] = *op.Value
	case kmsg.IncrementalAlterConfigOpDelete:
		delete(overrides, op.Name)
	default:
		if def.Type != kmsg.ConfigTypeList {
			return fmt.Errorf("%w: %s is not a list, so %s does not apply", ErrInvalidConfig, op.Name, op.Op)
		}
		current := listItems(currentValue(def, overrides, nodeDefaults))
		value := ""
		if op.Value != nil {
			value = *op.Value
		}
		for _, item := range listItems(value) {
			switch {
			case op.Op == kmsg.IncrementalAlterConfigOpAppend && !slices.Contains(current, item):
				current = append(current, item)
			case op.Op == kmsg.IncrementalAlterConfigOpSubtract:
				current = slices.DeleteFunc(current, func(s string) bool { return s == item })
			}
		}
		overrides[op.Name] = strings.Join(current, ",")
	}
	return nil
}

// currentValue is a config's value for a topic: its override, else the
// node's default, else Kafka's.
func currentValue(def TopicConfig, overrides, nodeDefaults map[string]string) string {
	if v, ok := overrides[def.Name]; ok {
		return v
	}
	if v, ok := nodeDefaults[def.Name]; ok {
		return v
	}
	return def.Default
}

// listItems splits a list value into its non-empty, trimmed items.
func listItems(value string) []string {
	var items []string
	for item := range strings.SplitSeq(value, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}
