package cli

import (
	"testing"
	"time"

	"github.com/bgmux/bgmux/tasks"
)

func TestNewEventsCommand(t *testing.T) {
	cases := []struct {
		args []string
		want eventsOptions // without the raw since
		err  string        // a usage error containing this, instead
	}{
		{args: []string{}, want: eventsOptions{}},
		{args: []string{"--all", "--since", "10m", "--json"}, want: eventsOptions{json: true, q: tasks.EventQuery{All: true, Since: 10 * time.Minute}}},
		{args: []string{"--group", "g", "--new", "--reader", "claude", "-f"}, want: eventsOptions{follow: true, q: tasks.EventQuery{Group: "g", New: true, Reader: "claude"}}},
		{args: []string{"--task", "web", "--new"}, want: eventsOptions{task: "web", q: tasks.EventQuery{New: true}}},
		{args: []string{"web"}, err: "events takes no TASK argument"},
		{args: []string{"--task", "web", "--all"}, err: "--task selects one task"},
		{args: []string{"--task="}, err: "--task needs a task"},
		{args: []string{"--group", "g", "--all"}, err: "--group and --all do not go together"},
		{args: []string{"--group="}, err: "--group needs a group name"},
		{args: []string{"--reader", "r"}, err: "--reader goes with --new"},
		{args: []string{"--new", "--reader="}, err: "--reader needs a name"},
		{args: []string{"--since", "0s"}, err: "--since needs a duration above 0"},
		{args: []string{"--since", "later"}, err: "later"},
	}
	for _, c := range cases {
		got, err := parseWith(t, eventsCommand, c.args...)
		if c.err != "" {
			wantUsage(t, c.args, err, c.err)
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		got.since = ""
		if *got != c.want {
			t.Errorf("%q: %+v, want %+v", c.args, *got, c.want)
		}
	}
}
