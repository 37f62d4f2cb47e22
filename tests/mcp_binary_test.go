package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMCPNeedsCompanionBinary checks that `bgmux mcp` from a bgmux binary
// with no bgmux-mcp beside it or on PATH fails with exit status 1 and a
// message that says how to build the server, instead of hanging or
// speaking half a protocol on stdout.
func TestMCPNeedsCompanionBinary(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alone := filepath.Join(t.TempDir(), "bgmux")
	data, err := os.ReadFile(bgmuxBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(alone, data, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(alone, "mcp")
	cmd.Dir = e.Dir
	for _, kv := range e.Environ() {
		if !strings.HasPrefix(kv, "PATH=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(cmd.Env, "PATH="+filepath.Dir(tmux))
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := -1
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err == nil {
		code = 0
	}
	if code != 1 {
		t.Fatalf("bgmux mcp without bgmux-mcp: exit %d (%v), want 1\nstderr: %s", code, err, stderr.String())
	}
	if stdout.Len() != 0 {
		t.Fatalf("stdout must stay empty (it is the protocol channel): %q", stdout.String())
	}
	if !strings.Contains(stderr.String(), "go build -o . . ./cmd/bgmux-mcp") {
		t.Fatalf("the error does not say how to build bgmux-mcp: %q", stderr.String())
	}
}

// TestMCPTasksUseSmallSupervisor checks that a task started over MCP is
// supervised by the bgmux binary, not by bgmux-mcp: the supervisors are
// the long-lived processes, and the small binary costs half the memory.
func TestMCPTasksUseSmallSupervisor(t *testing.T) {
	e := newEnv(t)
	c := mcpConnect(t, e)
	var tk task
	c.ok("start_task", map[string]any{"command": []string{"sleep", "300"}, "name": "small"}, &tk)
	var run struct {
		SupervisorPID int `json:"supervisor_pid"`
	}
	if !poll(20*time.Second, func() bool {
		b, err := os.ReadFile(filepath.Join(e.State, "tasks", tk.ID, "run"))
		return err == nil && json.Unmarshal(b, &run) == nil && run.SupervisorPID > 0
	}) {
		t.Fatalf("no run sidecar with a supervisor pid for %s", tk.ID)
	}
	exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(run.SupervisorPID), "exe"))
	if err != nil {
		t.Fatal(err)
	}
	if exe != bgmuxBin {
		t.Fatalf("supervisor runs %s, want %s", exe, bgmuxBin)
	}
}
