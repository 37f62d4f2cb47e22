package tests

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// goRun runs bgmux through "go run" (whose binary is deleted when it
// exits) in the test's world and returns its stdout.
func goRun(t *testing.T, e *env, args ...string) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", append([]string{"run", root}, args...)...)
	cmd.Dir = root // go run needs the module; tasks are found by name or config
	cmd.Env = e.Environ()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("go run bgmux %q: %v\nstdout: %s\nstderr: %s", args, err, out.String(), errb.String())
	}
	return out.String()
}

// supervisorExe is the executable of the task's current supervisor.
func supervisorExe(t *testing.T, e *env, id string) string {
	t.Helper()
	var run struct {
		SupervisorPID int `json:"supervisor_pid"`
	}
	scReadSidecar(t, e, id, "run", &run)
	exe, err := os.Readlink("/proc/" + strconv.Itoa(run.SupervisorPID) + "/exe")
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// TestGoRunUpAndRestart: up and restart work when bgmux is launched with
// go run: the supervisors run from the copy kept in the state dir.
func TestGoRunUpAndRestart(t *testing.T) {
	e := newEnv(t)
	e.useConfig("tasks:\n  svc:\n    command: \"echo svc-up; exec sleep 1000\"\n    ready: svc-up\n")
	goRun(t, e, "up")
	st := e.status("svc")
	if st.State != "running" {
		t.Fatalf("after go run up: %+v", st)
	}
	bin := filepath.Join(e.State, "bin") + string(filepath.Separator)
	if exe := supervisorExe(t, e, st.ID); !strings.HasPrefix(exe, bin) {
		t.Fatalf("up's supervisor runs %q, not the copy in %s", exe, bin)
	}
	goRun(t, e, "restart", "svc")
	st = e.status("svc")
	if st.State != "running" || st.Runs != 2 {
		t.Fatalf("after go run restart: %+v", st)
	}
	if exe := supervisorExe(t, e, st.ID); !strings.HasPrefix(exe, bin) {
		t.Fatalf("restart's supervisor runs %q, not the copy in %s", exe, bin)
	}
	var out string
	if !poll(10*time.Second, func() bool { out = e.must("logs", "svc"); return strings.Count(out, "svc-up") == 2 }) {
		t.Fatalf("log should hold both runs' ready lines:\n%s", out)
	}
}
