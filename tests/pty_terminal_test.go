package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ptyKeys types keys into tmux target (a pane or window), as a person
// at an attached client would.
func ptyKeys(t *testing.T, e *env, target string, keys ...string) {
	t.Helper()
	if out, err := e.tmux(append([]string{"send-keys", "-t", target}, keys...)...); err != nil {
		t.Fatalf("send-keys %q to %s: %v %s", keys, target, err, out)
	}
}

// ptyReconnect kills the task's current window and has attach --print
// give it a new one (a viewer), whose id it returns.
func ptyReconnect(t *testing.T, e *env, ref, win string) string {
	t.Helper()
	if out, err := e.tmux("kill-window", "-t", win); err != nil {
		t.Fatalf("kill-window %s: %v %s", win, err, out)
	}
	if s := e.status(ref); s.State != "running" {
		t.Fatalf("task %s after its window was killed: %s, want running", ref, s.State)
	}
	return ptyWindow(t, e, ref)
}

// ptyLines are "line 1".."line n" for less to page through.
func ptyLines(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("line %d", i))
	}
	return out
}

// ptyWaitRaw polls the raw log of ref until s occurs in it n times.
func ptyWaitRaw(t *testing.T, e *env, ref, s string, n int) {
	t.Helper()
	if !poll(20*time.Second, func() bool { return strings.Count(string(ptyRaw(t, e, ref)), s) >= n }) {
		t.Fatalf("raw log of %s never held %q %d times:\n%q", ref, s, n, edgeShort(string(ptyRaw(t, e, ref))))
	}
}

// TestPtyFullScreen: less pages through a file in the task's window as in
// a terminal (capture-pane shows its first screen, Space the next), and
// it uses the alternate screen (after q the shell's lines are back and
// less's page is gone). Then in a window given back by attach after the
// first was killed, a second less pages (the viewer relays keys and draws
// live output) and quits.
func TestPtyFullScreen(t *testing.T) {
	e := newEnv(t)
	if err := os.WriteFile(filepath.Join(e.Dir, "nums.txt"), []byte(strings.Join(ptyLines(1, 100), "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tk := e.start("--name", "pager", "--env", "LESS=", "--env", "LESSHISTFILE=-", "--",
		"echo before-less; less nums.txt; echo after-less; read x; less nums.txt; echo done-less; exec sleep 100000")
	ptyWaitScreen(t, e, tk.ID, "less's first page", func(l []string) bool {
		return ptyHas(l, ptyLines(1, 23)...) && ptyHasNone(l, "line 24", "before-less")
	})
	e.must("send", tk.ID, "--key", "Space")
	ptyWaitScreen(t, e, tk.ID, "less's second page", func(l []string) bool {
		return ptyHas(l, ptyLines(24, 46)...) && ptyHasNone(l, ptyLines(1, 23)...)
	})
	e.must("send", tk.ID, "--key", "q")
	ptyWaitScreen(t, e, tk.ID, "the shell's lines back without less's page", func(l []string) bool {
		return ptyHas(l, "before-less", "after-less") && ptyHasNone(l, ptyLines(1, 100)...)
	})

	win := ptyReconnect(t, e, tk.ID, tk.Tmux.Window)
	e.must("send", tk.ID, "--key", "Enter") // read x: the second less starts
	ptyWaitRaw(t, e, tk.ID, "line 23", 2)
	ptyKeys(t, e, win, "Space")
	ptyWaitScreen(t, e, tk.ID, "the second less's second page in the new window", func(l []string) bool {
		return ptyHas(l, ptyLines(24, 46)...)
	})
	ptyKeys(t, e, win, "Space")
	ptyWaitScreen(t, e, tk.ID, "the second less's third page in the new window", func(l []string) bool {
		return ptyHas(l, ptyLines(47, 69)...)
	})
	ptyKeys(t, e, win, "q")
	ptyWaitScreen(t, e, tk.ID, "the shell's line after the second less", func(l []string) bool { return ptyHas(l, "done-less") })
}

// TestPtyResize: the task's terminal takes the size of its window when
// the window is resized (the task gets SIGWINCH and stty sees the size),
// and, after the window was killed, of the window attach gave back.
func TestPtyResize(t *testing.T) {
	e := newEnv(t)
	tk := e.start("--name", "size", "--", `trap 'echo "size $(stty size)"' WINCH; echo "size $(stty size)"; while :; do sleep 0.05; done`)
	e.waitLog(tk.ID, "size ", 20*time.Second)
	if out, err := e.tmux("resize-window", "-t", tk.Tmux.Window, "-x", "100", "-y", "30"); err != nil {
		t.Fatalf("resize-window: %v %s", err, out)
	}
	e.waitLog(tk.ID, "size 30 100\n", 20*time.Second)

	win := ptyReconnect(t, e, tk.ID, tk.Tmux.Window)
	if out, err := e.tmux("resize-window", "-t", win, "-x", "90", "-y", "25"); err != nil {
		t.Fatalf("resize-window: %v %s", err, out)
	}
	e.waitLog(tk.ID, "size 25 90\n", 20*time.Second)
}

// ptyCtrlC is a shell that records exit 3 on SIGINT.
const ptyCtrlC = `trap "echo INT; exit 3" INT; echo ready; sleep 100 & wait`

// TestPtyCtrlKeys: control keys typed into the task's pane act as in a
// terminal: C-c interrupts (also typed into a window attach gave back),
// C-d ends cat's input, C-z stops a foreground job of an interactive
// shell.
func TestPtyCtrlKeys(t *testing.T) {
	interrupt := func(t *testing.T, e *env, tk task, pane string) {
		t.Helper()
		ptyKeys(t, e, pane, "C-c")
		st := e.waitFinished(tk.ID)
		if st.State != "exited" || st.ExitCode == nil || *st.ExitCode != 3 {
			t.Fatalf("after C-c: %s %v %v, want exited 3 (the trap)", st.State, ecInt(st.ExitCode), ecStr(st.Signal))
		}
		e.waitLog(tk.ID, "INT\n", 5*time.Second)
	}
	t.Run("C-c", func(t *testing.T) {
		e := newEnv(t)
		tk := e.start("--name", "int", "--", ptyCtrlC)
		e.waitLog(tk.ID, "ready\n", 20*time.Second)
		interrupt(t, e, tk, tk.Tmux.Pane)
	})
	t.Run("C-c in a new window", func(t *testing.T) {
		e := newEnv(t)
		tk := e.start("--name", "int", "--", ptyCtrlC)
		e.waitLog(tk.ID, "ready\n", 20*time.Second)
		win := ptyReconnect(t, e, tk.ID, tk.Tmux.Window)
		ptyWaitScreen(t, e, tk.ID, "the task's output in the new window", func(l []string) bool { return ptyHas(l, "ready") })
		interrupt(t, e, tk, win)
	})
	t.Run("C-d", func(t *testing.T) {
		e := newEnv(t)
		tk := e.start("--name", "cat", "--", "echo ready; exec cat")
		e.waitLog(tk.ID, "ready\n", 20*time.Second)
		ptyKeys(t, e, tk.Tmux.Pane, "-l", "abc")
		ptyKeys(t, e, tk.Tmux.Pane, "Enter")
		e.waitLog(tk.ID, "abc\nabc\n", 20*time.Second) // the terminal's echo, then cat's copy
		ptyKeys(t, e, tk.Tmux.Pane, "C-d")
		st := e.waitFinished(tk.ID)
		if st.State != "exited" || st.ExitCode == nil || *st.ExitCode != 0 {
			t.Fatalf("after C-d: %s %v %v, want exited 0", st.State, ecInt(st.ExitCode), ecStr(st.Signal))
		}
	})
	t.Run("C-z", func(t *testing.T) {
		e := newEnv(t)
		tk := e.start("--name", "sh", "--", "bash", "--norc", "--noprofile", "-i")
		ptyKeys(t, e, tk.Tmux.Pane, "-l", "echo ready-$((6*7))")
		ptyKeys(t, e, tk.Tmux.Pane, "Enter")
		e.waitLog(tk.ID, "ready-42\n", 20*time.Second)
		ptyKeys(t, e, tk.Tmux.Pane, "-l", "sleep 100")
		ptyKeys(t, e, tk.Tmux.Pane, "Enter")
		var job ptyProc
		if !poll(20*time.Second, func() bool {
			for _, p := range ptyProcs() {
				if p.PPID == *tk.PID && p.Comm == "sleep" {
					job = p
					return true
				}
			}
			return false
		}) {
			t.Fatal("the shell never ran sleep 100")
		}
		t.Cleanup(func() { syscall.Kill(job.PID, syscall.SIGKILL) })
		ptyKeys(t, e, tk.Tmux.Pane, "C-z")
		e.waitLog(tk.ID, "Stopped", 20*time.Second)
		if !poll(10*time.Second, func() bool {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", job.PID))
			s := string(b)
			i := strings.LastIndexByte(s, ')')
			return err == nil && i > 0 && len(s) > i+2 && s[i+2] == 'T'
		}) {
			t.Fatalf("sleep %d is not stopped after C-z", job.PID)
		}
		if s := e.status(tk.ID); s.State != "running" {
			t.Fatalf("the interactive shell after C-z: %s, want running", s.State)
		}
	})
}

// TestPtyFullScreenVim: vim shows a file and jumps to its end in the
// task's window; after the window was killed and attach gave back a new
// one, keys typed there move vim back to the top and quit it.
func TestPtyFullScreenVim(t *testing.T) {
	e := newEnv(t)
	if err := os.WriteFile(filepath.Join(e.Dir, "nums.txt"), []byte(strings.Join(ptyLines(1, 100), "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tk := e.start("--name", "vim", "--", "vim", "-u", "NONE", "-N", "-n", "-i", "NONE", "nums.txt")
	ptyWaitScreen(t, e, tk.ID, "vim's first screen", func(l []string) bool { return ptyHas(l, ptyLines(1, 20)...) })
	ptyKeys(t, e, tk.Tmux.Pane, "G")
	ptyWaitScreen(t, e, tk.ID, "the end of the file", func(l []string) bool {
		return ptyHas(l, ptyLines(85, 100)...) && ptyHasNone(l, "line 1")
	})
	win := ptyReconnect(t, e, tk.ID, tk.Tmux.Window)
	ptyKeys(t, e, win, "g", "g")
	ptyWaitScreen(t, e, tk.ID, "the top of the file in the new window", func(l []string) bool {
		return ptyHas(l, ptyLines(1, 20)...) && ptyHasNone(l, "line 100")
	})
	ptyKeys(t, e, win, "-l", ":q!")
	ptyKeys(t, e, win, "Enter")
	st := e.waitFinished(tk.ID)
	if st.State != "exited" || st.ExitCode == nil || *st.ExitCode != 0 {
		t.Fatalf("after :q! vim ended as %s, want exited 0", ptyDesc(st))
	}
}
