//go:build clients

package clients

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAuditClientTimeoutKillsGroup pins the harness's bound on a client
// run: a client that outlives its timeout is killed with its whole
// process group (here a shell and the sleep it left in the background),
// and the run says it timed out.
func TestAuditClientTimeoutKillsGroup(t *testing.T) {
	w := newWorld(t)
	pidFile := filepath.Join(w.Root, "child.pid")
	run := w.runClient("hang", time.Second, "/bin/sh",
		[]string{"-c", `sleep 300 & echo $! > "$1"; wait`, "sh", pidFile}, w.clientEnviron())
	if run.Err == nil || !strings.Contains(run.Err.Error(), "did not finish within 1s") {
		t.Fatalf("a hung client's run: err %v, want a timeout", run.Err)
	}
	if run.Elapsed > 10*time.Second {
		t.Fatalf("a hung client with a 1s timeout ran %v", run.Elapsed)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if !poll(5*time.Second, func() bool { return !pidAlive(pid) }) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("the client's background child %d survived the timeout", pid)
	}
}
