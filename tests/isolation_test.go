package tests

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIsolation checks that a test touches neither the user's default tmux
// server nor their state dir, and that its private server is gone after
// its cleanup.
func TestIsolation(t *testing.T) {
	uid := strconv.Itoa(os.Getuid())
	realTmp := os.Getenv("TMUX_TMPDIR")
	if realTmp == "" {
		realTmp = "/tmp"
	}
	realDefault := filepath.Join(realTmp, "tmux-"+uid, "default")
	_, err := os.Stat(realDefault)
	defaultExisted := err == nil

	var serverPID int
	t.Run("cycle", func(t *testing.T) {
		e := newEnv(t)
		// Short: a socket path must fit in about 100 bytes.
		tmp, err := os.MkdirTemp("/tmp", "bt")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(tmp) })
		home, xdg := t.TempDir(), t.TempDir()
		isolated := []string{"HOME=" + home, "XDG_STATE_HOME=" + xdg, "TMUX_TMPDIR=" + tmp}
		e.Extra = append(e.Extra, isolated...)
		// Runs before the RemoveAll above and the harness's cleanup, whose
		// kill-server would not find a server under this TMUX_TMPDIR.
		t.Cleanup(func() {
			txTmuxEnv(e, isolated, "kill-server")
		})

		tk := e.start("--name", "iso", "--", "echo hello-isolation; exec sleep 1000")
		if got := e.status("iso"); got.State != "running" || got.ID != tk.ID {
			t.Fatalf("status: %+v", got)
		}
		e.waitLog("iso", "hello-isolation", 20*time.Second)
		e.must("stop", "iso")
		if got := e.waitFinished("iso"); got.State != "killed" {
			t.Fatalf("after stop: %+v, want killed", got)
		}
		pid, err := txTmuxEnv(e, isolated, "display-message", "-p", "#{pid}")
		if err != nil {
			t.Fatalf("the server is not under TMUX_TMPDIR %s: %v\n%s", tmp, err, pid)
		}
		serverPID, _ = strconv.Atoi(strings.TrimSpace(pid))
		// The supervisor (the pane's process) is done writing once its pane
		// is dead.
		if !poll(20*time.Second, func() bool {
			out, err := txTmuxEnv(e, isolated, "list-panes", "-a", "-F", "#{pane_dead}")
			return err != nil || !strings.Contains(out, "0")
		}) {
			t.Fatal("the stopped task's pane never died")
		}

		ents, err := os.ReadDir(filepath.Join(tmp, "tmux-"+uid))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, en := range ents {
			names = append(names, en.Name())
		}
		if len(names) != 1 || names[0] != e.Socket {
			t.Fatalf("sockets in $TMUX_TMPDIR/tmux-%s: %q, want only %s", uid, names, e.Socket)
		}
		for _, dir := range []string{home, xdg} {
			filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if p != dir {
					t.Errorf("bgmux created %s outside its state dir", p)
				}
				return nil
			})
		}
		if _, err := os.Stat(filepath.Join(e.State, "tasks", tk.ID)); err != nil {
			t.Fatalf("the task is not in BGMUX_STATE_DIR: %v", err)
		}
	})
	if serverPID <= 0 {
		t.Fatal("the cycle did not report its server's pid")
	}
	if !poll(20*time.Second, func() bool { return !pidAlive(serverPID) }) {
		t.Fatalf("the private server (pid %d) outlived the test's cleanup", serverPID)
	}
	if _, err := os.Stat(realDefault); !defaultExisted && err == nil {
		t.Fatalf("a default tmux server socket appeared at %s", realDefault)
	}

	// The harness's own cleanup kills the server of a plain newEnv.
	var sock string
	t.Run("harness cleanup", func(t *testing.T) {
		e := newEnv(t)
		txSettle(e)
		sock = e.Socket
		e.start("--", "sleep", "1000")
		pid, err := e.tmux("display-message", "-p", "#{pid}")
		if err != nil {
			t.Fatal(err)
		}
		serverPID, _ = strconv.Atoi(strings.TrimSpace(pid))
	})
	if serverPID <= 0 {
		t.Fatal("no server pid")
	}
	if !poll(20*time.Second, func() bool { return !pidAlive(serverPID) }) {
		t.Fatalf("the private server %s (pid %d) outlived the test's cleanup", sock, serverPID)
	}
	if _, err := os.Stat(realDefault); !defaultExisted && err == nil {
		t.Fatalf("a default tmux server socket appeared at %s", realDefault)
	}
}
