package tests

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// edgeBadCase is one invalid invocation: args (with "--json" inserted
// after the command word for the JSON variant), the error kind, and text
// the message must contain.
type edgeBadCase struct {
	args []string
	kind string
	want []string
}

// edgeHint is how a message says what to do.
var edgeHint = regexp.MustCompile(`\b(use|see|pass|put|give|choose|leave|drop|stop|fix|set|try|run)\b`)

func edgeBadCases(t *testing.T, e *env, task string) []edgeBadCase {
	file := filepath.Join(e.Dir, "plain-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	inv := "invalid_input"
	return []edgeBadCase{
		{[]string{"status", "no-such-task"}, "not_found", []string{`"no-such-task"`}},
		{[]string{"logs", "no-such-task"}, "not_found", []string{`"no-such-task"`}},
		{[]string{"screen", "no-such-task"}, "not_found", []string{`"no-such-task"`}},
		{[]string{"stop", "no-such-task"}, "not_found", []string{`"no-such-task"`}},
		{[]string{"rm", "no-such-task"}, "not_found", []string{`"no-such-task"`}},
		{[]string{"start", "--"}, inv, []string{"no command"}},
		{[]string{"start"}, inv, []string{"no command"}},
		{[]string{"start", "--", ""}, inv, []string{"no command"}},
		{[]string{"start", "--", "  "}, inv, []string{"no command"}},
		{[]string{"start", "--", "", "arg"}, inv, []string{"empty"}},
		{[]string{"start", "--name", "a b", "--", "true"}, inv, []string{`' '`}},
		{[]string{"start", "--name", "x;y", "--", "true"}, inv, []string{`';'`}},
		{[]string{"start", "--name", "", "--", "true"}, inv, []string{"--name", "empty"}},
		{[]string{"start", "--name", "-x", "--", "true"}, inv, []string{`'-'`}},
		{[]string{"start", "--name", "bg-abc", "--", "true"}, inv, []string{"reserved"}},
		{[]string{"start", "--name", strings.Repeat("n", 65), "--", "true"}, inv, []string{"limit"}},
		{[]string{"start", "--group", "a b", "--", "true"}, inv, []string{"group"}},
		{[]string{"start", "--group", "", "--", "true"}, inv, []string{"--group", "empty"}},
		{[]string{"start", "--tag", "a b", "--", "true"}, inv, []string{"tag"}},
		{[]string{"start", "--cwd", filepath.Join(e.Dir, "no", "such", "dir"), "--", "true"}, inv, []string{"does not exist", "--cwd"}},
		{[]string{"start", "--cwd", file, "--", "true"}, inv, []string{"not a directory"}},
		{[]string{"start", "--cwd", "", "--", "true"}, inv, []string{"--cwd", "empty"}},
		{[]string{"start", "--env", "BGMUX_TEST_UNSET", "--", "true"}, inv, []string{"BGMUX_TEST_UNSET", "not set", "--env BGMUX_TEST_UNSET=VALUE"}},
		{[]string{"start", "--env-file", filepath.Join(e.Dir, "no.env"), "--", "true"}, inv, []string{"no.env does not exist"}},
		{[]string{"start", "--env", "=x", "--", "true"}, inv, []string{"empty"}},
		{[]string{"start", "--env", "A B=x", "--", "true"}, inv, []string{`' '`}},
		{[]string{"start", "--env", "1A=x", "--", "true"}, inv, []string{`'1'`}},
		{[]string{"start", "--restart", "sometimes", "--", "true"}, inv, []string{"sometimes"}},
		{[]string{"start", "--bogus", "--", "true"}, inv, []string{"--bogus", "bgmux start --help"}},
		{[]string{"start", "--name"}, inv, []string{"--name"}},
		{[]string{"status", "--bogus", task}, inv, []string{"--bogus"}},
		{[]string{"stop", "--signal", "FOO", task}, inv, []string{`"FOO"`}},
		{[]string{"stop", "--signal", "0", task}, inv, []string{"signal"}},
		{[]string{"stop", "--grace", "nonsense", task}, inv, []string{`"nonsense"`}},
		{[]string{"stop", "--grace", "-5s", task}, inv, []string{"negative"}},
		{[]string{"kill", "--bogus", task}, inv, []string{"--bogus"}},
		{[]string{"prune", "--older-than", "x"}, inv, []string{`"x"`}},
		{[]string{"logs", "--tail", "x", task}, inv, []string{"tail"}},
		{[]string{"list", "--state", "sleeping"}, inv, []string{"sleeping"}},
		{[]string{"nosuchcommand"}, inv, []string{"nosuchcommand"}},
	}
}

// edgeCheckBad runs one bad invocation in text and JSON form and checks
// exit status 2, the stderr message and the JSON error object.
func edgeCheckBad(t *testing.T, e *env, c edgeBadCase) {
	t.Helper()
	r := e.run(c.args...)
	if r.Code != 2 {
		t.Errorf("bgmux %q: exit %d, want 2\nstdout: %s\nstderr: %s", c.args, r.Code, r.Out, r.Err)
		return
	}
	msg := strings.TrimSuffix(r.Err, "\n")
	if !strings.HasPrefix(msg, "bgmux: ") || strings.Count(strings.TrimSpace(msg), "\n") > 0 && !strings.Contains(msg, "use one of") {
		t.Errorf("bgmux %q: stderr %q, want one line starting with \"bgmux: \"", c.args, r.Err)
	}
	if r.Out != "" {
		t.Errorf("bgmux %q: stdout %q, want nothing on stdout without --json", c.args, r.Out)
	}
	for _, w := range c.want {
		if !strings.Contains(msg, w) {
			t.Errorf("bgmux %q: message %q does not mention %q", c.args, msg, w)
		}
	}
	if !edgeHint.MatchString(msg) {
		t.Errorf("bgmux %q: message %q does not say what to do", c.args, msg)
	}

	jargs := append([]string{c.args[0], "--json"}, c.args[1:]...)
	r = e.run(jargs...)
	if r.Code != 2 {
		t.Errorf("bgmux %q: exit %d, want 2\nstdout: %s\nstderr: %s", jargs, r.Code, r.Out, r.Err)
		return
	}
	var doc struct {
		Error *struct {
			Kind    string `json:"kind"`
			Message string `json:"message"`
		} `json:"error"`
	}
	edgeOneJSON(t, strings.Join(jargs, " "), r.Out, &doc)
	if doc.Error == nil || doc.Error.Kind != c.kind || doc.Error.Message == "" {
		t.Errorf("bgmux %q: JSON error %s, want kind %q and a message", jargs, r.Out, c.kind)
		return
	}
	if "bgmux: "+doc.Error.Message != strings.TrimSuffix(r.Err, "\n") {
		t.Errorf("bgmux %q: JSON message %q differs from stderr %q", jargs, doc.Error.Message, r.Err)
	}
}

// Bad input is exit status 2 with a message that says what to do, and
// creates nothing: no tmux server when none ran, no window, no task.
func TestBadInputNoServer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, c := range edgeBadCases(t, e, "no-such-task") {
		edgeCheckBad(t, e, c)
	}
	// Asking for help is not an error; help for an unknown command is.
	for _, args := range [][]string{{"help"}, {"help", "start"}, {"start", "--help"}, {"--help"}} {
		if r := e.run(args...); r.Code != 0 || !strings.Contains(r.Out, "USAGE") {
			t.Errorf("bgmux %q: exit %d, stdout %q; want usage and exit 0", args, r.Code, r.Out)
		}
	}
	if r := e.run("help", "nosuchcommand"); r.Code != 2 || !strings.Contains(r.Err, `"nosuchcommand"`) {
		t.Errorf("bgmux help nosuchcommand: exit %d, stderr %q; want exit 2 naming the command", r.Code, r.Err)
	}
	if panes, ok := edgePanes(e); ok {
		t.Fatalf("bad input started a tmux server; panes: %q", panes)
	}
	if dirs := edgeTaskDirs(t, e); len(dirs) != 0 {
		t.Fatalf("bad input created task entries: %q", dirs)
	}
}

// With a server and a live task, bad input adds no window and no task,
// and leaves the task alone (a bad stop does not stop it).
func TestBadInputWithLiveTask(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tk := e.start("--name", "keeper", "--", "sleep", "1000")
	if tk.PID == nil {
		t.Fatalf("no pid: %+v", tk)
	}
	before, ok := edgePanes(e)
	if !ok || len(before) != 1 {
		t.Fatalf("panes before: %q (server %v)", before, ok)
	}
	dirsBefore := edgeTaskDirs(t, e)
	for _, c := range edgeBadCases(t, e, "keeper") {
		edgeCheckBad(t, e, c)
	}
	after, _ := edgePanes(e)
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("bad input changed the windows:\nbefore %q\nafter  %q", before, after)
	}
	if dirs := edgeTaskDirs(t, e); !reflect.DeepEqual(dirs, dirsBefore) {
		t.Fatalf("bad input changed the task entries: before %q, after %q", dirsBefore, dirs)
	}
	if st := e.status("keeper"); st.State != "running" || !pidAlive(*tk.PID) {
		t.Fatalf("after bad stops the task is %q (pid alive %v), want running", st.State, pidAlive(*tk.PID))
	}
	e.must("kill", "keeper")
	e.waitState("keeper", 10*time.Second, func(t task) bool { return t.State == "killed" })
}
