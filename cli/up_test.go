package cli

import (
	"slices"
	"testing"
	"time"
)

func TestNewUpAndDownCommands(t *testing.T) {
	cases := []struct {
		down  bool
		args  []string
		names []string
		grace time.Duration
		json  bool
		err   string // a usage error containing this, instead
	}{
		{args: []string{}, grace: -1},
		{args: []string{"web", "db", "--json"}, names: []string{"web", "db"}, grace: -1, json: true},
		{args: []string{"web", "--grace", "2s"}, err: "unknown flag --grace"},
		{down: true, args: []string{}, grace: -1},
		{down: true, args: []string{"web", "--grace", "2s"}, names: []string{"web"}, grace: 2 * time.Second},
		{down: true, args: []string{"--grace", "x"}, err: `"x"`},
	}
	for _, c := range cases {
		newCmd := upCommand
		if c.down {
			newCmd = downCommand
		}
		got, err := parseWith(t, newCmd, c.args...)
		if c.err != "" {
			wantUsage(t, c.args, err, c.err)
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		if got.up == c.down || !slices.Equal(got.opts.Names, c.names) || got.opts.Stop.Grace != c.grace || got.opts.OnTask != nil || got.json != c.json {
			t.Errorf("%q (down %v): %+v; want names %q grace %s json %v", c.args, c.down, got, c.names, c.grace, c.json)
		}
	}
}
