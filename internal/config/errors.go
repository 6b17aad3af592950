package config

import (
	"errors"
	"fmt"
)

// ErrUnknownSetting is the error of a config file key that names no
// setting.
var ErrUnknownSetting = errors.New("config: unknown setting")

// Error is a value that a setting does not accept, or a key of the config
// file that is no setting (Err is then ErrUnknownSetting).
type Error struct {
	// Source is where the value came from: "flag --listen", "environment
	// WEIR_LISTEN" or "weir.yaml:3" (file and line).
	Source string
	// Key is the setting's key, or the file's key for an unknown setting.
	Key string
	// Value is the value given.
	Value string
	// Err says what is wrong.
	Err error
}

// Error says where the value came from, the setting, the value and what
// is wrong.
func (e *Error) Error() string {
	if errors.Is(e.Err, ErrUnknownSetting) {
		return fmt.Sprintf("%s: unknown setting %q (docs/configuration.md lists them)", e.Source, e.Key)
	}
	return fmt.Sprintf("%s: %s %q: %v", e.Source, e.Key, e.Value, e.Err)
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }
