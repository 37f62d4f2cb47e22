package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// txOuter is a second private tmux server whose panes act as the
// terminals a human would run bgmux attach from.
type txOuter struct {
	t      *testing.T
	Socket string
}

// txNewOuter starts nothing yet; the server is killed at cleanup.
func txNewOuter(t *testing.T) *txOuter {
	o := &txOuter{t: t, Socket: "bgmux-test-outer-" + randHex(6)}
	t.Cleanup(func() {
		exec.Command("tmux", "-L", o.Socket, "kill-server").Run()
		os.Remove(filepath.Join(os.TempDir(), fmt.Sprintf("tmux-%d", os.Getuid()), o.Socket))
	})
	return o
}

func (o *txOuter) tmux(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-L", o.Socket, "-f", os.DevNull}, args...)...)
	cmd.Env = txWithEnv(os.Environ(), "TMUX", "TMUX_PANE")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// terminal runs argv in a new session (one window, one pane, a real pty)
// of the outer server, in dir, and returns the pane id.
func (o *txOuter) terminal(name, dir string, argv ...string) string {
	o.t.Helper()
	args := append([]string{"start-server", ";", "set-option", "-g", "remain-on-exit", "on", ";",
		"new-session", "-d", "-s", name, "-x", "120", "-y", "40", "-c", dir, "-P", "-F", "#{pane_id}", "--"}, argv...)
	out, err := o.tmux(args...)
	if err != nil {
		o.t.Fatalf("outer tmux new-session: %v\n%s", err, out)
	}
	return strings.TrimSpace(out)
}

func (o *txOuter) screen(pane string) string {
	out, _ := o.tmux("capture-pane", "-p", "-J", "-t", pane)
	return strings.TrimSpace(out)
}

// txBgmuxEnv is the env(1) prefix that gives a command this test's bgmux
// settings, dropping TMUX unless keepTmux.
func txBgmuxEnv(e *env, keepTmux bool) []string {
	argv := []string{"env"}
	if !keepTmux {
		argv = append(argv, "-u", "TMUX", "-u", "TMUX_PANE")
	}
	for _, kv := range e.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "BGMUX_") || k == "XDG_CONFIG_HOME" || k == "XDG_STATE_HOME" {
			argv = append(argv, kv)
		}
	}
	return argv
}

// txWaitClient waits until a client of e's server shows window in session.
func txWaitClient(t *testing.T, e *env, session, window string, why func() string) {
	t.Helper()
	want := session + " " + window
	var out string
	if !poll(20*time.Second, func() bool {
		out, _ = e.tmux("list-clients", "-F", "#{client_session} #{window_id}")
		for _, l := range strings.Split(out, "\n") {
			if l == want {
				return true
			}
		}
		return false
	}) {
		t.Fatalf("no client of the bgmux server shows %q; clients:\n%s\n%s", want, out, why())
	}
}

func TestAttachFromPlainTerminal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	txSettle(e)
	tk := e.start("--name", "web", "--", "sleep", "1000")
	o := txNewOuter(t)
	argv := append(txBgmuxEnv(e, false), bgmuxBin, "attach", tk.ID)
	pane := o.terminal("plain", e.Dir, argv...)
	txWaitClient(t, e, tk.Tmux.Session, tk.Tmux.Window, func() string { return "outer pane:\n" + o.screen(pane) })
}

func TestAttachFromInsideAnotherTmux(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	txSettle(e)
	tk := e.start("--name", "web", "--", "sleep", "1000")
	o := txNewOuter(t)
	// TMUX is kept: the pane belongs to the outer server, so bgmux runs
	// inside tmux, but not inside the bgmux server.
	script := `case "$TMUX" in "") echo "TMUX is not set" >&2; exit 99;; esac; exec "$@"`
	argv := append(txBgmuxEnv(e, true), "sh", "-c", script, "sh", bgmuxBin, "attach", tk.ID)
	pane := o.terminal("nested", e.Dir, argv...)
	txWaitClient(t, e, tk.Tmux.Session, tk.Tmux.Window, func() string { return "outer pane:\n" + o.screen(pane) })
}

func TestAttachFromInsideSameServer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	txSettle(e)
	first := e.start("--name", "first", "--", "sleep", "1000")
	other := e.start("--name", "other", "--", "sleep", "1000")
	o := txNewOuter(t)
	pane := o.terminal("plain", e.Dir, append(txBgmuxEnv(e, false), bgmuxBin, "attach", first.ID)...)
	txWaitClient(t, e, first.Tmux.Session, first.Tmux.Window, func() string { return "outer pane:\n" + o.screen(pane) })

	// Now run bgmux attach in a window of the bgmux server itself, in the
	// session the client is viewing: tmux sets TMUX there, and attaching
	// would nest, so bgmux must switch the client instead.
	status := filepath.Join(t.TempDir(), "status")
	script := `"$0" attach "$1" > "$2.out" 2>&1; echo $? > "$2"`
	argv := append([]string{"new-window", "-d", "-t", "=" + first.Tmux.Session + ":", "-c", e.Dir, "--"}, txBgmuxEnv(e, true)...)
	argv = append(argv, "sh", "-c", script, bgmuxBin, other.ID, status)
	if out, err := e.tmux(argv...); err != nil {
		t.Fatalf("new-window: %v\n%s", err, out)
	}
	var code []byte
	if !poll(20*time.Second, func() bool {
		code, _ = os.ReadFile(status)
		return strings.HasSuffix(string(code), "\n")
	}) {
		t.Fatal("bgmux attach inside the same server did not return")
	}
	out, _ := os.ReadFile(status + ".out")
	if string(code) != "0\n" {
		t.Fatalf("bgmux attach inside the same server exited %s\n%s", code, out)
	}
	txWaitClient(t, e, other.Tmux.Session, other.Tmux.Window, func() string { return "bgmux attach said:\n" + string(out) })
}

func TestAttachPrint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	txSettle(e)
	tk := e.start("--name", "web", "--", "sleep", "1000")
	sock, err := e.tmux("display-message", "-p", "#{socket_path}")
	if err != nil {
		t.Fatal(err)
	}
	sock = strings.TrimSpace(sock)
	prefix := "tmux -L " + e.Socket + " -f /dev/null "
	for _, c := range []struct {
		name string
		set  []string
		want string
	}{
		{"plain terminal", []string{"TMUX", "TMUX_PANE"}, prefix + "attach-session -t " + tk.Tmux.Window + "\n"},
		{"another server", []string{"TMUX=/tmp/tmux-1/elsewhere,1,0", "TMUX_PANE=%0"}, prefix + "attach-session -t " + tk.Tmux.Window + "\n"},
		{"same server", []string{"TMUX=" + sock + ",1,0", "TMUX_PANE=%0"}, prefix + "switch-client -t " + tk.Tmux.Window + "\n"},
	} {
		r := txRunWith(e, c.set, "attach", "--print", "web")
		if r.Code != 0 || r.Out != c.want {
			t.Errorf("%s: attach --print: exit %d, %q, want %q\n%s", c.name, r.Code, r.Out, c.want, r.Err)
		}
	}
}

// TestAttachWindowGone: a task outlives its window (issue 13). attach of a
// running task whose window was closed, or whose tmux server was killed,
// gives it a new window showing it; a finished task whose window is gone
// is an error that says where its output is.
func TestAttachWindowGone(t *testing.T) {
	e := newEnv(t)
	txSettle(e)
	closed := e.start("--name", "closed", "--", "sleep", "1000")
	keep := e.start("--name", "keep", "--", "sleep", "1000")
	done := e.start("--name", "done", "--", "true")
	e.waitFinished(done.ID)
	shown := func(ref string) {
		t.Helper()
		r := txRunWith(e, []string{"TMUX", "TMUX_PANE"}, "attach", "--print", ref)
		if r.Code != 0 || !strings.Contains(r.Out, "attach-session -t @") {
			t.Fatalf("attach --print %s with its window gone: exit %d, %q, stderr %q; want a new window", ref, r.Code, r.Out, r.Err)
		}
		win := strings.TrimSpace(r.Out[strings.LastIndex(r.Out, "@"):])
		out, err := e.tmux("display-message", "-p", "-t", win, "#{@bgmux_id}")
		if err != nil || strings.TrimSpace(out) != e.status(ref).ID {
			t.Fatalf("window %s of %s: %q, %v; want one carrying the task's id", win, ref, out, err)
		}
		if st := e.status(ref); st.State != "running" || st.Tmux.Window != win {
			t.Fatalf("%s after attach: %+v; want running in window %s", ref, st, win)
		}
	}
	// The window closed while the server lives on.
	if out, err := e.tmux("kill-window", "-t", closed.Tmux.Window); err != nil {
		t.Fatalf("kill-window: %v\n%s", err, out)
	}
	shown("closed")
	// The whole server killed: status stops naming the window (whose
	// ids a new server gives to other windows) and says how to get one.
	if out, err := e.tmux("kill-server"); err != nil {
		t.Fatalf("kill-server: %v\n%s", err, out)
	}
	st := e.waitState("keep", 10*time.Second, func(x task) bool { return x.Tmux.Window == "" })
	if st.State != "running" || st.Tmux.Attach != "bgmux attach "+keep.ID || st.Tmux.Pane != "" {
		t.Fatalf("keep after kill-server: %+v; want running, no window, attach by bgmux attach %s", st, keep.ID)
	}
	shown("keep")
	r := txRunWith(e, []string{"TMUX", "TMUX_PANE"}, "attach", "done")
	if r.Code != 1 || !strings.Contains(r.Err, "window is gone") || !strings.Contains(r.Err, "bgmux logs") {
		t.Fatalf("attach of a finished task whose window is gone: exit %d, stderr %q; want exit 1 saying where the output is", r.Code, r.Err)
	}
}

// An agent (no terminal) asking to attach gets told what a human can run.
func TestAttachWithoutTerminal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	txSettle(e)
	tk := e.start("--name", "web", "--", "sleep", "1000")
	r := txRunWith(e, []string{"TMUX", "TMUX_PANE"}, "attach", "web") // stdin is /dev/null
	want := "tmux -L " + e.Socket + " -f /dev/null attach-session -t " + tk.Tmux.Window
	if r.Code != 2 || !strings.Contains(r.Err, "needs a terminal") || !strings.Contains(r.Err, want) || !strings.Contains(r.Err, "bgmux screen") {
		t.Fatalf("attach without a terminal: exit %d, stderr %q; want exit 2 naming %q and bgmux screen", r.Code, r.Err, want)
	}
	if out, _ := e.tmux("list-clients"); out != "" {
		t.Fatalf("a client attached anyway: %s", out)
	}
}
