package cli

import (
	"reflect"
	"testing"
	"time"

	"github.com/bgmux/bgmux/tasks"
)

func TestNewLogsCommand(t *testing.T) {
	cases := []struct {
		args []string
		want logsOptions // without the raw since and sinceOffset
		err  string      // a usage error containing this, instead
	}{
		{args: []string{"web"}, want: logsOptions{task: "web"}},
		{args: []string{"web", "--tail", "5", "--raw", "--json"}, want: logsOptions{task: "web", json: true, LogOptions: tasks.LogOptions{Tail: 5, Raw: true}}},
		{args: []string{"--head=3", "-C", "2", "--grep", "err|warn", "web"}, want: logsOptions{task: "web", LogOptions: tasks.LogOptions{Head: 3, Context: 2, Grep: "err|warn"}}},
		{args: []string{"web", "--new", "--reader", "ci"}, want: logsOptions{task: "web", LogOptions: tasks.LogOptions{New: true, Reader: "ci"}}},
		{args: []string{"web", "--since-offset", "0"}, want: logsOptions{task: "web", LogOptions: tasks.LogOptions{SinceOffset: ptr(int64(0))}}},
		{args: []string{"web", "--since-offset", "4096", "-f"}, want: logsOptions{task: "web", follow: true, LogOptions: tasks.LogOptions{SinceOffset: ptr(int64(4096))}}},
		{args: []string{"web", "--since", "90"}, want: logsOptions{task: "web", LogOptions: tasks.LogOptions{Since: 90 * time.Second}}},
		{args: []string{"web", "--since", "1m30s", "--follow"}, want: logsOptions{task: "web", follow: true, LogOptions: tasks.LogOptions{Since: 90 * time.Second}}},
		{args: []string{}, err: "logs takes exactly one TASK"},
		{args: []string{"a", "b"}, err: "logs takes exactly one TASK"},
		{args: []string{"web", "--grep", ""}, err: "--grep needs a regular expression"},
		{args: []string{"web", "--reader="}, err: "--reader needs a name"},
		{args: []string{"web", "--since", "0"}, err: "--since needs a duration above 0"},
		{args: []string{"web", "--since", "soon"}, err: "soon"},
		{args: []string{"web", "--tail", "x"}, err: `invalid value "x" for flag -tail`},
		{args: []string{"web", "--bogus"}, err: "unknown flag --bogus"},
	}
	for _, c := range cases {
		got, err := parseWith(t, logsCommand, c.args...)
		if c.err != "" {
			wantUsage(t, c.args, err, c.err)
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		got.since, got.sinceOffset = "", 0
		if !reflect.DeepEqual(*got, c.want) {
			t.Errorf("%q: options %+v, want %+v", c.args, *got, c.want)
		}
	}
}
