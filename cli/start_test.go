package cli

import (
	"reflect"
	"testing"
	"time"

	"github.com/bgmux/bgmux/tasks"
)

func TestNewStartCommand(t *testing.T) {
	cases := []struct {
		args []string
		want tasks.StartOptions
		json bool
		// waitFor and timeout are the parsed --wait-for and --timeout
		// (no wait when waitFor is empty).
		waitFor string
		timeout time.Duration
		err     string // a usage error containing this, instead
	}{
		{args: []string{"--", "sleep", "5"}, want: tasks.StartOptions{Restart: "never", Command: []string{"sleep", "5"}}},
		{args: []string{"npm run dev"}, want: tasks.StartOptions{Restart: "never", Command: []string{"npm run dev"}}},
		// Flags after the first word of the command are the command's.
		{args: []string{"python3", "-m", "http.server", "--json"}, want: tasks.StartOptions{Restart: "never", Command: []string{"python3", "-m", "http.server", "--json"}}},
		{
			args: []string{"--name", "web", "--group=g", "--cwd", "/tmp", "--env", "A=x,y", "--env", "B", "--env-file", "a.env", "--env-file", "b.env",
				"--tag", "t1", "--tag", "t2", "--restart", "on-failure", "--max-restarts", "3", "--max-log-size", "8MiB", "--reuse", "--json", "--", "ls", "-l"},
			want: tasks.StartOptions{Name: "web", Group: "g", Cwd: "/tmp", Env: []string{"A=x,y", "B"}, EnvFiles: []string{"a.env", "b.env"},
				Tags: []string{"t1", "t2"}, Restart: "on-failure", MaxRestarts: ptr(3), MaxLogSize: 8 << 20, Reuse: true, Command: []string{"ls", "-l"}},
			json: true,
		},
		{args: []string{"--max-restarts", "0", "true"}, want: tasks.StartOptions{Restart: "never", MaxRestarts: ptr(0), Command: []string{"true"}}},
		{args: []string{"--wait-for", "^ready$", "--timeout", "30", "srv"}, want: tasks.StartOptions{Restart: "never", Command: []string{"srv"}}, waitFor: "^ready$", timeout: 30 * time.Second},
		{args: []string{"--wait-for", "up", "srv"}, want: tasks.StartOptions{Restart: "never", Command: []string{"srv"}}, waitFor: "up"},
		{args: []string{"--name", "", "true"}, err: "--name is empty"},
		{args: []string{"--group=", "true"}, err: "--group is empty"},
		{args: []string{"--cwd", "", "true"}, err: "--cwd is empty"},
		{args: []string{"--max-restarts", "-1", "true"}, err: `bad --max-restarts "-1"`},
		{args: []string{"--max-restarts", "x", "true"}, err: `bad --max-restarts "x"`},
		{args: []string{"--max-log-size", "lots", "true"}, err: "lots"},
		{args: []string{"--reuse", "true"}, err: "--reuse needs --name"},
		{args: []string{"--timeout", "5s", "true"}, err: "--timeout goes with --wait-for"},
		{args: []string{"--wait-for", "", "true"}, err: "--wait-for is empty"},
		{args: []string{"--wait-for", "(", "true"}, err: "bad --wait-for regular expression"},
		{args: []string{"--wait-for", "x", "--timeout", "0", "true"}, err: "--timeout must be more than 0"},
		{args: []string{"--bogus", "true"}, err: "unknown flag --bogus"},
	}
	for _, c := range cases {
		got, err := parseWith(t, startCommand, c.args...)
		if c.err != "" {
			wantUsage(t, c.args, err, c.err)
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		if !reflect.DeepEqual(got.StartOptions, c.want) {
			t.Errorf("%q: options %+v, want %+v", c.args, got.StartOptions, c.want)
		}
		if got.json != c.json {
			t.Errorf("%q: json %v, want %v", c.args, got.json, c.json)
		}
		switch {
		case c.waitFor == "" && got.wait != nil:
			t.Errorf("%q: a wait %+v, want none", c.args, got.wait)
		case c.waitFor != "" && (got.wait == nil || got.wait.re == nil || got.wait.pattern != c.waitFor || got.wait.timeout != c.timeout || got.wait.asJSON != c.json):
			t.Errorf("%q: wait %+v, want --wait-for %q --timeout %s", c.args, got.wait, c.waitFor, c.timeout)
		}
	}
}
