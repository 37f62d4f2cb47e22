package tmuxctl

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// newTestServer returns a Server on a private socket no other test (and no
// user) shares; the server is killed and its socket removed at cleanup,
// whether or not the test failed.
func newTestServer(t *testing.T) *Server {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is not installed; these tests need a real tmux server (apt-get install -y tmux)")
	}
	s := &Server{Socket: "bgmux-test-" + randHex(6), HistoryLimit: 5000}
	t.Cleanup(func() {
		exec.Command("tmux", "-L", s.Socket, "kill-server").Run()
		os.Remove(s.SocketPath())
	})
	return s
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// testCtx bounds every tmux call a test makes.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// raw runs tmux directly on s's socket (as a human would) and fails the
// test when tmux fails.
func raw(t *testing.T, s *Server, args ...string) string {
	t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.Socket, "-f", os.DevNull}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("tmux %q: %v\n%s", args, err, out)
	}
	return string(out)
}

// waitUntil polls cond with a short backoff and fails the test when it
// does not hold within timeout.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	delay := 2 * time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		<-time.After(delay)
		if delay < 100*time.Millisecond {
			delay *= 2
		}
	}
}

// waitFile waits until the file at path holds exactly want.
func waitFile(t *testing.T, path, want string) {
	t.Helper()
	var got string
	deadline := time.Now().Add(20 * time.Second)
	delay := 2 * time.Millisecond
	for {
		b, _ := os.ReadFile(path)
		got = string(b)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: got %q, want %q", path, got, want)
		}
		<-time.After(delay)
		if delay < 100*time.Millisecond {
			delay *= 2
		}
	}
}

// paneByID finds a pane in the server-wide listing.
func paneByID(t *testing.T, s *Server, id string) (Pane, bool) {
	t.Helper()
	panes, err := s.ListPanes(testCtx(t))
	if err != nil {
		t.Fatalf("ListPanes: %v", err)
	}
	for _, p := range panes {
		if p.Pane == id {
			return p, true
		}
	}
	return Pane{}, false
}

// waitDead waits until tmux reports the pane dead (kept by remain-on-exit).
func waitDead(t *testing.T, s *Server, pane string) {
	t.Helper()
	waitUntil(t, 20*time.Second, "pane "+pane+" to be dead and kept", func() bool {
		p, ok := paneByID(t, s, pane)
		if !ok {
			t.Fatalf("pane %s vanished: remain-on-exit did not keep it", pane)
		}
		return p.Dead
	})
}

// spec is a WindowSpec with a unique TempName.
func spec(session, name string, argv ...string) WindowSpec {
	return WindowSpec{Session: session, Name: name, TempName: "bg-" + randHex(4), Argv: argv}
}

func lines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }
