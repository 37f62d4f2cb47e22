package tests

// Helpers of the tests of issue 13 (the supervisor owns the task's
// terminal). Their names start with "pty".

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ptyTicker prints "tick 1", "tick 2", ... every 50 ms, forever.
const ptyTicker = `i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.05; done`

// ptyGate is a shell prefix that waits until the file name exists in the
// task's directory: the test opens the gate (ptyOpen) once it has set
// things up, so the task's output comes after that, whatever the timing.
func ptyGate(name string) string {
	return "while [ ! -e " + name + " ]; do sleep 0.01; done; "
}

// ptyOpen opens the gate name of ptyGate.
func ptyOpen(t *testing.T, e *env, name string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(e.Dir, name), nil, 0o600); err != nil {
		t.Fatal(err)
	}
}

// ptyRaw is bgmux logs --raw of ref.
func ptyRaw(t *testing.T, e *env, ref string) []byte {
	t.Helper()
	return []byte(e.must("logs", "--raw", ref))
}

var ptyTickRE = regexp.MustCompile(`tick (\d+)`)

// ptyTicks returns the counter values of ptyTicker found in log, in order.
func ptyTicks(log string) []int {
	var out []int
	for _, m := range ptyTickRE.FindAllStringSubmatch(log, -1) {
		n, _ := strconv.Atoi(m[1])
		out = append(out, n)
	}
	return out
}

// ptyCounter fails the test unless ref's log holds the counter 1, 2, ...
// n without a gap or a duplicate, and returns n.
func ptyCounter(t *testing.T, e *env, ref string) int {
	t.Helper()
	ticks := ptyTicks(e.must("logs", ref))
	for i, n := range ticks {
		if n != i+1 {
			t.Fatalf("log of %s: the counter goes %v at position %d, want %d (a gap or a duplicate)", ref, ticks[max(0, i-3):min(len(ticks), i+3)], i, i+1)
		}
	}
	return len(ticks)
}

// ptyWindow runs attach --print --json ref and returns the id of the
// window it names, checking that the window exists on the server.
func ptyWindow(t *testing.T, e *env, ref string) string {
	t.Helper()
	out := e.must("attach", "--print", "--json", ref)
	var doc struct {
		Command string   `json:"command"`
		Argv    []string `json:"argv"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("attach --print --json %s: %v\n%s", ref, err, out)
	}
	target := ""
	for i, a := range doc.Argv {
		if a == "-t" && i+1 < len(doc.Argv) {
			target = doc.Argv[i+1]
		}
	}
	if target == "" {
		t.Fatalf("attach --print --json %s names no target: %s", ref, out)
	}
	win, err := e.tmux("display-message", "-p", "-t", target, "#{window_id}")
	win = strings.TrimSpace(win)
	if err != nil || !ptyHasWindow(e, win) {
		t.Fatalf("attach --print --json %s names %q, which is no window of the server: %v %s", ref, target, err, win)
	}
	return win
}

// ptyHasWindow reports whether window id win exists on e's server.
func ptyHasWindow(e *env, win string) bool {
	out, err := e.tmux("list-windows", "-a", "-F", "#{window_id}")
	return err == nil && strings.Contains("\n"+out, "\n"+win+"\n")
}

// ptyScreen is what bgmux screen ref shows now, as lines with trailing
// blanks trimmed (nil when screen fails).
func ptyScreen(e *env, ref string) []string {
	r := e.run("screen", ref)
	if r.Code != 0 {
		return nil
	}
	var out []string
	for _, l := range strings.Split(r.Out, "\n") {
		out = append(out, strings.TrimRight(l, " "))
	}
	return out
}

// ptyWaitScreen polls bgmux screen ref until cond holds on its lines.
func ptyWaitScreen(t *testing.T, e *env, ref, what string, cond func([]string) bool) []string {
	t.Helper()
	var lines []string
	if !poll(20*time.Second, func() bool {
		lines = ptyScreen(e, ref)
		return cond(lines)
	}) {
		t.Fatalf("screen of %s: never %s; it shows:\n%s", ref, what, strings.Join(lines, "\n"))
	}
	return lines
}

// ptyHas reports whether lines holds a line equal to each of want.
func ptyHas(lines []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, l := range lines {
			if l == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// ptyHasNone reports whether lines holds none of the lines in no.
func ptyHasNone(lines []string, no ...string) bool {
	for _, n := range no {
		if ptyHas(lines, n) {
			return false
		}
	}
	return true
}

// ptyLostReason reads the lost_reason of ref's status ("" when null).
func ptyLostReason(t *testing.T, e *env, ref string) string {
	t.Helper()
	var doc struct {
		LostReason *string `json:"lost_reason"`
	}
	if err := json.Unmarshal([]byte(e.must("status", "--json", ref)), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.LostReason == nil {
		return ""
	}
	return *doc.LostReason
}

// ptyDesc describes a task's state for a failure message.
func ptyDesc(s task) string {
	return fmt.Sprintf("%s (exit_code %v, signal %v, pid %v, runs %d)", s.State, ecInt(s.ExitCode), ecStr(s.Signal), ecInt(s.PID), s.Runs)
}

// ptyProc is one live process from /proc.
type ptyProc struct {
	PID, PPID, PGID int
	State           string
	Comm            string
	Cmdline         []byte
}

// ptyProcs lists the live (non-zombie) processes.
func ptyProcs() []ptyProc {
	var out []ptyProc
	ents, _ := os.ReadDir("/proc")
	for _, d := range ents {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		open, close := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || close < open {
			continue
		}
		f := strings.Fields(string(b[close+1:]))
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		p := ptyProc{PID: pid, State: f[0], Comm: string(b[open+1 : close])}
		p.PPID, _ = strconv.Atoi(f[1])
		p.PGID, _ = strconv.Atoi(f[2])
		p.Cmdline, _ = os.ReadFile("/proc/" + d.Name() + "/cmdline")
		out = append(out, p)
	}
	return out
}

// ptyServerPID is the pid of e's tmux server.
func ptyServerPID(t *testing.T, e *env) int {
	t.Helper()
	out, err := e.tmux("display-message", "-p", "#{pid}")
	pid, perr := strconv.Atoi(strings.TrimSpace(out))
	if err != nil || perr != nil || pid <= 1 {
		t.Fatalf("tmux server pid: %q %v", out, err)
	}
	return pid
}

// ptyKillServer kills e's tmux server and waits until it is gone.
func ptyKillServer(t *testing.T, e *env) {
	t.Helper()
	pid := ptyServerPID(t, e)
	if out, err := e.tmux("kill-server"); err != nil {
		t.Fatalf("tmux kill-server: %v %s", err, out)
	}
	if !poll(10*time.Second, func() bool { return !pidAlive(pid) }) {
		t.Fatalf("tmux server %d still alive after kill-server", pid)
	}
}
