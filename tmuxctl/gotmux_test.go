package tmuxctl

// Each test here pins one defect of gotmux v0.5.0 listed in DESIGN.md: it
// passes through tmuxctl's wrapper and would fail if the wrapper were
// replaced by the plain gotmux call.

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/GianlucaP106/gotmux/gotmux"
)

// gotmux's NewSession wraps ShellCommand in literal single quotes, so tmux
// would look for a program named "sh -c ..." as one word.
func TestDefectQuotedShellCommand(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	sp := spec("g", "spaces", "sh", "-c", "echo a b > file")
	sp.Cwd = dir
	w, err := s.NewWindow(ctx, sp) // creates the session: the NewSession path
	if err != nil {
		t.Fatalf("NewWindow: %v", err)
	}
	waitFile(t, filepath.Join(dir, "file"), "a b\n")
	waitDead(t, s, w.Pane)
}

// gotmux's Session.NewWindow has no way to pass a command.
func TestDefectNewWindowRunsCommand(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	if _, err := s.NewWindow(ctx, spec("g", "first", "sleep", "1000")); err != nil {
		t.Fatal(err)
	}
	sp := spec("g", "second", "sh", "-c", "echo ran > out; exec sleep 1000")
	sp.Cwd = dir
	w, err := s.NewWindow(ctx, sp) // the session exists: the new-window path
	if err != nil {
		t.Fatal(err)
	}
	waitFile(t, filepath.Join(dir, "out"), "ran\n")
	waitUntil(t, 20*time.Second, "the pane to run sleep", func() bool {
		return strings.TrimSpace(raw(t, s, "display-message", "-p", "-t", w.Pane, "#{pane_current_command}")) == "sleep"
	})
}

// gotmux's CapturePane shows only the visible screen (no -S/-E) and wires
// -J to the wrong field.
func TestDefectCaptureWholeHistoryJoined(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	long := strings.Repeat("x", 300)
	// The pane stays alive: tmux 3.3a can drop what a pane prints just
	// before it exits.
	script := `i=0; while [ $i -lt 100 ]; do echo line$i; i=$((i+1)); done; echo ` + long + `; echo END; exec sleep 1000`
	w, err := s.NewWindow(ctx, spec("g", "cap", "sh", "-c", script))
	if err != nil {
		t.Fatal(err)
	}
	var out string
	defer func() {
		if t.Failed() {
			t.Logf("last capture:\n%s", out)
		}
	}()
	waitUntil(t, 20*time.Second, "END in the capture", func() bool {
		out, err = s.Capture(ctx, w.Pane, 0)
		if err != nil {
			t.Fatalf("Capture: %v", err)
		}
		return strings.Contains(out, "END\n")
	})
	height := 0
	fmtOut := raw(t, s, "display-message", "-p", "-t", w.Pane, "#{pane_height}")
	for _, c := range strings.TrimSpace(fmtOut) {
		height = height*10 + int(c-'0')
	}
	rows := lines(out)
	if len(rows) <= height || rows[0] != "line0" || !strings.Contains(out, "\nline99\n") {
		t.Fatalf("Capture gave %d rows starting %q; want the whole history (more than the %d-row screen) from line0", len(rows), rows[0], height)
	}
	if !strings.Contains(out, "\n"+long+"\nEND\n") {
		t.Fatalf("the 300-column line is not joined into one row:\n%s", out)
	}
	// What gotmux's capture (plain -p) gives: the screen only, wrapped.
	screen := raw(t, s, "capture-pane", "-p", "-t", w.Pane)
	if strings.Contains(screen, "line0\n") || strings.Contains(screen, long) {
		t.Fatalf("plain capture-pane unexpectedly held the history or the joined line; the test no longer tells the two apart:\n%s", screen)
	}
	// lines > 0 keeps exactly the last rows.
	tail, err := s.Capture(ctx, w.Pane, 2)
	if err != nil {
		t.Fatal(err)
	}
	if tail != long+"\nEND\n" {
		t.Fatalf("Capture(2) = %q, want the last two rows", tail)
	}
}

// gotmux's Command() reports every failure as "failed to run command".
func TestDefectErrorsKeepStderr(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	if _, err := s.NewWindow(ctx, spec("g", "w", "sleep", "1000")); err != nil {
		t.Fatal(err)
	}
	_, err := s.Capture(ctx, "%99999", 0)
	if err == nil || !strings.Contains(err.Error(), "can't find pane") {
		t.Fatalf("Capture of a missing pane: %v, want tmux's \"can't find pane\"", err)
	}
	var te *Error
	if !errors.As(err, &te) || !strings.Contains(te.Stderr, "%99999") {
		t.Fatalf("error %v does not carry tmux's stderr", err)
	}
	if err := s.SendKey(ctx, "%99999", "Enter"); err == nil || !strings.Contains(err.Error(), "can't find pane") {
		t.Fatalf("SendKey to a missing pane: %v, want tmux's \"can't find pane\"", err)
	}
}

// gotmux's parser panics (log.Panicln) when a value contains its field
// separator "-:-" or a newline; a session's start directory can hold both.
func TestDefectSeparatorInValues(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	dir := filepath.Join(t.TempDir(), "odd-:-dir\nsecond line")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	raw(t, s, "new-session", "-d", "-s", "x-:-y", "-c", dir, "sleep", "1000",
		";", "set-option", "-g", "remain-on-exit", "on",
		";", "rename-window", "win-:-dow",
		";", "select-pane", "-T", "title-:-with\nnewline",
		";", "set-option", "-w", TaskOption, "bg-odd")
	panes, err := s.ListPanes(ctx)
	if err != nil {
		t.Fatalf("ListPanes: %v", err)
	}
	if len(panes) != 1 || panes[0].TaskID != "bg-odd" || !paneIDRE.MatchString(panes[0].Pane) || panes[0].PID <= 0 || panes[0].Dead {
		t.Fatalf("ListPanes = %+v, want the one live pane with task id bg-odd", panes)
	}
	// tmux turns ':' in a session name into '_'.
	if panes[0].Session != "x-_-y" {
		t.Fatalf("session name %q, want x-_-y", panes[0].Session)
	}
	names, err := s.SessionNames(ctx)
	if err == nil {
		t.Fatalf("SessionNames = %q with no error; gotmux cannot parse a session path containing -:- and a newline", names)
	}
	if !strings.Contains(err.Error(), "gotmux") {
		t.Fatalf("SessionNames error %q does not say gotmux failed", err)
	}
	// The server is still usable afterwards.
	info, err := s.ServerInfo(ctx)
	if err != nil || info.PID <= 0 {
		t.Fatalf("ServerInfo after the parse failure: %+v, %v", info, err)
	}
}

// gotmux's NewTmux fails unless a server already runs on the socket.
func TestDefectNoServer(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	if _, err := gotmux.NewTmux(s.SocketPath()); err == nil {
		t.Fatal("gotmux.NewTmux succeeded with no server; the wrapper may no longer be needed")
	}
	panes, err := s.ListPanes(ctx)
	if err != nil || len(panes) != 0 {
		t.Fatalf("ListPanes with no server = %v, %v; want empty, nil", panes, err)
	}
	if err := s.KillServer(ctx); err != nil {
		t.Fatalf("KillServer with no server: %v", err)
	}
	if _, err := s.ServerInfo(ctx); !errors.Is(err, ErrNoServer) {
		t.Fatalf("ServerInfo with no server: %v, want ErrNoServer", err)
	}
	if names, err := s.SessionNames(ctx); !errors.Is(err, ErrNoServer) {
		t.Fatalf("SessionNames with no server: %q, %v, want ErrNoServer", names, err)
	}
	if s.Running(ctx) {
		t.Fatal("Running with no server")
	}
	if _, err := os.Stat(s.SocketPath()); err == nil {
		t.Fatal("asking about a server created its socket")
	}

	if _, err := s.NewWindow(ctx, spec("g", "w", "sleep", "1000")); err != nil {
		t.Fatal(err)
	}
	info, err := s.ServerInfo(ctx)
	if err != nil {
		t.Fatalf("ServerInfo: %v", err)
	}
	pid := strings.TrimSpace(raw(t, s, "display-message", "-p", "#{pid}"))
	want, err := Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.PID <= 0 || pid != strconv.Itoa(int(info.PID)) || info.Version != want || info.Socket != s.SocketPath() {
		t.Fatalf("ServerInfo = %+v; want pid %s, version %s, socket %s", info, pid, want, s.SocketPath())
	}
	names, err := s.SessionNames(ctx)
	if err != nil || len(names) != 1 || names[0] != "g" {
		t.Fatalf("SessionNames = %q, %v; want [g]", names, err)
	}
	if err := s.KillServer(ctx); err != nil {
		t.Fatalf("KillServer: %v", err)
	}
	if s.Running(ctx) {
		t.Fatal("server still running after KillServer")
	}
}
