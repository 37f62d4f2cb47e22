package tasks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bgmux/bgmux/fileutil"
	"github.com/bgmux/bgmux/tmuxctl"
)

// TestRestartRespawnedPaneUnrecorded: when the pane a restart respawned
// cannot be listed (tmux stops answering) or its window record cannot be
// written, the restart fails with that error and withdraws its launch
// (the new supervisor, which has not begun, runs nothing) and its disk
// reserve, instead of waiting for a run that will not be seen.
func TestRestartRespawnedPaneUnrecorded(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is not installed; this test needs a real tmux server (apt-get install -y tmux)")
	}
	cases := []struct {
		name  string
		spoil func(t *testing.T, m *Manager, id string, serverPID int)
		want  func(err error) bool
	}{
		{"tmux stops answering", func(t *testing.T, m *Manager, id string, pid int) {
			if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
		}, func(err error) bool { return errors.Is(err, tmuxctl.ErrNoAnswer) }},
		{"window record unwritable", func(t *testing.T, m *Manager, id string, pid int) {
			// A directory where the record goes: its rename fails.
			path := m.Store.Path(id, WindowFile)
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, func(err error) bool { return strings.Contains(err.Error(), "restart bg-rsp001: record its window") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			b := make([]byte, 6)
			rand.Read(b)
			sock := "bgmux-test-" + hex.EncodeToString(b)
			tmux := func(args ...string) string {
				t.Helper()
				out, err := exec.Command("tmux", append([]string{"-L", sock, "-f", os.DevNull}, args...)...).CombinedOutput()
				if err != nil {
					t.Fatalf("tmux %q: %v\n%s", args, err, out)
				}
				return strings.TrimSpace(string(out))
			}
			const id = "bg-rsp001"
			ids := strings.Fields(tmux("new-session", "-d", "-s", "g", "-n", "rsp", "-P", "-F", "#{session_id} #{window_id} #{pane_id} #{pane_pid} #{pid}", "cat",
				";", "set-option", "-w", "-t", "=g:=rsp", tmuxctl.TaskOption, id))
			serverPID, _ := strconv.Atoi(ids[4])
			t.Cleanup(func() {
				exec.Command("tmux", "-L", sock, "kill-server").Run()
				os.Remove(tmuxctl.New(sock).SocketPath())
			})
			t.Cleanup(func() { syscall.Kill(serverPID, syscall.SIGCONT) }) // first: a stopped server cannot be killed by tmux

			s := OpenStore(filepath.Join(root, "state"))
			if err := s.Init(); err != nil {
				t.Fatal(err)
			}
			ftTask(t, s, id, "rsp")
			panePID, _ := strconv.Atoi(ids[3])
			if err := fileutil.WriteJSON(s.Path(id, WindowFile), WindowRecord{Socket: sock, Session: "g", SessionID: ids[0], Window: ids[1], Pane: ids[2], PanePID: panePID}); err != nil {
				t.Fatal(err)
			}
			// The supervisor the restart runs: one that never begins a run.
			exe := filepath.Join(root, "fake-bgmux")
			if err := os.WriteFile(exe, []byte("#!/bin/sh\nexec sleep 600\n"), 0o700); err != nil {
				t.Fatal(err)
			}
			srv := tmuxctl.New(sock)
			srv.Timeout = 300 * time.Millisecond
			m := &Manager{Store: s, Tmux: srv, Cwd: root, Exe: exe}
			task, err := m.Get(id)
			if err != nil {
				t.Fatal(err)
			}

			hadReserve := false
			afterRespawn = func() {
				hadReserve = fileExists(s.Path(id, NextReserveFile))
				c.spoil(t, m, id, serverPID)
			}
			t.Cleanup(func() { afterRespawn = nil })
			began := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, err := m.Restart(ctx, task); err == nil || !c.want(err) {
				t.Fatalf("restart: %v; want it to fail with the error of recording its pane", err)
			}
			if took := time.Since(began); took > 5*time.Second {
				t.Errorf("restart took %v to fail: it waited for a run", took)
			}
			if fileExists(s.Path(id, LaunchFile)) {
				t.Errorf("the launch token is still there: the new supervisor may still run the command")
			}
			if !hadReserve || fileExists(s.Path(id, NextReserveFile)) {
				t.Errorf("disk reserve: there before the failure %v, still there after it %v; want true, false", hadReserve, fileExists(s.Path(id, NextReserveFile)))
			}
		})
	}
}
