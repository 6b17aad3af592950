package cli

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/weir-io/weir/internal/broker"
)

// TestErrors checks the exit codes and messages of commands that cannot
// work: usage errors (2) and errors from the cluster (1).
func TestErrors(t *testing.T) {
	addr := startBroker(t, broker.Config{DisableAutoCreate: true})
	mustRun(t, "", "topic", "create", "orders", "--partitions", "2", "-b", addr)
	refused := closedPort(t)
	tests := []struct {
		name       string
		args       []string // -b addr is added
		wantCode   int
		wantStderr string
	}{
		// Usage errors.
		{"unknown subcommand", []string{"topic", "lst"}, 2, `unknown command "lst" for "weir topic" (did you mean list?)`},
		{"unknown flag", []string{"topic", "list", "--bogus"}, 2, "unknown flag: --bogus (see 'weir topic list --help')"},
		{"bad flag value", []string{"topic", "create", "x", "--partitions", "many"}, 2, `invalid argument "many"`},
		{"zero partitions", []string{"topic", "create", "x", "--partitions", "0"}, 2, "--partitions 0"},
		{"zero replication factor", []string{"topic", "create", "x", "--replication-factor", "0"}, 2, "--replication-factor 0"},
		{"config without value", []string{"topic", "create", "x", "--config", "retention.ms"}, 2, `--config "retention.ms": want name=value`},
		{"create without name", []string{"topic", "create"}, 2, "want at least one topic name"},
		{"list with argument", []string{"topic", "list", "x"}, 2, "want no arguments"},
		{"alter nothing", []string{"topic", "alter-config", "orders"}, 2, "nothing to change"},
		{"alter set and delete", []string{"topic", "alter-config", "orders", "--set", "retention.ms=1", "--delete", "retention.ms"}, 2, `--delete "retention.ms"`},
		{"add partitions without total", []string{"topic", "add-partitions", "orders"}, 2, "--total 0"},
		{"bad output", []string{"topic", "list", "--output", "xml"}, 2, `--output "xml": want table or json`},
		{"bad timeout", []string{"cluster", "info", "--timeout", "0s"}, 2, "--timeout 0s"},
		{"bad acks", []string{"produce", "orders", "--acks", "2"}, 2, `--acks "2"`},
		{"bad compression", []string{"produce", "orders", "--compression", "brotli"}, 2, `--compression "brotli"`},
		{"bad header", []string{"produce", "orders", "--header", "novalue"}, 2, `--header "novalue": want name=value`},
		{"empty key separator", []string{"produce", "orders", "--key-separator", ""}, 2, "--key-separator"},
		{"produce two topics", []string{"produce", "a", "b"}, 2, "want one topic name, got 2"},
		{"bad from", []string{"consume", "orders", "--from", "yesterday"}, 2, `--from "yesterday"`},
		{"bad format", []string{"consume", "orders", "--format", "%x"}, 2, "unknown placeholder %x"},
		{"bad escape", []string{"consume", "orders", "--format", `\q`}, 2, `unknown escape \q`},
		{"format and json", []string{"consume", "orders", "--format", "%v", "--output", "json"}, 2, "exclude each other"},
		{"negative count", []string{"consume", "orders", "--count", "-1"}, 2, "--count -1"},

		// Errors from the cluster.
		{"consume unknown topic", []string{"consume", "nosuch"}, 1, "weir: topic nosuch does not exist\n"},
		{"produce unknown topic", []string{"produce", "nosuch"}, 1, "weir: topic nosuch does not exist\n"},
		{"describe unknown topic", []string{"topic", "describe", "nosuch"}, 1, "weir: topic nosuch does not exist\n"},
		{"consume missing partition", []string{"consume", "orders", "--partition", "2"}, 1, "topic orders has no partition 2 (it has 2 partitions)"},
		{"produce missing partition", []string{"produce", "orders", "--partition", "5"}, 1, "topic orders has no partition 5 (it has 2 partitions)"},
		{"produce missing file", []string{"produce", "orders", "--file", "/nonexistent/input"}, 1, "open /nonexistent/input: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", append(tt.args, "-b", addr)...)
			if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantStderr) {
				t.Fatalf("exit code %d, stderr %q; want %d and %q", r.code, r.stderr, tt.wantCode, tt.wantStderr)
			}
		})
	}

	// Usage errors that take no -b.
	for _, tt := range []struct {
		args       []string
		wantStderr string
	}{
		{[]string{"frobnicate"}, `weir: unknown command "frobnicate" for "weir" (see 'weir --help')` + "\n"},
		{[]string{"cluster", "info", "--brokers", " , "}, "--brokers: no broker address given"},
	} {
		if r := run(t, "", tt.args...); r.code != 2 || !strings.Contains(r.stderr, tt.wantStderr) {
			t.Errorf("%v: exit code %d, stderr %q; want 2 and %q", tt.args, r.code, r.stderr, tt.wantStderr)
		}
	}

	// An unreachable broker, for every command.
	for _, args := range [][]string{
		{"topic", "list"}, {"topic", "create", "x"}, {"topic", "describe", "x"}, {"topic", "delete", "x"},
		{"topic", "alter-config", "x", "--set", "a=b"}, {"topic", "add-partitions", "x", "--total", "2"},
		{"produce", "x"}, {"consume", "x"}, {"cluster", "info"},
		{"group", "list"}, {"group", "describe", "g"}, {"group", "delete", "g"},
		{"group", "reset-offsets", "g", "--topic", "x", "--to-earliest"}, {"group", "delete-offsets", "g", "--topic", "x"},
	} {
		r := run(t, "", append(args, "-b", refused)...)
		want := fmt.Sprintf("weir: cannot reach broker at %s: dial tcp %s: connect: connection refused\n", refused, refused)
		if r.code != 1 || r.stderr != want {
			t.Errorf("%v: exit code %d, stderr %q; want 1 and %q", args, r.code, r.stderr, want)
		}
	}
}

// TestBrokerTimeout checks --timeout against a listener that accepts
// connections and never answers.
func TestBrokerTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	r := run(t, "", "cluster", "info", "-b", ln.Addr().String(), "--timeout", "300ms")
	want := fmt.Sprintf("weir: cannot reach broker at %s: no answer within 300ms\n", ln.Addr())
	if r.code != 1 || r.stderr != want {
		t.Fatalf("exit code %d, stderr %q; want 1 and %q", r.code, r.stderr, want)
	}
}

// TestBrokersFromEnvironment checks that $WEIR_BROKERS replaces the
// default address and that --brokers replaces both.
func TestBrokersFromEnvironment(t *testing.T) {
	addr := startBroker(t, broker.Config{})
	refused := closedPort(t)
	t.Setenv(brokersEnv, addr)
	if r := run(t, "", "cluster", "info"); r.code != 0 {
		t.Fatalf("with $%s: exit code %d, stderr %s", brokersEnv, r.code, r.stderr)
	}
	if r := run(t, "", "cluster", "info", "-b", refused); r.code != 1 || !strings.Contains(r.stderr, "cannot reach broker at "+refused) {
		t.Fatalf("--brokers did not replace $%s: exit code %d, stderr %s", brokersEnv, r.code, r.stderr)
	}
	t.Setenv(brokersEnv, refused)
	if r := run(t, "", "cluster", "info", "--brokers", addr); r.code != 0 {
		t.Fatalf("--brokers did not replace $%s: exit code %d, stderr %s", brokersEnv, r.code, r.stderr)
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("broken"), 1},
		{&UsageError{Err: errors.New("bad flag")}, 2},
		{fmt.Errorf("wrapped: %w", &UsageError{Err: errors.New("bad flag")}), 2},
		{errors.Join(errors.New("a"), &UsageError{Err: errors.New("b")}), 2},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
