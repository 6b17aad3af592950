package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFlowResetRequest(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		app     string
		flags   flowResetFlags
		want    string // the request, as flowRequestString writes it
		wantErr string
	}{
		{"defaults", "app", flowResetFlags{stateDir: "/s"}, "app spec={0 0 0} input=[] intermediate=[] internal=[] set=false dir=/s/app", ""},
		{"to latest", "app", flowResetFlags{stateDir: "/s", position: resetFlags{toLatest: true}}, "app spec={1 0 0} input=[] intermediate=[] internal=[] set=false dir=/s/app", ""},
		{"to offset", "app", flowResetFlags{stateDir: "/s", position: resetFlags{toOffset: 7, toOffsetSet: true}}, "app spec={2 7 0} input=[] intermediate=[] internal=[] set=false dir=/s/app", ""},
		{"by duration", "app", flowResetFlags{stateDir: "/s", position: resetFlags{byDuration: "PT1H"}},
			fmt.Sprintf("app spec={4 0 %d} input=[] intermediate=[] internal=[] set=false dir=/s/app", now.Add(-time.Hour).UnixMilli()), ""},
		{"topics cleaned", "app", flowResetFlags{stateDir: "/s", input: []string{" a", "b", "a"}, intermediate: []string{"c"},
			internal: []string{"app-x-changelog", "app-y-repartition"}, internalSet: true},
			"app spec={0 0 0} input=[a b] intermediate=[c] internal=[app-x-changelog app-y-repartition] set=true dir=/s/app", ""},
		{"none internal", "app", flowResetFlags{stateDir: "/s", internal: []string{}, internalSet: true},
			"app spec={0 0 0} input=[] intermediate=[] internal=[] set=true dir=/s/app", ""},
		{"dotted id", "app.v2", flowResetFlags{stateDir: "/s"}, "app.v2 spec={0 0 0} input=[] intermediate=[] internal=[] set=false dir=/s/app.v2", ""},
		{"slash in id", "a/b", flowResetFlags{stateDir: "/s"}, "", `application id "a/b"`},
		{"empty id", "", flowResetFlags{stateDir: "/s"}, "", `application id ""`},
		{"dot id", ".", flowResetFlags{stateDir: "/s"}, "", `application id "."`},
		{"two positions", "app", flowResetFlags{stateDir: "/s", position: resetFlags{toLatest: true, toDatetime: "2024-05-01T00:00:00Z"}}, "",
			"--to-latest and --to-datetime exclude each other"},
		{"earliest and offset", "app", flowResetFlags{stateDir: "/s", position: resetFlags{toEarliest: true, toOffsetSet: true}}, "",
			"--to-earliest and --to-offset exclude each other"},
		{"overlap", "app", flowResetFlags{stateDir: "/s", input: []string{"a"}, intermediate: []string{"a"}}, "",
			"topic a is named both with --input-topics and --intermediate-topics"},
		{"internal of another application", "app", flowResetFlags{stateDir: "/s", internal: []string{"app2-x-changelog"}, internalSet: true}, "",
			"--internal-topics: app2-x-changelog is not an internal topic of application app"},
		{"empty internal name", "app", flowResetFlags{stateDir: "/s", internal: []string{""}, internalSet: true}, "",
			"--internal-topics: an empty topic name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := tt.flags.request(tt.app, now, time.UTC)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := flowRequestString(req); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func flowRequestString(r flowResetRequest) string {
	return fmt.Sprintf("%s spec={%d %d %d} input=%v intermediate=%v internal=%v set=%v dir=%s",
		r.app, r.spec.kind, r.spec.offset, r.spec.millis, r.input, r.intermediate, r.internal, r.internalSet, filepath.ToSlash(r.stateDir))
}

func TestFlowInternalTopics(t *testing.T) {
	existing := []string{"app-a-changelog", "app-b-repartition", "app-changelog-not", "app2-a-changelog", "other-app-a-changelog", "words"}
	tests := []struct {
		name string
		req  flowResetRequest
		want string
	}{
		{"found by name", flowResetRequest{app: "app"}, "[app-a-changelog app-b-repartition] <nil>"},
		{"none found", flowResetRequest{app: "nothing"}, "[] <nil>"},
		{"named", flowResetRequest{app: "app", internal: []string{"app-b-repartition"}, internalSet: true}, "[app-b-repartition] <nil>"},
		{"named, sorted", flowResetRequest{app: "app", internal: []string{"app-b-repartition", "app-a-changelog"}, internalSet: true},
			"[app-a-changelog app-b-repartition] <nil>"},
		{"named none", flowResetRequest{app: "app", internal: []string{}, internalSet: true}, "[] <nil>"},
		{"named, missing", flowResetRequest{app: "app", internal: []string{"app-z-changelog"}, internalSet: true},
			"[] topic app-z-changelog does not exist"},
		{"input deleted", flowResetRequest{app: "app", input: []string{"words", "app-a-changelog"}},
			"[] topic app-a-changelog is an internal topic of application app, which the reset deletes: it cannot also be an input or intermediate topic"},
		{"intermediate deleted", flowResetRequest{app: "app", intermediate: []string{"app-b-repartition"}},
			"[] topic app-b-repartition is an internal topic"},
		{"input kept", flowResetRequest{app: "app", input: []string{"app-a-changelog"}, internal: []string{"app-b-repartition"}, internalSet: true},
			"[app-b-repartition] <nil>"},
	}
	for _, tt := range tests {
		got, err := internalTopics(tt.req, existing)
		if s := fmt.Sprintf("%v %v", got, err); !strings.HasPrefix(s, tt.want) {
			t.Errorf("%s: %s, want %s", tt.name, s, tt.want)
		}
	}
}

func TestFlowFindStateDir(t *testing.T) {
	root := t.TempDir()
	dir, file := filepath.Join(root, "app"), filepath.Join(root, "file")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path string
		want string
	}{
		{dir, fmt.Sprintf("{%s true false} <nil>", dir)},
		{filepath.Join(root, "missing"), fmt.Sprintf("{%s false false} <nil>", filepath.Join(root, "missing"))},
		{file, fmt.Sprintf("{%s false false} state directory %s is not a directory", file, file)},
	} {
		got, err := findStateDir(tt.path)
		if s := fmt.Sprintf("%v %v", got, err); s != tt.want {
			t.Errorf("%s: %s, want %s", tt.path, s, tt.want)
		}
	}
}
