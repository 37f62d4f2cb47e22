package cli

import (
	"reflect"
	"testing"
	"time"
)

func TestNewStopCommand(t *testing.T) {
	cases := []struct {
		kill bool // the kill command, not stop
		args []string
		want stopOptions // without the raw graceFlag
		err  string      // a usage error containing this, instead
	}{
		{args: []string{"web"}, want: stopOptions{tasks: []string{"web"}, signal: "TERM", grace: -1}},
		{args: []string{"a", "b", "a", "--json"}, want: stopOptions{tasks: []string{"a", "b", "a"}, signal: "TERM", grace: -1, json: true}},
		{args: []string{"web", "--signal", "INT", "--grace", "2s"}, want: stopOptions{tasks: []string{"web"}, signal: "INT", grace: 2 * time.Second}},
		{args: []string{"--signal=9", "--grace=0", "web"}, want: stopOptions{tasks: []string{"web"}, signal: "9", grace: 0}},
		{args: []string{"web", "--grace", "1m30s"}, want: stopOptions{tasks: []string{"web"}, signal: "TERM", grace: 90 * time.Second}},
		{args: []string{}, err: "stop needs at least one TASK"},
		{args: []string{"web", "--signal", "FOO"}, err: "FOO"},
		{args: []string{"web", "--grace", "soon"}, err: "soon"},
		{args: []string{"web", "--bogus"}, err: "unknown flag --bogus"},
		{kill: true, args: []string{"web", "db"}, want: stopOptions{tasks: []string{"web", "db"}, signal: "KILL", grace: -1}},
		{kill: true, args: []string{"--json", "web"}, want: stopOptions{tasks: []string{"web"}, signal: "KILL", grace: -1, json: true}},
		{kill: true, args: []string{}, err: "kill needs at least one TASK"},
		{kill: true, args: []string{"web", "--signal", "INT"}, err: "unknown flag --signal"},
	}
	for _, c := range cases {
		newCmd := stopCommand
		if c.kill {
			newCmd = killCommand
		}
		got, err := parseWith(t, newCmd, c.args...)
		if c.err != "" {
			wantUsage(t, c.args, err, c.err)
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		got.graceFlag = ""
		if !reflect.DeepEqual(*got, c.want) {
			t.Errorf("%q (kill %v): %+v, want %+v", c.args, c.kill, *got, c.want)
		}
	}
}
