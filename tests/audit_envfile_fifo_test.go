package tests

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAuditEnvFileNotRegular: an --env-file that is a named pipe nobody
// writes (or a device) is refused at once with exit 2; opening it used
// to block start for ever.
func TestAuditEnvFileNotRegular(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fifo := filepath.Join(e.Dir, "secrets.env")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{fifo, "/dev/zero"} {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		cmd := exec.CommandContext(ctx, bgmuxBin, "start", "--name", "envpipe", "--env-file", file, "--", "true")
		cmd.Dir, cmd.Env = e.Dir, e.Environ()
		out, err := cmd.CombinedOutput()
		timedOut := ctx.Err() == context.DeadlineExceeded
		cancel()
		if timedOut {
			t.Fatalf("start --env-file %s did not return within 15s (it blocks opening the file)", file)
		}
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "not a regular file") {
			t.Fatalf("start --env-file %s: %v, output %q; want exit 2 saying it is not a regular file", file, err, out)
		}
	}
	if r := e.run("status", "envpipe"); r.Code != 2 {
		t.Fatalf("a refused start left a task: status exit %d\n%s", r.Code, r.Out)
	}
}
