package config

import (
	"github.com/spf13/pflag"
)

// ConfigEnv is the environment variable naming the config file when
// --config does not.
const ConfigEnv = "WEIR_CONFIG"

// Flags are the command-line flags of the settings and of the config
// file, registered on a flag set by AddFlags.
type Flags struct {
	file   string
	values []*flagValue
}

// flagValue is the pflag.Value of one setting. It keeps the text given
// (validated when given, so that a bad flag fails before anything else is
// read) and applies it in its turn, after the file and the environment.
type flagValue struct {
	setting Setting
	text    string
	given   bool
}

// AddFlags registers on fs --config and one flag per setting, with the
// setting's type, default, description and environment variable.
func AddFlags(fs *pflag.FlagSet) *Flags {
	f := &Flags{}
	fs.StringVar(&f.file, "config", "", "YAML config file (env "+ConfigEnv+"); docs/configuration.md lists its keys")
	for _, s := range settings {
		v := &flagValue{setting: s}
		f.values = append(f.values, v)
		flag := fs.VarPF(v, s.Flag(), "", s.Usage+" (env "+s.Env()+")")
		if s.Type == "bool" {
			flag.NoOptDefVal = "true"
		}
	}
	return f
}

// String returns the value given, or the default.
func (v *flagValue) String() string {
	if v.given {
		return v.text
	}
	return v.setting.Default
}

// Set validates and keeps a value.
func (v *flagValue) Set(text string) error {
	var scratch Config
	if err := v.setting.set(&scratch, text); err != nil {
		return err
	}
	v.text, v.given = text, true
	return nil
}

// Type names the kind of value, for --help.
func (v *flagValue) Type() string { return v.setting.Type }

// Load returns the configuration: the defaults, then the config file (the
// --config flag, or the file named by WEIR_CONFIG), then the WEIR_*
// environment variables, then the flags, each overriding the ones before.
// lookupEnv is os.LookupEnv, or a stand-in in tests.
func (f *Flags) Load(lookupEnv func(string) (string, bool)) (Config, error) {
	c, err := Defaults()
	if err != nil {
		return Config{}, err
	}
	file := f.file
	if file == "" {
		file, _ = lookupEnv(ConfigEnv)
	}
	if file != "" {
		if err := applyFile(&c, file); err != nil {
			return Config{}, err
		}
	}
	for _, s := range settings {
		if text, ok := lookupEnv(s.Env()); ok {
			if err := s.set(&c, text); err != nil {
				return Config{}, &Error{Source: "environment " + s.Env(), Key: s.Key, Value: text, Err: err}
			}
		}
	}
	for _, v := range f.values {
		if v.given {
			if err := v.setting.set(&c, v.text); err != nil {
				return Config{}, &Error{Source: "flag --" + v.setting.Flag(), Key: v.setting.Key, Value: v.text, Err: err}
			}
		}
	}
	return c, nil
}

// File returns the config file that Load reads: --config, or else
// WEIR_CONFIG; "" when there is none.
func (f *Flags) File(lookupEnv func(string) (string, bool)) string {
	if f.file != "" {
		return f.file
	}
	file, _ := lookupEnv(ConfigEnv)
	return file
}
