package tests

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ptyFinished is the condition of a task whose run has ended.
func ptyFinished(s task) bool {
	return s.State == "exited" || s.State == "killed" || s.State == "lost"
}

// ptySeq is what `seq 1 n` followed by `echo END` produces on a terminal
// (onlcr turns each \n into \r\n).
func ptySeq(n int) []byte {
	b := make([]byte, 0, n*10)
	for i := 1; i <= n; i++ {
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, '\r', '\n')
	}
	return append(b, "END\r\n"...)
}

// ptySame fails the test unless got equals want, showing where they part.
func ptySame(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(0, i-40)
	t.Fatalf("%s: %d bytes, want %d; they differ at byte %d: got %q, want %q", what, len(got), len(want), i,
		got[lo:min(len(got), i+40)], want[lo:min(len(want), i+40)])
}

// ptyExitRecorded fails the test unless task id has its exit record.
func ptyExitRecorded(t *testing.T, e *env, id string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(e.State, "tasks", id, "exit")); err != nil {
		t.Fatalf("task %s is finished but has no exit record: %v", id, err)
	}
}

// TestPtyTmuxStoppedOutputComplete: with the tmux server stopped (SIGSTOP)
// before the task prints anything, a task printing 200,000 lines still
// ends, and by then its log holds every line and its exit record exists,
// all while tmux is still stopped (status and logs do not ask tmux).
func TestPtyTmuxStoppedOutputComplete(t *testing.T) {
	e := newEnv(t)
	tk := e.start("--name", "many", "--", ptyGate("go")+"seq 1 200000; echo END")
	_, resume := auditStopServer(t, e)
	ptyOpen(t, e, "go")
	st := e.waitState(tk.ID, 60*time.Second, ptyFinished)
	if st.State != "exited" || st.ExitCode == nil || *st.ExitCode != 0 {
		t.Fatalf("with tmux stopped the task ended as %s, want exited 0", ptyDesc(st))
	}
	ptyExitRecorded(t, e, tk.ID)
	ptySame(t, "logs --raw with tmux stopped", ptyRaw(t, e, tk.ID), ptySeq(200000))
	resume()
}

// TestPtyTmuxStoppedLastLine: the line a task writes just before it exits
// is in the log as soon as the exit is recorded, with tmux stopped, in
// each of 5 trials (the old code lost it in about 2 of 5).
func TestPtyTmuxStoppedLastLine(t *testing.T) {
	e := newEnv(t)
	for i := 1; i <= 5; i++ {
		gate := fmt.Sprintf("go%d", i)
		tk := e.start("--name", fmt.Sprintf("last%d", i), "--", ptyGate(gate)+fmt.Sprintf("echo last-line-%d; exit 7", i))
		_, resume := auditStopServer(t, e)
		ptyOpen(t, e, gate)
		st := e.waitState(tk.ID, 30*time.Second, ptyFinished)
		raw := ptyRaw(t, e, tk.ID) // at once: no waiting for the log to catch up
		if st.State != "exited" || st.ExitCode == nil || *st.ExitCode != 7 {
			t.Fatalf("trial %d: the task ended as %s, want exited 7", i, ptyDesc(st))
		}
		ptyExitRecorded(t, e, tk.ID)
		ptySame(t, fmt.Sprintf("trial %d: logs --raw when the exit was recorded", i), raw, []byte(fmt.Sprintf("last-line-%d\r\n", i)))
		resume()
	}
}

// TestPtyFloodLargerThanPane: a task printing about 55 MB as fast as it
// can, with the tmux server stopped for the whole flood, still finishes;
// its log holds every byte; once tmux runs again the pane says that output
// was not shown there and where all of it is.
func TestPtyFloodLargerThanPane(t *testing.T) {
	e := newEnv(t)
	// Enough scrollback that the note cannot scroll out of the pane's
	// history, whatever the size of the supervisor's pane buffer.
	e.useConfig("history_limit: 500000\n")
	const n = 6000000
	tk := e.start("--name", "flood", "--", ptyGate("go")+fmt.Sprintf("seq 1 %d; echo END", n))
	_, resume := auditStopServer(t, e)
	ptyOpen(t, e, "go")
	st := e.waitState(tk.ID, 120*time.Second, ptyFinished)
	if st.State != "exited" || st.ExitCode == nil || *st.ExitCode != 0 {
		t.Fatalf("with tmux stopped the flood ended as %s, want exited 0", ptyDesc(st))
	}
	ptyExitRecorded(t, e, tk.ID)
	ptySame(t, "logs --raw of the flood", ptyRaw(t, e, tk.ID), ptySeq(n))
	resume()
	ptyWaitScreen(t, e, tk.ID, "a line saying output was not shown and to read bgmux logs", func(lines []string) bool {
		for _, l := range lines {
			if strings.Contains(l, "not shown here") && strings.Contains(l, "bgmux logs") {
				return true
			}
		}
		return false
	})
}
