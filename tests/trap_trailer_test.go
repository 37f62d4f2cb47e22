package tests

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestTrapTrailerNotInLog: the supervisor's trailer ("[bgmux] exited 0
// after 0.0s") is not the task's output. logs, in every mode, returns only
// what the task wrote; logs --json reports the task's state as data.
func TestTrapTrailerNotInLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.must("start", "--name", "t1", "--", "sh", "-c", "echo FINAL RESULT: 42")
	e.run("wait", "t1")
	if got := e.must("logs", "t1", "--tail", "1"); got != "FINAL RESULT: 42\n" {
		t.Fatalf("logs --tail 1 = %q, want the task's last line", got)
	}
	if got := e.must("logs", "t1", "--tail", "2"); got != "FINAL RESULT: 42\n" {
		t.Fatalf("logs --tail 2 = %q, want only the task's one line", got)
	}
	if got := e.must("logs", "t1"); got != "FINAL RESULT: 42\n" {
		t.Fatalf("logs = %q", got)
	}
	if r := e.run("logs", "t1", "--grep", "bgmux"); strings.Contains(r.Out, "bgmux") {
		t.Fatalf("logs --grep bgmux matched the trailer: %q", r.Out)
	}
	var doc struct {
		Lines []string `json:"lines"`
		Size  int64    `json:"size"`
		Task  *struct {
			State    string `json:"state"`
			ExitCode *int   `json:"exit_code"`
		} `json:"task"`
	}
	out := e.must("logs", "t1", "--json")
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Lines) != 1 || doc.Lines[0] != "FINAL RESULT: 42" {
		t.Fatalf("logs --json lines = %q", doc.Lines)
	}
	if doc.Task == nil || doc.Task.State != "exited" || doc.Task.ExitCode == nil || *doc.Task.ExitCode != 0 {
		t.Fatalf("logs --json does not carry the task's state and exit status: %s", out)
	}
	if doc.Size != int64(len("FINAL RESULT: 42\r\n")) {
		t.Fatalf("the log holds %d bytes, want only the task's %d", doc.Size, len("FINAL RESULT: 42\r\n"))
	}
	// MCP read_output is the same document: the task's lines, its state.
	var mcp struct {
		Lines []string `json:"lines"`
		Task  *struct {
			State string `json:"state"`
		} `json:"task"`
	}
	mcpConnect(t, e).ok("read_output", map[string]any{"task": "t1"}, &mcp)
	if len(mcp.Lines) != 1 || mcp.Lines[0] != "FINAL RESULT: 42" || mcp.Task == nil || mcp.Task.State != "exited" {
		t.Fatalf("read_output: %+v", mcp)
	}
	if got := e.must("logs", "t1", "--new"); got != "FINAL RESULT: 42\n" {
		t.Fatalf("logs --new = %q", got)
	}
	if got := e.must("logs", "t1", "--since", "1h"); got != "FINAL RESULT: 42\n" {
		t.Fatalf("logs --since 1h = %q", got)
	}
	// --follow on a finished run: its output, then follow's own exit line.
	if got := e.run("logs", "t1", "--follow").Out; strings.Count(got, "[bgmux]") != 1 || !strings.HasPrefix(got, "FINAL RESULT: 42\n[bgmux] exited 0") {
		t.Fatalf("logs --follow = %q, want the output and one exit line", got)
	}
}

// TestTrapTrailerFollowLive: logs --follow of a running task prints each
// line as it comes (nothing held back) and ends with one exit line; its
// exit status is the task's.
func TestTrapTrailerFollowLive(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.must("start", "--name", "f", "--", "sh", "-c", "echo one; echo; echo '[bgmux] mine'; sleep 1; echo two; exit 3")
	r := e.run("logs", "f", "--follow")
	if r.Code != 3 {
		t.Fatalf("logs --follow exit status %d, want the task's 3", r.Code)
	}
	if !strings.HasPrefix(r.Out, "one\n\n[bgmux] mine\ntwo\n[bgmux] exited 3") || strings.Count(r.Out, "[bgmux] exited") != 1 {
		t.Fatalf("logs --follow = %q", r.Out)
	}
}

// TestTrapTrailerWaitForTail: start --wait-for on a task that exits early
// shows the task's last lines, not the supervisor's trailer.
func TestTrapTrailerWaitForTail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.run("start", "--name", "early", "--wait-for", "^ready$", "--timeout", "20s", "--", "sh", "-c", "echo booting; echo 'boom: bad config'; exit 4")
	if r.Code == 0 {
		t.Fatalf("start --wait-for succeeded on a task that exited early: %+v", r)
	}
	all := r.Out + r.Err
	if !strings.Contains(all, "boom: bad config") {
		t.Fatalf("start --wait-for did not show the task's last lines: %q", all)
	}
	if strings.Contains(all, "[bgmux] exited 4 after") {
		t.Fatalf("start --wait-for's last lines contain the supervisor's trailer: %q", all)
	}
}

// TestTrapTrailerRestartRuns: a task restarted by its policy logs each
// run's output in order and no trailer between them.
func TestTrapTrailerRestartRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	counter := t.TempDir() + "/n"
	e.must("start", "--name", "rr", "--restart", "on-failure", "--max-restarts", "2", "--", "sh", "-c",
		`n=$(cat "$0" 2>/dev/null || echo 0); n=$((n+1)); echo $n >"$0"; echo run-$n; exit 1`, counter)
	e.waitState("rr", 30*time.Second, func(tk task) bool { return tk.State == "exited" || tk.State == "failed" })
	var got string
	if !poll(30*time.Second, func() bool {
		got = e.must("logs", "rr")
		return strings.Count(got, "run-") == 3
	}) {
		t.Fatalf("logs after three runs = %q", got)
	}
	if strings.Contains(got, "[bgmux]") || strings.Contains(got, "\n\n") {
		t.Fatalf("the log holds supervisor lines: %q", got)
	}
	if got != "run-1\nrun-2\nrun-3\n" {
		t.Fatalf("the log = %q, want each run's line in order", got)
	}
}

// TestTrapTrailerStopInRestartPause: a task stopped while its policy waits
// to restart it logs its output only, not the supervisor's notice that it
// stopped.
func TestTrapTrailerStopInRestartPause(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.must("start", "--name", "loop", "--restart", "always", "--", "sh", "-c", "echo looping; exit 1")
	if !poll(20*time.Second, func() bool { return strings.Contains(e.must("status", "loop"), "restarting") }) {
		t.Fatalf("the task never waited to restart:\n%s", e.must("status", "loop"))
	}
	e.must("stop", "loop")
	// The supervisor exits once its notice has gone through the pipe.
	if !poll(20*time.Second, func() bool {
		for _, p := range e.supervisors() {
			if c, _ := os.ReadFile("/proc/" + strconv.Itoa(p) + "/cmdline"); bytes.Contains(c, []byte("__supervise")) && !bytes.HasPrefix(c, []byte("tmux\x00")) {
				return false
			}
		}
		return true
	}) {
		t.Fatal("the supervisor did not exit after stop")
	}
	if got := e.must("logs", "loop"); strings.Contains(got, "[bgmux]") || strings.Count(got, "looping\n") != strings.Count(got, "\n") {
		t.Fatalf("the log holds supervisor lines: %q", got)
	}
}
