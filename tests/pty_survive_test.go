package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ptyStillRunning fails the test unless every task of ids is running
// (with its first pid) at each look during d.
func ptyStillRunning(t *testing.T, e *env, d time.Duration, first map[string]int) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); {
		for id, pid := range first {
			if s := e.status(id); s.State != "running" || s.PID == nil || *s.PID != pid || s.Runs != 1 {
				t.Fatalf("task %s after its window went away: %s, want still running its first run, pid %d", id, ptyDesc(s), pid)
			}
		}
	}
}

// TestPtyKillServerSurvives: tmux kill-server does not stop tasks. Five
// tasks printing a counter stay running, their logs keep growing without a
// gap; attach --print gives each a window again, whose screen shows the
// live counter; stop then records each one's SIGTERM.
func TestPtyKillServerSurvives(t *testing.T) {
	e := newEnv(t)
	var ids []string
	pids := map[string]int{}
	for i := 1; i <= 5; i++ {
		tk := e.start("--name", fmt.Sprintf("c%d", i), "--", ptyTicker)
		ids = append(ids, tk.ID)
		pids[tk.ID] = *tk.PID
	}
	for _, id := range ids {
		e.waitLog(id, "tick 3\n", 20*time.Second)
	}
	ptyKillServer(t, e)
	before := map[string]int{}
	for _, id := range ids {
		before[id] = ptyCounter(t, e, id)
	}
	ptyStillRunning(t, e, 2*time.Second, pids)
	for _, id := range ids {
		if !poll(20*time.Second, func() bool { return ptyCounter(t, e, id) > before[id]+10 }) {
			t.Fatalf("log of %s stopped growing after kill-server: %d ticks, %d before", id, ptyCounter(t, e, id), before[id])
		}
	}
	for _, id := range ids {
		ptyWindow(t, e, id)
		seen := ptyCounter(t, e, id)
		ptyWaitScreen(t, e, id, fmt.Sprintf("a tick after %d", seen), func(lines []string) bool {
			ticks := ptyTicks(strings.Join(lines, "\n"))
			return len(ticks) > 0 && ticks[len(ticks)-1] > seen
		})
	}
	for _, id := range ids {
		e.must("stop", id)
		st := e.waitFinished(id)
		if st.State != "killed" || st.Signal == nil || *st.Signal != "SIGTERM" {
			t.Fatalf("stop %s after the reattach: %s, want killed by SIGTERM", id, ptyDesc(st))
		}
		ptyCounter(t, e, id)
	}
}

// ptyEcho runs a counter in the background and echoes each line it reads
// as got:LINE.
const ptyEcho = `(` + ptyTicker + `) & while read l; do echo "got:$l"; done`

// TestPtyViewerReconnect: a task's window killed by hand three times and
// given back by attach --print each time: the task keeps its run and pid,
// text sent through each new window reaches it once, and its log has the
// counter without a gap or a duplicate.
func TestPtyViewerReconnect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tk := e.start("--name", "echo", "--", ptyEcho)
	e.waitLog(tk.ID, "tick 2\n", 20*time.Second)
	win := tk.Tmux.Window
	for round := 1; round <= 3; round++ {
		if out, err := e.tmux("kill-window", "-t", win); err != nil {
			t.Fatalf("round %d: kill-window %s: %v %s", round, win, err, out)
		}
		ptyStillRunning(t, e, 200*time.Millisecond, map[string]int{tk.ID: *tk.PID})
		win = ptyWindow(t, e, tk.ID)
		ptyWaitScreen(t, e, tk.ID, "a tick", func(lines []string) bool { return len(ptyTicks(strings.Join(lines, "\n"))) > 0 })
		word := fmt.Sprintf("hello-%d", round)
		e.must("send", tk.ID, word)
		e.waitLog(tk.ID, "got:"+word+"\n", 20*time.Second)
		if s := e.status(tk.ID); s.State != "running" || s.PID == nil || *s.PID != *tk.PID || s.Runs != 1 {
			t.Fatalf("round %d: %s, want the first run still running, pid %d", round, ptyDesc(s), *tk.PID)
		}
	}
	e.must("stop", tk.ID)
	e.waitFinished(tk.ID)
	log := e.must("logs", tk.ID)
	for round := 1; round <= 3; round++ {
		if n := strings.Count(log, fmt.Sprintf("got:hello-%d\n", round)); n != 1 {
			t.Fatalf("got:hello-%d is %d times in the log, want once:\n%s", round, n, edgeShort(log))
		}
	}
	ptyCounter(t, e, tk.ID)
}

// TestPtySendWithoutWindow: with the tmux server gone, bgmux send still
// reaches the task, through its supervisor's control socket (mode 0600),
// without starting a tmux server.
func TestPtySendWithoutWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tk := e.start("--name", "reader", "--", `echo ready; while read l; do echo "got:$l"; done`)
	e.waitLog(tk.ID, "ready\n", 20*time.Second)
	ptyKillServer(t, e)
	ptyStillRunning(t, e, 200*time.Millisecond, map[string]int{tk.ID: *tk.PID})
	sock := filepath.Join(e.State, "tasks", tk.ID, "control.sock")
	fi, err := os.Lstat(sock)
	if err != nil || fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control socket %s: %v %v, want a unix socket of mode 0600", sock, fi, err)
	}
	e.must("send", tk.ID, "x")
	e.waitLog(tk.ID, "got:x\n", 20*time.Second)
	if out, err := e.tmux("list-sessions"); err == nil {
		t.Fatalf("send to a task without a window started a tmux server:\n%s", out)
	}
	if s := e.status(tk.ID); s.State != "running" || s.PID == nil || *s.PID != *tk.PID {
		t.Fatalf("after send: %s, want still running", ptyDesc(s))
	}
}

// TestPtySupervisorKilled: SIGKILL the supervisor: its task gets the
// hang-up of its terminal and dies, the task is lost with a reason, the
// log keeps what was written, and nothing of bgmux is left: no process
// naming the state dir, no pipe-pane, no cat under tmux.
func TestPtySupervisorKilled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tk := e.start("--name", "victim", "--", "echo ready; exec sleep 100000")
	e.waitLog(tk.ID, "ready\n", 20*time.Second)
	run := lpReadRun(t, e, tk.ID)
	server := ptyServerPID(t, e)
	lpKill(t, run.SupervisorPID, 9)
	if !poll(20*time.Second, func() bool { return !pidAlive(run.PID) }) {
		t.Fatalf("child %d still alive 20s after its supervisor %d was SIGKILLed (no hang-up)", run.PID, run.SupervisorPID)
	}
	st := e.status(tk.ID)
	if st.State != "lost" || ptyLostReason(t, e, tk.ID) == "" {
		t.Fatalf("after the supervisor was killed: %s (lost_reason %q), want lost with a reason", ptyDesc(st), ptyLostReason(t, e, tk.ID))
	}
	if log := e.must("logs", tk.ID); log != "ready\n" {
		t.Fatalf("log of the lost task: %q, want ready", log)
	}
	// The tmux server's command line names the state dir too (that of the
	// start that made it); auditProcsNaming leaves it out.
	if !poll(10*time.Second, func() bool { return len(auditProcsNaming(e.State)) == 0 }) {
		var left []string
		for _, pid := range auditProcsNaming(e.State) {
			cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			left = append(left, fmt.Sprintf("%d %q", pid, cmd))
		}
		t.Fatalf("processes of bgmux are left: %v", left)
	}
	if out, err := e.tmux("list-panes", "-a", "-F", "#{pane_pipe}"); err == nil && strings.Contains(out, "1") {
		t.Fatalf("a pane still pipes its output (pane_pipe):\n%s", out)
	}
	for _, p := range ptyProcs() {
		if p.PPID == server && p.Comm == "cat" {
			t.Fatalf("tmux still runs %d %q for a pipe", p.PID, p.Cmdline)
		}
	}
}
