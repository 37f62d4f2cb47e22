package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// trapTask is the task object's fields these tests read beyond task's.
type trapTask struct {
	task
	Reused        *bool      `json:"reused"`
	LostReason    *string    `json:"lost_reason"`
	MaxRestarts   *int       `json:"max_restarts"`
	Restarts      int        `json:"restarts"`
	GaveUp        *bool      `json:"gave_up"`
	NextRestartAt *time.Time `json:"next_restart_at"`
}

func trapDecode(t *testing.T, out string) trapTask {
	t.Helper()
	var tk trapTask
	if err := json.Unmarshal([]byte(out), &tk); err != nil {
		t.Fatalf("not a task object: %v\n%s", err, out)
	}
	return tk
}

// TestTrapReuseChecksTheSpec: start --reuse gives back the running task
// only when it runs what was asked (command, cwd, env keys); otherwise it
// is a conflict naming the difference. A reuse says it reused.
func TestTrapReuseChecksTheSpec(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.start("--name", "rr", "--env", "A=1", "--", "sleep", "100")

	r := e.run("start", "--json", "--name", "rr", "--reuse", "--env", "A=1", "--", "sleep", "100")
	if r.Code != 0 {
		t.Fatalf("matching reuse: exit %d: %s", r.Code, r.Err)
	}
	same := trapDecode(t, r.Out)
	if same.ID != first.ID || same.Reused == nil || !*same.Reused {
		t.Fatalf("matching reuse gave %s reused=%v, want %s reused=true", same.ID, same.Reused, first.ID)
	}
	r = e.run("start", "--name", "rr", "--reuse", "--env", "A=1", "--", "sleep", "100")
	if r.Code != 0 || strings.TrimSpace(r.Out) != first.ID || !strings.Contains(r.Err, "reused") {
		t.Fatalf("matching reuse in text: exit %d, stdout %q, stderr %q; want the id alone on stdout and a word on stderr", r.Code, r.Out, r.Err)
	}
	fresh := trapDecode(t, e.must("start", "--json", "--name", "other", "--", "sleep", "100"))
	if fresh.Reused == nil || *fresh.Reused {
		t.Fatalf("start --json of a new task: reused %v, want false", fresh.Reused)
	}

	sub := filepath.Join(e.Dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		what string
	}{
		{[]string{"--env", "A=1", "--", "different", "command"}, "command"},
		{[]string{"--env", "A=1", "--", "sleep 100"}, "command"},
		{[]string{"--env", "A=1", "--cwd", sub, "--group", e.Group, "--", "sleep", "100"}, "cwd"},
		{[]string{"--env", "B=1", "--", "sleep", "100"}, "env"},
		{[]string{"--", "sleep", "100"}, "env"},
	} {
		r := e.run(append([]string{"start", "--json", "--name", "rr", "--reuse"}, c.args...)...)
		if r.Code != 1 || !strings.Contains(r.Out, `"kind":"conflict"`) || !strings.Contains(r.Err, c.what) || !strings.Contains(r.Err, first.ID) {
			t.Fatalf("reuse with other %s %q: exit %d\nstdout %s\nstderr %s\nwant a conflict naming the %s and the running task", c.what, c.args, r.Code, r.Out, r.Err, c.what)
		}
	}
	if got := e.must("list", "--json"); strings.Count(got, `"name":"rr"`) != 1 {
		t.Fatalf("a refused reuse started a task: %s", got)
	}
}

// TestTrapStartCannotRun: a program that cannot be executed fails start
// with the reason and exit status 127, and the task is recorded as exited
// 127; a shell whose command is not found is an ordinary exit.
func TestTrapStartCannotRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.run("start", "--name", "nx", "--", "nosuchcommand-xyz", "--flag")
	if r.Code != 127 || !strings.Contains(r.Err, "start nx") || !strings.Contains(r.Err, "cannot run nosuchcommand-xyz") {
		t.Fatalf("start of a missing program: exit %d, stdout %q, stderr %q; want 127 and the reason", r.Code, r.Out, r.Err)
	}
	st := e.status("nx")
	if st.State != "exited" || st.ExitCode == nil || *st.ExitCode != 127 || st.Error == "" {
		t.Fatalf("status after a start that could not run: %+v, want exited 127 with an error", st)
	}
	r = e.run("start", "--json", "--name", "nx2", "--", "nosuchcommand-xyz", "--flag")
	if r.Code != 127 || !strings.Contains(r.Out, `"error":{"kind":"failed"`) {
		t.Fatalf("start --json of a missing program: exit %d, stdout %q", r.Code, r.Out)
	}
	if e.status("nx2").State != "exited" {
		t.Fatalf("nx2 is not recorded as exited")
	}
	// A shell string: the shell runs, and its exit 127 is the task's.
	sh := e.start("--name", "shx", "--", "nosuchcommand-xyz")
	if got := e.waitFinished(sh.ID); got.ExitCode == nil || *got.ExitCode != 127 || got.Error != "" {
		t.Fatalf("shell string: %+v, want an ordinary exit 127", got)
	}
}

// TestTrapAttachNamesTheWindow: after a name is reused, the task's attach
// command opens its own window (by id), not the old one of that name.
func TestTrapAttachNamesTheWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	old := e.start("--name", "prog", "--", "true")
	e.waitFinished(old.ID)
	cur := e.start("--name", "prog", "--", "sleep", "100")
	st := e.status("prog")
	if st.ID != cur.ID || st.Tmux.Window == "" || st.Tmux.Window == old.Tmux.Window {
		t.Fatalf("status prog: %+v (old window %s)", st, old.Tmux.Window)
	}
	want := "-t " + st.Tmux.Window
	if !strings.HasSuffix(st.Tmux.Attach, want) {
		t.Fatalf("attach command %q does not end in %q", st.Tmux.Attach, want)
	}
	if out := e.must("status", "prog"); !strings.Contains(out, want) {
		t.Fatalf("status text does not show %q:\n%s", want, out)
	}
	// tmux takes it: the target resolves to the new task's window.
	if got, err := e.tmux("display-message", "-p", "-t", st.Tmux.Window, "#{window_id} #{pane_id}"); err != nil || strings.TrimSpace(got) != st.Tmux.Window+" "+st.Tmux.Pane {
		t.Fatalf("tmux resolves %s to %q (%v), want %s %s", st.Tmux.Window, got, err, st.Tmux.Window, st.Tmux.Pane)
	}
}

// TestTrapLostReason: a lost task says why, in JSON and in text, before
// and after restore.
func TestTrapLostReason(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fine := trapDecode(t, e.must("start", "--json", "--name", "fine", "--", "sleep", "100"))
	if fine.LostReason != nil {
		t.Fatalf("a running task has a lost_reason: %q", *fine.LostReason)
	}
	if !strings.Contains(e.must("status", "--json", "fine"), `"lost_reason":null`) {
		t.Fatalf("lost_reason is not always present")
	}
	tk := e.start("--name", "victim", "--", "sleep", "100")
	run := lpReadRun(t, e, tk.ID)
	lpKill(t, run.SupervisorPID, syscall.SIGKILL)
	if !poll(20*time.Second, func() bool { return !pidAlive(run.SupervisorPID) }) {
		t.Fatalf("supervisor %d survived SIGKILL", run.SupervisorPID)
	}
	for _, when := range []string{"before restore", "after restore"} {
		st := trapDecode(t, e.must("status", "--json", "victim"))
		if st.State != "lost" || st.LostReason == nil || *st.LostReason != "supervisor gone" {
			t.Fatalf("%s: state %s lost_reason %v, want lost, supervisor gone", when, st.State, st.LostReason)
		}
		if out := e.must("status", "victim"); !strings.Contains(out, "lost (supervisor gone)") {
			t.Fatalf("%s: status text does not say why:\n%s", when, out)
		}
		if out := e.must("list"); !strings.Contains(out, "lost (supervisor gone)") {
			t.Fatalf("%s: list does not say why:\n%s", when, out)
		}
		e.must("restore")
	}
	e.must("stop", "victim")
}

// TestTrapRestartsInText: a pending restart and a policy that gave up
// show in list and status; stop during a pending restart says it ended
// the policy.
func TestTrapRestartsInText(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start("--name", "flaky", "--restart", "on-failure", "--max-restarts", "2", "--", "sh", "-c", "exit 1")
	pending := regexp.MustCompile(`exited 1, restarting in \d+s \([12] of 2\)`)
	var last string
	if !poll(20*time.Second, func() bool { last = e.must("status", "flaky"); return pending.MatchString(last) }) {
		t.Fatalf("status never showed the pending restart:\n%s", last)
	}
	st := trapDecode(t, e.must("status", "--json", "flaky"))
	if st.MaxRestarts == nil || *st.MaxRestarts != 2 {
		t.Fatalf("max_restarts %v, want 2", st.MaxRestarts)
	}
	if !poll(20*time.Second, func() bool {
		last = e.must("list")
		return strings.Contains(last, "exited 1, gave up after 2 restarts")
	}) {
		t.Fatalf("list never showed that the policy gave up:\n%s", last)
	}
	if out := e.must("status", "flaky"); !strings.Contains(out, "gave up after 2 restarts") {
		t.Fatalf("status does not show that the policy gave up:\n%s", out)
	}
	if st := trapDecode(t, e.must("status", "--json", "flaky")); st.GaveUp == nil || !*st.GaveUp {
		t.Fatalf("gave_up %v, want true", st.GaveUp)
	}
	plain := trapDecode(t, e.must("start", "--json", "--", "sleep", "100"))
	if plain.MaxRestarts != nil || plain.GaveUp == nil || *plain.GaveUp {
		t.Fatalf("a task without a bound: max_restarts %v gave_up %v, want null and false", plain.MaxRestarts, plain.GaveUp)
	}

	// The second pending restart waits 2s, the third 4s: stop in the wait.
	e.start("--name", "loop", "--restart", "always", "--", "sh", "-c", "exit 1")
	e.waitState("loop", 20*time.Second, func(task) bool {
		st := trapDecode(t, e.must("status", "--json", "loop"))
		return st.Restarts >= 2 && st.NextRestartAt != nil && time.Until(*st.NextRestartAt) > time.Second
	})
	out := e.must("stop", "loop")
	if !strings.Contains(out, "ended the restart policy of loop") || strings.Contains(out, "already") {
		t.Fatalf("stop during a pending restart said %q", out)
	}
	if out := e.must("status", "loop"); strings.Contains(out, "restarting") || strings.Contains(out, "gave up") {
		t.Fatalf("after stop, status still shows a policy:\n%s", out)
	}
}

// TestTrapFollowEndsLikeWait: logs --follow prints one exit line and exits
// with the task's status.
func TestTrapFollowEndsLikeWait(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start("--name", "f3", "--", "sh", "-c", "echo hello; sleep 1; exit 3")
	r := e.run("logs", "--follow", "f3")
	if r.Code != 3 {
		t.Fatalf("logs --follow of a task that exited 3: exit %d\n%s%s", r.Code, r.Out, r.Err)
	}
	lines := strings.Split(strings.TrimSuffix(r.Out, "\n"), "\n")
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "[bgmux]") {
			n++
		}
	}
	if n != 1 || !regexp.MustCompile(`^\[bgmux\] exited 3 after \d`).MatchString(lines[len(lines)-1]) || lines[0] != "hello" {
		t.Fatalf("logs --follow printed %q; want hello, then one exit line", r.Out)
	}
	if r := e.run("logs", "--follow", "--json", "f3"); r.Code != 3 {
		t.Fatalf("logs --follow --json: exit %d", r.Code)
	}
	e.start("--name", "f0", "--", "sh", "-c", "echo ok")
	if r := e.run("logs", "--follow", "f0"); r.Code != 0 || strings.Count(r.Out, "[bgmux]") != 1 {
		t.Fatalf("logs --follow of a task that exited 0: exit %d\n%s", r.Code, r.Out)
	}
}
