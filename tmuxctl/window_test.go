package tmuxctl

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	sessionIDRE = regexp.MustCompile(`^\$[0-9]+$`)
	windowIDRE  = regexp.MustCompile(`^@[0-9]+$`)
	paneIDRE    = regexp.MustCompile(`^%[0-9]+$`)
)

func TestNewWindowCreatesSessionThenWindows(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	dir := t.TempDir()

	// First window: no server, no session. The command runs in its
	// directory.
	sp1 := spec("grp", "first", "sh", "-c", "printf first > first.log; exec sleep 1000")
	sp1.Cwd = dir
	sp1.Options = map[string]string{TaskOption: "bg-one"}
	w1, err := s.NewWindow(ctx, sp1)
	if err != nil {
		t.Fatalf("NewWindow (new session): %v", err)
	}
	// Second window: the session exists; the command exits instantly.
	sp2 := spec("grp", "second", "true")
	sp2.Options = map[string]string{TaskOption: "bg-two"}
	w2, err := s.NewWindow(ctx, sp2)
	if err != nil {
		t.Fatalf("NewWindow (existing session): %v", err)
	}

	for _, w := range []Window{w1, w2} {
		if !sessionIDRE.MatchString(w.SessionID) || !windowIDRE.MatchString(w.Window) || !paneIDRE.MatchString(w.Pane) || w.PanePID <= 0 {
			t.Fatalf("NewWindow returned %+v, want $N/@N/%%N ids and a pid", w)
		}
	}
	if w1.SessionID != w2.SessionID || w1.Window == w2.Window || w1.Pane == w2.Pane {
		t.Fatalf("want two windows in one session, got %+v and %+v", w1, w2)
	}
	if got := lines(raw(t, s, "list-sessions", "-F", "#{session_id} #{session_name}")); len(got) != 1 || got[0] != w1.SessionID+" grp" {
		t.Fatalf("sessions: %q, want one session %s grp", got, w1.SessionID)
	}
	names := raw(t, s, "list-windows", "-t", "=grp", "-F", "#{window_id} #{window_name}")
	for _, want := range []string{w1.Window + " first", w2.Window + " second"} {
		if !strings.Contains(names, want+"\n") {
			t.Fatalf("list-windows:\n%s\nwant a line %q", names, want)
		}
	}

	waitFile(t, filepath.Join(dir, "first.log"), "first")
	waitDead(t, s, w2.Pane)
	for pane, id := range map[string]string{w1.Pane: "bg-one", w2.Pane: "bg-two"} {
		p, ok := paneByID(t, s, pane)
		if !ok || p.TaskID != id || p.Session != "grp" || p.SessionID != w1.SessionID || p.Dead != (pane == w2.Pane) {
			t.Fatalf("ListPanes entry for %s: %+v (found %v), want task id %s in session grp", pane, p, ok, id)
		}
	}
	// The first window exits instantly too once its command ends.
	if err := s.SendKey(ctx, w1.Pane, "C-c"); err != nil {
		t.Fatal(err)
	}
	waitDead(t, s, w1.Pane)
	// The options that keep a finished window are set on the window itself.
	if got := strings.TrimSpace(raw(t, s, "show-options", "-w", "-v", "-t", w2.Window, "remain-on-exit")); got != "on" {
		t.Fatalf("remain-on-exit on %s = %q, want on", w2.Window, got)
	}
}

func TestNewWindowHostileStrings(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	base := t.TempDir()
	canary := "/tmp/bgmux-canary-" + randHex(6)
	t.Cleanup(func() { os.Remove(canary) })
	// The "/" inside $(touch /tmp/...) makes it a path: if any shell ever
	// evaluated the string, the canary would appear in /tmp.
	hostile := "it's a \"$(touch " + canary + ")\" `touch " + canary + "` #{pane_id} $HOME ;"
	cwd := filepath.Join(base, hostile)
	if err := os.MkdirAll(cwd, 0o755); err != nil {
		t.Fatal(err)
	}
	pwdOut := filepath.Join(base, "pwd.out")
	sp := spec("hostile #{pane_id} x;", "name #{pane_id} ;", "sh", "-c", `pwd -P > "$1"; printf first; exec sleep 1000`, "sh", pwdOut)
	sp.Cwd = cwd
	sp.Options = map[string]string{TaskOption: "val #{pane_id} ;"}
	w, err := s.NewWindow(ctx, sp)
	if err != nil {
		t.Fatalf("NewWindow: %v", err)
	}
	realCwd, err := filepath.EvalSymlinks(cwd)
	if err != nil {
		t.Fatal(err)
	}
	waitFile(t, pwdOut, realCwd+"\n")
	if _, err := os.Stat(canary); err == nil {
		t.Fatalf("a shell evaluated part of a path: %s exists", canary)
	}
	got := raw(t, s, "display-message", "-p", "-t", w.Pane, "#{session_name}\t#{window_name}\t#{"+TaskOption+"}")
	if want := sp.Session + "\t" + sp.Name + "\t" + sp.Options[TaskOption] + "\n"; got != want {
		t.Fatalf("session, window name, option = %q, want %q", got, want)
	}
	// A second window in the same hostile session goes through new-window.
	sp2 := spec(sp.Session, "again", "true")
	w2, err := s.NewWindow(ctx, sp2)
	if err != nil {
		t.Fatalf("NewWindow in existing hostile session: %v", err)
	}
	if w2.SessionID != w.SessionID {
		t.Fatalf("second window went to session %s, want %s", w2.SessionID, w.SessionID)
	}
}

func TestNewWindowArgvWordsKeptLiteral(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "args")
	words := []string{"a b", "#{pane_id}", "end;", `back\;`, ";", "$HOME", "'q'", ""}
	argv := append([]string{"sh", "-c", `for a; do printf '[%s]' "$a"; done > "$0"; exec sleep 1000`, out}, words...)
	w, err := s.NewWindow(ctx, spec("g", "argv", argv...))
	if err != nil {
		t.Fatalf("NewWindow: %v", err)
	}
	want := ""
	for _, a := range words {
		want += "[" + a + "]"
	}
	waitFile(t, out, want)
	if p, ok := paneByID(t, s, w.Pane); !ok || p.Dead {
		t.Fatalf("pane %s: %+v, want it alive", w.Pane, p)
	}
}

func TestKillWindows(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	w1, err := s.NewWindow(ctx, spec("g", "a", "sleep", "1000"))
	if err != nil {
		t.Fatal(err)
	}
	w2, err := s.NewWindow(ctx, spec("g", "b", "sleep", "1000"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.KillWindows(ctx, []string{w1.Window, "@99999"}); err != nil {
		t.Fatalf("KillWindows with a missing window: %v", err)
	}
	if _, ok := paneByID(t, s, w1.Pane); ok {
		t.Fatalf("window %s still there", w1.Window)
	}
	if _, ok := paneByID(t, s, w2.Pane); !ok {
		t.Fatalf("window %s was killed too", w2.Window)
	}
}
