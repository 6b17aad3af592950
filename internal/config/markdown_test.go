package config

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/configuration.md from the table")

// TestConfigurationDoc fails when docs/configuration.md is not what the
// table of settings gives; -update rewrites it.
func TestConfigurationDoc(t *testing.T) {
	path := filepath.Join("..", "..", DocPath)
	want := Markdown()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s is stale: run go test ./internal/config -run TestConfigurationDoc -update", DocPath)
	}
}
