// Package config is the configuration of `weir serve`: one table of
// settings (settings.go), each with its name, type, default, description
// and validation, from which come the YAML keys of the config file, the
// command-line flags, the WEIR_* environment variables, the effective
// configuration that --print-config writes, and docs/configuration.md. None
// of them is written down anywhere else, so they cannot drift apart.
//
// Names. A setting's key is snake_case, as a YAML key (log_segment_bytes);
// its flag replaces the underscores with dashes (--log-segment-bytes) and
// its environment variable is the key in capitals after WEIR_
// (WEIR_LOG_SEGMENT_BYTES). Where Kafka has a broker config for the same
// thing, the key is Kafka's name with underscores for dots
// (log.segment.bytes, auto.create.topics.enable, socket.request.max.bytes).
//
// Precedence. Load starts from the defaults and applies, in order, the
// config file (--config, or WEIR_CONFIG), the environment and the flags:
// a flag beats an environment variable, which beats the file, which beats
// the default. Every value is validated where it is read, and an error
// names the setting, the value and where it came from (file and line,
// variable, or flag). A key of the file that is no setting is an error;
// WEIR_* variables that name no setting are ignored (other tools share the
// prefix).
package config
