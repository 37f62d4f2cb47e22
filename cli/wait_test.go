package cli

import (
	"reflect"
	"testing"
	"time"

	"github.com/bgmux/bgmux/tasks"
)

func TestNewWaitCommand(t *testing.T) {
	// want is what the options and their waitSpec say.
	type want struct {
		anyOf, json bool
		tasks       []string
		pattern     string // --for, compiled into the spec
		timeout     time.Duration
		from        int64
		fromSet     bool
		newReader   string
	}
	cases := []struct {
		args []string
		want want
		err  string // a usage error containing this, instead
	}{
		{args: []string{"web"}, want: want{tasks: []string{"web"}}},
		{args: []string{"web", "--json", "--timeout", "2m"}, want: want{tasks: []string{"web"}, json: true, timeout: 2 * time.Minute}},
		{args: []string{"web", "--for", "^Listening on"}, want: want{tasks: []string{"web"}, pattern: "^Listening on"}},
		{args: []string{"--for=ok", "--new", "web"}, want: want{tasks: []string{"web"}, pattern: "ok", fromSet: true, newReader: tasks.DefaultReader}},
		{args: []string{"web", "--for", "ok", "--new", "--reader", "ci"}, want: want{tasks: []string{"web"}, pattern: "ok", fromSet: true, newReader: "ci"}},
		{args: []string{"web", "--for", "ok", "--since-offset", "120"}, want: want{tasks: []string{"web"}, pattern: "ok", from: 120, fromSet: true}},
		{args: []string{"web", "--for", "ok", "--since-offset", "0"}, want: want{tasks: []string{"web"}, pattern: "ok", fromSet: true}},
		{args: []string{"--any", "a", "b", "--timeout", "5"}, want: want{anyOf: true, tasks: []string{"a", "b"}, timeout: 5 * time.Second}},
		{args: []string{}, err: "wait takes exactly one TASK"},
		{args: []string{"a", "b"}, err: "wait takes exactly one TASK"},
		{args: []string{"web", "--for", ""}, err: "--for is empty"},
		{args: []string{"web", "--for", "a{2,1}"}, err: "bad --for regular expression"},
		{args: []string{"web", "--timeout", "0"}, err: "--timeout must be more than 0"},
		{args: []string{"web", "--timeout", "soon"}, err: "soon"},
		{args: []string{"web", "--reader", "ci"}, err: "--reader goes with --new"},
		{args: []string{"web", "--new"}, err: "go with --for REGEX"},
		{args: []string{"web", "--for", "x", "--new", "--since-offset", "3"}, err: "give --new or --since-offset, not both"},
		{args: []string{"web", "--for", "x", "--since-offset", "-1"}, err: "--since-offset must be 0 or more"},
		{args: []string{"web", "--for", "x", "--new", "--reader", "a b"}, err: "a b"},
		{args: []string{"--any"}, err: "wait --any needs one or more TASKs"},
		{args: []string{"--any", "a", "--for", "x"}, err: "does not go with --for"},
		{args: []string{"--any", "a", "--for", "x", "--new"}, err: "do not go with --any"},
		{args: []string{"web", "--bogus"}, err: "unknown flag --bogus"},
	}
	for _, c := range cases {
		o, err := parseWith(t, waitCommand, c.args...)
		if c.err != "" {
			wantUsage(t, c.args, err, c.err)
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		s := o.spec
		got := want{anyOf: o.anyOf, json: o.json, tasks: o.tasks, pattern: s.pattern, timeout: s.timeout, from: s.from, fromSet: s.fromSet, newReader: s.newReader}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %+v, want %+v", c.args, got, c.want)
		}
		if (s.re != nil) != (c.want.pattern != "") || s.re != nil && s.re.String() != c.want.pattern || s.asJSON != c.want.json {
			t.Errorf("%q: spec regexp %v, asJSON %v", c.args, s.re, s.asJSON)
		}
	}
}
