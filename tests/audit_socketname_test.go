package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditSocketNameStaysInTmuxDir: a socket name with a slash (or "..")
// would put the tmux server's socket outside tmux's own directory; bgmux
// refuses it with exit 2 before it starts a server or writes a task.
func TestAuditSocketNameStaysInTmuxDir(t *testing.T) {
	e := newEnv(t)
	outside := filepath.Join(e.Dir, "escaped")
	// Should a start get through, its server is not e's: end it too.
	t.Cleanup(func() { exec.Command("tmux", "-S", outside, "kill-server").Run() })
	for _, sock := range []string{"../../" + outside[1:], "..", "a/b"} {
		e.Extra = []string{"BGMUX_SOCKET=" + sock} // the last value wins
		r := e.run("start", "--name", "esc", "--", "sleep", "100")
		if r.Code != 2 || !strings.Contains(r.Err, "socket name") {
			t.Fatalf("BGMUX_SOCKET=%q start: exit %d, stderr %q; want exit 2 naming the socket", sock, r.Code, r.Err)
		}
	}
	if _, err := os.Stat(outside); err == nil {
		t.Fatalf("a tmux socket was created outside tmux's directory: %s", outside)
	}
	if dirs := edgeTaskDirs(t, e); len(dirs) != 0 {
		t.Fatalf("a refused start left task directories: %v", dirs)
	}
	e.Extra = nil
	cfg := e.useConfig("socket: ../x\n")
	r := e.run("list")
	if r.Code != 2 || !strings.Contains(r.Err, cfg+":1: socket") {
		t.Fatalf("config socket ../x: exit %d, stderr %q; want exit 2 with %s:1", r.Code, r.Err, cfg)
	}
}
