package tests

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// auditRunWithin runs bgmux with a hard deadline (so a hung bgmux fails
// the test instead of blocking it) and returns its result and how long it
// took; a run killed at the deadline has Code -1.
func auditRunWithin(e *env, limit time.Duration, args ...string) (result, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bgmuxBin, args...)
	cmd.Dir = e.Dir
	cmd.Env = e.Environ()
	// A tmux client bgmux started may hold the pipes past bgmux's end.
	cmd.WaitDelay = 200 * time.Millisecond
	began := time.Now()
	r := runCmd(cmd)
	if ctx.Err() != nil {
		r.Code = -1
	}
	return r, time.Since(began)
}

// auditStopServer stops the test's tmux server with SIGSTOP and returns
// its pid and the function that resumes it, which also runs at cleanup
// whatever happens (before the server is killed).
func auditStopServer(t *testing.T, e *env) (int, func()) {
	t.Helper()
	out, err := e.tmux("display-message", "-p", "#{pid}")
	pid, perr := strconv.Atoi(strings.TrimSpace(out))
	if err != nil || perr != nil || pid <= 1 {
		t.Fatalf("tmux server pid: %q %v", out, err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			syscall.Kill(pid, syscall.SIGCONT)
		}
	}
	t.Cleanup(resume)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	return pid, resume
}

// TestAuditTmuxStopped: with the tmux server stopped (SIGSTOP), start,
// screen, send, attach --print, restart, rm and rm --force each give up
// within the configured tmux_timeout with tmux_unavailable (exit 1) and
// change nothing: no task is created, the live task keeps running, the
// finished one keeps its run. Once the server resumes and runs the
// new-window it was asked for, that late window's supervisor finds its
// task withdrawn, runs nothing and closes the window. On the old code
// start blocked until tmux woke and then left a task running with no
// window record.
func TestAuditTmuxStopped(t *testing.T) {
	e := newEnv(t)
	e.useConfig("tmux_timeout: 1s\n")
	live := e.start("--name", "live", "--", "sleep", "100000")
	done := e.start("--name", "done", "--", "true")
	e.waitFinished(done.ID)
	last, err := e.tmux("new-window", "-d", "-P", "-F", "#{window_id}", "-t", "="+live.Group+":", "sleep", "100000")
	if err != nil {
		t.Fatalf("new-window: %v %s", err, last)
	}
	lastID, _ := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(last), "@"))
	marker := e.Dir + "/ran"

	_, resume := auditStopServer(t, e)
	const bound = 4 * time.Second // tmux_timeout 1s, plus bgmux's own start-up, under load
	for _, args := range [][]string{
		{"start", "--json", "--name", "late", "--", "sh", "-c", "touch " + marker + "; sleep 100000"},
		{"screen", "--json", "live"},
		{"send", "--json", "live", "echo hi"},
		{"attach", "--print", "live"},
		{"restart", "--json", "done"},
		{"rm", "--json", "done"},
		{"rm", "--json", "--force", "live"},
	} {
		r, took := auditRunWithin(e, 20*time.Second, args...)
		what := strings.Join(args, " ")
		if r.Code == -1 {
			t.Fatalf("bgmux %s with the tmux server stopped did not return within 20s", what)
		}
		if took > bound || r.Code != 1 || !strings.Contains(r.Err, "did not answer within 1s") {
			t.Fatalf("bgmux %s with the tmux server stopped: exit %d after %v, stderr %q; want exit 1 within %v saying tmux did not answer", what, r.Code, took, r.Err, bound)
		}
		if args[0] == "send" && !strings.Contains(r.Err, "tmux may still type it") {
			t.Fatalf("bgmux send with the tmux server stopped: %q does not warn that the text may still be typed", r.Err)
		}
		if args[1] == "--json" {
			var doc struct {
				Error struct{ Kind string } `json:"error"`
			}
			if json.Unmarshal([]byte(r.Out), &doc) != nil || doc.Error.Kind != "tmux_unavailable" {
				t.Fatalf("bgmux %s: stdout %q, want an error of kind tmux_unavailable", what, r.Out)
			}
		}
	}
	livePID, liveRuns := *live.PID, 1
	check := func(when string) {
		t.Helper()
		if dirs := edgeTaskDirs(t, e); len(dirs) != 2 {
			t.Fatalf("%s: task dirs %v, want only live and done", when, dirs)
		}
		if s := e.status(live.ID); s.State != "running" || s.PID == nil || *s.PID != livePID || s.Runs != liveRuns {
			t.Fatalf("%s: live is %+v, want it running untouched (pid %d, run %d)", when, s, livePID, liveRuns)
		}
		if s := e.status(done.ID); s.State != "exited" || s.Runs != 1 {
			t.Fatalf("%s: done is %+v, want it exited after its one run", when, s)
		}
	}
	check("with tmux stopped")
	// Since issue 13 a live task is restarted by its own supervisor,
	// through its control socket: tmux is not needed for it.
	r, took := auditRunWithin(e, 20*time.Second, "restart", "--json", "live")
	if r.Code != 0 || took > bound {
		t.Fatalf("bgmux restart live with the tmux server stopped: exit %d after %v, stderr %q; want it restarted by its supervisor within %v", r.Code, took, r.Err, bound)
	}
	if s := e.status(live.ID); s.State != "running" || s.PID == nil || *s.PID == livePID || s.Runs != 2 {
		t.Fatalf("live after its restart with tmux stopped: %+v; want run 2 running", s)
	} else {
		livePID, liveRuns = *s.PID, 2
	}
	check("restarted with tmux stopped")

	// tmux wakes up and runs what it was sent, the late new-window
	// included: its supervisor must find nothing to run and close it.
	resume()
	if !poll(20*time.Second, func() bool {
		out, err := e.tmux("list-windows", "-a", "-F", "#{window_id} #{window_name}")
		return err == nil && strings.Count(out, "\n") == 3 && !strings.Contains(out, " late\n") && !strings.Contains(out, " bg-")
	}) {
		out, _ := e.tmux("list-windows", "-a", "-F", "#{window_id} #{window_name} #{pane_dead} #{@bgmux_id}")
		t.Fatalf("after the server resumed, windows:\n%s\nwant only live's, done's and the extra one", out)
	}
	check("after tmux resumed")
	// The late window did exist (its id was taken), and ran nothing.
	next, err := e.tmux("new-window", "-d", "-P", "-F", "#{window_id}", "-t", "="+live.Group+":", "true")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(next), "@")); n < lastID+2 {
		t.Fatalf("next window id %s after @%d: the late new-window never ran, so the test proved nothing", strings.TrimSpace(next), lastID)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the late window ran the command of the start that gave up")
	}
	if r := e.run("list", "--json"); r.Code != 0 || strings.Contains(r.Out, "late") {
		t.Fatalf("list after tmux resumed: exit %d %s", r.Code, r.Out)
	}
}

// TestAuditWithdrawnLaunchRunsNothing: a supervisor whose launch was
// withdrawn runs nothing. One for a task that does not exist (a start that
// gave up removed it) closes its window; one with a restart token that is
// not the latest (a restart that gave up withdrew it) closes a window
// that is not the task's, and in the task's own pane (a late
// respawn-pane) leaves the pane as it was: the task keeps its one run.
// With the latest token the task runs again. (On the old code such a
// supervisor failed or ran, and its window stayed.)
func TestAuditWithdrawnLaunchRunsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	done := e.start("--name", "done", "--", "true")
	e.waitFinished(done.ID)
	window := func(args ...string) string {
		t.Helper()
		// As bgmux makes it (since issue 13 without an output pipe).
		name := "w" + randHex(4)
		argv := append([]string{"new-window", "-d", "-P", "-F", "#{window_id}", "-n", name, "-t", "=" + done.Group + ":", "--", bgmuxBin, "__supervise", "--state-dir", e.State}, args...)
		out, err := e.tmux(argv...)
		if err != nil {
			t.Fatalf("new-window: %v %s", err, out)
		}
		return strings.TrimSpace(out)
	}
	gone := func(win, what string) {
		t.Helper()
		if !poll(20*time.Second, func() bool {
			out, err := e.tmux("list-windows", "-a", "-F", "#{window_id}")
			return err == nil && !strings.Contains(out, win+"\n")
		}) {
			out, _ := e.tmux("capture-pane", "-p", "-t", win)
			t.Fatalf("%s: window %s is still there:\n%s", what, win, out)
		}
	}
	gone(window("bg-nosuch"), "a supervisor of a task that does not exist")
	gone(window("--launch", "0123456789abcdef", done.ID), "a supervisor with a withdrawn restart token, in a new window")

	// The same in the task's own (dead) pane, as a late respawn-pane.
	if out, err := e.tmux("respawn-pane", "-k", "-t", done.Tmux.Pane, "--", bgmuxBin, "__supervise", "--state-dir", e.State, "--launch", "0123456789abcdef", done.ID); err != nil {
		t.Fatalf("respawn-pane: %v %s", err, out)
	}
	if !poll(20*time.Second, func() bool {
		out, err := e.tmux("display-message", "-p", "-t", done.Tmux.Pane, "#{pane_dead}")
		return err == nil && strings.TrimSpace(out) == "1"
	}) {
		t.Fatal("the respawned supervisor with a withdrawn token did not end")
	}
	if s := e.status(done.ID); s.State != "exited" || s.Runs != 1 {
		t.Fatalf("after withdrawn launches the task is %+v, want it exited after its one run", s)
	}

	// The latest token runs it.
	if err := os.WriteFile(e.State+"/tasks/"+done.ID+"/launch", []byte("fedcba9876543210\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	window("--launch", "fedcba9876543210", done.ID)
	e.waitState(done.ID, 20*time.Second, func(s task) bool { return s.Runs == 2 && s.State == "exited" })
}

// auditProcsNaming lists live processes whose command line holds s, but
// for the tmux server (whose command line is that of the client that
// started it).
func auditProcsNaming(s string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, d := range ents {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		comm, _ := os.ReadFile("/proc/" + d.Name() + "/comm")
		if err == nil && strings.Contains(string(cmd), s) && !strings.HasPrefix(string(comm), "tmux") && pidAlive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}
