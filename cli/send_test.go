package cli

import (
	"reflect"
	"testing"
	"time"

	"github.com/bgmux/bgmux/tasks"
)

func TestNewSendCommand(t *testing.T) {
	cases := []struct {
		args    []string
		task    string
		want    tasks.SendOptions
		json    bool
		waitFor string // the parsed --wait-for (no wait when empty)
		timeout time.Duration
		err     string // a usage error containing this, instead
	}{
		{args: []string{"sh", "echo", "hi"}, task: "sh", want: tasks.SendOptions{Text: "echo hi", Enter: true}},
		{args: []string{"sh", "ls", "--no-enter"}, task: "sh", want: tasks.SendOptions{Text: "ls"}},
		{args: []string{"sh", "--key", "C-c"}, task: "sh", want: tasks.SendOptions{Keys: []string{"C-c"}}},
		// Keys follow the text with no Enter between.
		{args: []string{"sh", "git chec", "--key", "Tab", "--key", "Enter"}, task: "sh", want: tasks.SendOptions{Text: "git chec", Keys: []string{"Tab", "Enter"}}},
		{args: []string{"sh", "--json", "--", "-n"}, task: "sh", json: true, want: tasks.SendOptions{Text: "-n", Enter: true}},
		{args: []string{"py", "6*7", "--wait-for", "^42$", "--timeout", "5s"}, task: "py", want: tasks.SendOptions{Text: "6*7", Enter: true}, waitFor: "^42$", timeout: 5 * time.Second},
		{args: []string{"py", "6*7", "--wait-for", "42", "--json"}, task: "py", json: true, want: tasks.SendOptions{Text: "6*7", Enter: true}, waitFor: "42"},
		{args: []string{}, err: "send needs a TASK"},
		{args: []string{"sh"}, err: "nothing to send"},
		{args: []string{"sh", "--no-enter"}, err: "nothing to send"},
		{args: []string{"sh", "--key", "NoSuchKey!"}, err: "NoSuchKey!"},
		{args: []string{"sh", "x", "--timeout", "5s"}, err: "--timeout goes with --wait-for"},
		{args: []string{"sh", "x", "--wait-for", ""}, err: "--wait-for is empty"},
		{args: []string{"sh", "x", "--wait-for", "("}, err: "bad --wait-for regular expression"},
		{args: []string{"sh", "x", "--wait-for", "y", "--timeout", "-1s"}, err: "-1s"},
		{args: []string{"sh", "x", "--bogus"}, err: "unknown flag --bogus"},
	}
	for _, c := range cases {
		got, err := parseWith(t, sendCommand, c.args...)
		if c.err != "" {
			wantUsage(t, c.args, err, c.err)
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		if got.task != c.task || got.json != c.json || !reflect.DeepEqual(got.SendOptions, c.want) {
			t.Errorf("%q: task %q json %v %+v; want task %q json %v %+v", c.args, got.task, got.json, got.SendOptions, c.task, c.json, c.want)
		}
		switch {
		case c.waitFor == "" && got.wait != nil:
			t.Errorf("%q: a wait %+v, want none", c.args, got.wait)
		case c.waitFor != "" && (got.wait == nil || got.wait.re == nil || got.wait.pattern != c.waitFor || got.wait.timeout != c.timeout || got.wait.asJSON != c.json):
			t.Errorf("%q: wait %+v, want --wait-for %q --timeout %s", c.args, got.wait, c.waitFor, c.timeout)
		}
	}
}
