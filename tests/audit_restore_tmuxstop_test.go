package tests

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAuditRestoreTmuxStopped: restore with the task's tmux server stopped
// (SIGSTOP) cannot see the server's panes, and judges nothing from what it
// did not see. A task lost because its supervisor died is recorded lost
// for the reason its records give (not "tmux server gone" or "window
// gone"), its window record is kept, and its restart fails cleanly. Once
// the server answers again, the next restore brings it back in its old
// pane: no second window of the task appears beside it. On the old code
// restore took the server that did not answer for one that was gone: it
// recorded "tmux server gone", deleted the window record, and the next
// restore opened a new window beside the task's old one.
func TestAuditRestoreTmuxStopped(t *testing.T) {
	e := newEnv(t)
	e.useConfig("tmux_timeout: 1s\n")
	tk := e.start("--name", "back", "--restart", "always", "--", "sleep", "100000")
	run := lpReadRun(t, e, tk.ID)
	// The supervisor first, so that it records nothing of the child's end.
	lpKill(t, run.SupervisorPID, syscall.SIGKILL)
	if !poll(20*time.Second, func() bool { return !pidAlive(run.SupervisorPID) }) {
		t.Fatalf("supervisor %d survived SIGKILL", run.SupervisorPID)
	}
	syscall.Kill(-run.PGID, syscall.SIGKILL)
	e.waitState(tk.ID, 20*time.Second, func(s task) bool { return s.State == "lost" })
	windowFile := filepath.Join(scTaskDir(e, tk.ID), "window")
	before := ftRead(t, windowFile)

	_, resume := auditStopServer(t, e)
	r, took := auditRunWithin(e, 30*time.Second, "restore")
	resume()
	if r.Code == -1 {
		t.Fatalf("restore with the tmux server stopped hung for %v", took)
	}
	if b, err := os.ReadFile(windowFile); err != nil || string(b) != string(before) {
		t.Fatalf("restore with the tmux server stopped changed the window record (%v): before %s\nafter %s\nrestore: exit %d\n%s%s", err, before, b, r.Code, r.Out, r.Err)
	}
	var ex struct {
		Lost       bool   `json:"lost"`
		LostReason string `json:"lost_reason"`
	}
	if _, err := os.Stat(filepath.Join(scTaskDir(e, tk.ID), "exit")); err == nil {
		scReadSidecar(t, e, tk.ID, "exit", &ex)
		if strings.Contains(ex.LostReason, "tmux") || strings.Contains(ex.LostReason, "window") {
			t.Fatalf("restore with the tmux server stopped recorded the task lost with reason %q: it did not see the server", ex.LostReason)
		}
	}

	r = e.run("restore")
	if r.Code != 0 {
		t.Fatalf("restore after the server resumed: exit %d\n%s%s", r.Code, r.Out, r.Err)
	}
	st := e.waitState(tk.ID, 20*time.Second, func(s task) bool { return s.State == "running" })
	if st.Tmux.Pane != tk.Tmux.Pane {
		t.Fatalf("restore brought the task back in pane %s, not in its old pane %s", st.Tmux.Pane, tk.Tmux.Pane)
	}
	out, err := e.tmux("list-windows", "-a", "-F", "#{window_id} #{@bgmux_id}")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, " "+tk.ID); n != 1 {
		t.Fatalf("tmux shows %d windows of the task, want 1:\n%s", n, out)
	}
	e.must("stop", tk.ID)
}
