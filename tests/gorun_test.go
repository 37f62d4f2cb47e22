package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// bgmux started through "go run" (whose binary is deleted when go run
// exits) leaves a task that still runs, finishes and reports its exit.
func TestGoRunStartOutlivesGoRun(t *testing.T) {
	e := newEnv(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root %s: %v", root, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "run", root, "start", "--json", "--cwd", e.Dir, "--",
		"sh", "-c", "until [ -e release ]; do sleep 0.05; done; echo done-after-go-run")
	cmd.Dir = root
	cmd.Env = e.Environ()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("go run bgmux start: %v\nstdout: %s\nstderr: %s", err, out.String(), errb.String())
	}
	var tk task
	edgeOneJSON(t, "go run bgmux start --json", out.String(), &tk)

	// go run has exited and removed its binary; the task runs on.
	st := e.status(tk.ID)
	if st.State != "running" {
		t.Fatalf("after go run exited the task is %q, want running: %+v", st.State, st)
	}
	var run struct {
		SupervisorPID int `json:"supervisor_pid"`
	}
	data, err := os.ReadFile(filepath.Join(e.State, "tasks", tk.ID, "run"))
	if err != nil || json.Unmarshal(data, &run) != nil || run.SupervisorPID <= 0 {
		t.Fatalf("run sidecar: %v %q", err, data)
	}
	exe, err := os.Readlink("/proc/" + strconv.Itoa(run.SupervisorPID) + "/exe")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(exe, filepath.Join(e.State, "bin")+string(filepath.Separator)) {
		t.Fatalf("the supervisor runs %q, not a copy kept in the state dir", exe)
	}

	if err := os.WriteFile(filepath.Join(e.Dir, "release"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	got := e.waitFinished(tk.ID)
	if got.State != "exited" || got.ExitCode == nil || *got.ExitCode != 0 {
		t.Fatalf("task after go run: %+v, want exited 0", got)
	}
	e.waitLog(tk.ID, "done-after-go-run", 10*time.Second)
}
