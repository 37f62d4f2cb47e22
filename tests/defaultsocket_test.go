package tests

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDefaultSocket runs the `socket: default` code path (the user's own
// tmux server, where bgmux sets only session and window options) against
// a "default" server that lives in a private TMUX_TMPDIR, so the real
// default server is never touched.
func TestDefaultSocket(t *testing.T) {
	e := newEnv(t)
	tmp, err := os.MkdirTemp("/tmp", "bgd")
	if err != nil {
		t.Fatal(err)
	}
	e.Socket = "default"
	e.Extra = append(e.Extra, "TMUX_TMPDIR="+tmp)
	t.Cleanup(func() {
		e.tmux("kill-server")
		e.reap()
		os.RemoveAll(tmp)
	})
	tk := e.start("--name", "web", "--", "sh", "-c", "echo on-default; sleep 1000")
	if tk.Tmux.Socket != "default" || !strings.HasPrefix(tk.Tmux.Attach, "tmux attach -t ") {
		t.Fatalf("task object on the default socket: %+v", tk.Tmux)
	}
	if _, err := os.Stat(filepath.Join(tmp, "tmux-"+strconv.Itoa(os.Getuid()), "default")); err != nil {
		t.Fatalf("the server is not the private TMUX_TMPDIR's default one: %v", err)
	}
	e.waitLog("web", "on-default", 10*time.Second)
	hl, _ := e.tmux("show-options", "-v", "-t", "="+e.Group+":", "history-limit")
	if strings.TrimSpace(hl) != "50000" {
		t.Fatalf("session history-limit %q, want 50000", hl)
	}
	if g, _ := e.tmux("show-options", "-gv", "remain-on-exit"); strings.TrimSpace(g) == "on" {
		t.Fatal("bgmux changed a global option of the user's server")
	}
	e.must("stop", "web")
	if st := e.status("web"); st.State != "killed" {
		t.Fatalf("after stop: %s", st.State)
	}
	if !scWindowExists(t, e, tk.Tmux.Window) {
		t.Fatal("the window of the stopped task is gone (remain-on-exit not set on it)")
	}
}
