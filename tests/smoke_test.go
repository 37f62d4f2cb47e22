package tests

import (
	"testing"
	"time"
)

func TestStartStatusStop(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tk := e.start("--name", "sleeper", "--", "sleep", "1000")
	if tk.State != "running" || tk.PID == nil {
		t.Fatalf("just started: state %q pid %v, want running with a pid", tk.State, tk.PID)
	}
	if tk.Group != e.Group || tk.Name != "sleeper" || len(tk.Argv) != 2 {
		t.Fatalf("unexpected task object %+v", tk)
	}
	e.must("stop", "sleeper")
	got := e.waitState("sleeper", 10*time.Second, func(t task) bool { return t.State != "running" })
	if got.State != "killed" || got.Signal == nil || *got.Signal != "SIGTERM" {
		t.Fatalf("after stop: %+v, want killed by SIGTERM", got)
	}
	if pidAlive(*tk.PID) {
		t.Fatalf("pid %d still alive after stop", *tk.PID)
	}
}
