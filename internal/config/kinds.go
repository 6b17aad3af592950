package config

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The constructors of settings, one per kind of value. Each returns a
// Setting whose set parses and validates a value into a field of Config
// and whose get formats the field so that set reads it back.

func stringSetting(group, key, typ, def, usage string, check func(string) error, field func(*Config) *string) Setting {
	return Setting{
		Key: key, Group: group, Type: typ, Default: def, Usage: usage,
		set: func(c *Config, s string) error {
			if check != nil {
				if err := check(s); err != nil {
					return err
				}
			}
			*field(c) = s
			return nil
		},
		get: func(c *Config) string { return *field(c) },
	}
}

func enumSetting(group, key, def string, choices []string, usage string, field func(*Config) *string) Setting {
	check := func(s string) error {
		if !slices.Contains(choices, s) {
			return fmt.Errorf("want %s", strings.Join(choices, " or "))
		}
		return nil
	}
	return stringSetting(group, key, strings.Join(choices, "|"), def, usage, check, field)
}

func boolSetting(group, key string, def bool, usage string, field func(*Config) *bool) Setting {
	return Setting{
		Key: key, Group: group, Type: "bool", Default: strconv.FormatBool(def), Usage: usage,
		set: func(c *Config, s string) error {
			v, err := strconv.ParseBool(strings.TrimSpace(s))
			if err != nil {
				return errors.New("want true or false")
			}
			*field(c) = v
			return nil
		},
		get: func(c *Config) string { return strconv.FormatBool(*field(c)) },
	}
}

func intSetting[T int32 | int64](group, key string, def, lo, hi T, usage string, field func(*Config) *T) Setting {
	return Setting{
		Key: key, Group: group, Type: "int", Default: strconv.FormatInt(int64(def), 10), Usage: usage,
		set: func(c *Config, s string) error {
			v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return errors.New("want an integer")
			}
			if v < int64(lo) || v > int64(hi) {
				return fmt.Errorf("want %d to %d", lo, hi)
			}
			*field(c) = T(v)
			return nil
		},
		get: func(c *Config) string { return strconv.FormatInt(int64(*field(c)), 10) },
	}
}

// bytesSetting is a byte size; check validates the parsed size.
func bytesSetting(group, key string, def int64, usage string, check func(int64) error, field func(*Config) *int64) Setting {
	return Setting{
		Key: key, Group: group, Type: "bytes", Default: formatBytes(def), Usage: usage,
		set: func(c *Config, s string) error {
			v, err := parseBytes(s)
			if err != nil {
				return err
			}
			if err := check(v); err != nil {
				return err
			}
			*field(c) = v
			return nil
		},
		get: func(c *Config) string { return formatBytes(*field(c)) },
	}
}

// between accepts sizes in [lo, hi].
func between(lo, hi int64) func(int64) error {
	return func(v int64) error {
		if v < lo || v > hi {
			return fmt.Errorf("want %s to %s", formatBytes(lo), formatBytes(hi))
		}
		return nil
	}
}

// durationSetting is a positive duration in Go's syntax (30s, 5m, 1h30m).
func durationSetting(group, key string, def time.Duration, usage string, field func(*Config) *time.Duration) Setting {
	return Setting{
		Key: key, Group: group, Type: "duration", Default: def.String(), Usage: usage,
		set: func(c *Config, s string) error {
			v, err := time.ParseDuration(strings.TrimSpace(s))
			if err != nil || v <= 0 {
				return errors.New("want a positive duration such as 500ms, 30s or 5m")
			}
			*field(c) = v
			return nil
		},
		get: func(c *Config) string { return field(c).String() },
	}
}

// delaySetting is a duration in Go's syntax that may be 0 (no delay).
func delaySetting(group, key string, def time.Duration, usage string, field func(*Config) *time.Duration) Setting {
	s := durationSetting(group, key, def, usage, field)
	s.set = func(c *Config, s string) error {
		v, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil || v < 0 {
			return errors.New("want 0 or a positive duration such as 500ms, 30s or 5m")
		}
		*field(c) = v
		return nil
	}
	return s
}

// checkAddress accepts host:port with a numeric port (the host may be
// empty: all interfaces); with optional, also the empty string.
func checkAddress(optional bool) func(string) error {
	return func(s string) error {
		if s == "" && optional {
			return nil
		}
		_, port, err := net.SplitHostPort(s)
		if err != nil {
			return errors.New("want host:port, such as 127.0.0.1:9092 or :9092")
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return fmt.Errorf("want a port number from 0 to 65535, not %q", port)
		}
		return nil
	}
}
