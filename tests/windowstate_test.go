package tests

import (
	"strings"
	"testing"
	"time"
)

// TestWindowListShowsState: a task that exited 1 carries the failed marker
// on its window (not in its name), and the session's status line counts
// running and failed tasks.
func TestWindowListShowsState(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	run := e.start("--name", "server", "--", "sleep", "1000")
	bad := e.start("--name", "broken", "--", "sh", "-c", "exit 1")
	ok := e.start("--name", "fine", "--", "true")
	e.waitFinished("broken")
	e.waitFinished("fine")
	state := func(window string) string {
		out, _ := e.tmux("display-message", "-p", "-t", window, "#{@bgmux_state}")
		return strings.TrimSpace(out)
	}
	if !poll(10*time.Second, func() bool { return state(bad.Tmux.Window) == "failed" && state(ok.Tmux.Window) == "ok" }) {
		t.Fatalf("window states: broken %q, fine %q; want failed and ok", state(bad.Tmux.Window), state(ok.Tmux.Window))
	}
	if s := state(run.Tmux.Window); s != "running" {
		t.Fatalf("running task's window state %q", s)
	}
	name, _ := e.tmux("display-message", "-p", "-t", bad.Tmux.Window, "#{window_name}")
	if strings.TrimSpace(name) != "broken" {
		t.Fatalf("the failed window was renamed to %q", name)
	}
	entry, _ := e.tmux("display-message", "-p", "-t", bad.Tmux.Window, "#{E:window-status-format}")
	if !strings.Contains(entry, "✗") || !strings.Contains(entry, "broken") {
		t.Fatalf("window list entry of the failed task: %q, want the ✗ marker and its name", entry)
	}
	plain, _ := e.tmux("display-message", "-p", "-t", run.Tmux.Window, "#{E:window-status-format}")
	if strings.Contains(plain, "✗") || !strings.Contains(plain, "server") {
		t.Fatalf("window list entry of the running task: %q", plain)
	}
	right, _ := e.tmux("display-message", "-p", "-t", run.Tmux.Window, "#{E:status-right}")
	if !strings.Contains(right, "1 running") || !strings.Contains(right, "1 failed") {
		t.Fatalf("status line %q, want 1 running and 1 failed", right)
	}

	// A restart marks the window running again.
	e.must("restart", "broken")
	if s := state(bad.Tmux.Window); s != "running" && s != "failed" {
		t.Fatalf("state after restart: %q", s)
	}
}
