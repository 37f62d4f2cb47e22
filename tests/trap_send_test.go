package tests

import (
	"strings"
	"testing"
)

// TestTrapSendKeysFollowText: send TEXT --key K types the keys right after
// the text, with no Enter between them (`git chec` + Tab completes, it
// does not run); Enter comes only without --key, or where --key Enter
// puts it.
func TestTrapSendKeysFollowText(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A raw terminal: every byte typed reaches the program as it is.
	e.start("--name", "rawin", "--", "sh", "-c", `stty raw -echo; echo ready; head -c 3 | od -An -tx1; head -c 4 | od -An -tx1; stty sane`)
	sdWaitLine(t, e, "rawin", "^ready")
	e.must("send", "rawin", "ab", "--key", "Tab")
	if got := strings.Join(strings.Fields(sdWaitLine(t, e, "rawin", `^\s*[0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2}\s*$`)), " "); got != "61 62 09" {
		t.Fatalf("send rawin ab --key Tab typed %q, want 61 62 09 (a b Tab, no Enter)", got)
	}
	e.must("send", "rawin", "cd", "--key", "Tab", "--key", "Enter")
	if got := strings.Join(strings.Fields(sdWaitLine(t, e, "rawin", `^\s*[0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2}\s*$`)), " "); got != "63 64 09 0d" {
		t.Fatalf("send rawin cd --key Tab --key Enter typed %q, want 63 64 09 0d", got)
	}
}

// TestTrapSendTimeoutSaysSinceOffset: a send --wait-for that timed out
// says how to keep waiting for the answer without matching older output
// (wait --since-offset with the log's end when the text was sent), and
// that command does not return the stale line.
func TestTrapSendTimeoutSaysSinceOffset(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start("--name", "q", "--wait-for", "^42$", "--timeout", "20s", "--", "sh", "-c", "echo 42; while read l; do echo got; done")
	r := e.run("send", "q", "x", "--wait-for", "^42$", "--timeout", "500ms")
	if r.Code != 124 {
		t.Fatalf("send --wait-for of a line that never comes: exit %d\n%s", r.Code, r.Err)
	}
	i := strings.Index(r.Err, "bgmux wait ")
	if i < 0 || !strings.Contains(r.Err, "--since-offset ") {
		t.Fatalf("the timeout does not say how to keep waiting for output after the send:\n%s", r.Err)
	}
	cmd := strings.Fields(strings.TrimSpace(r.Err[i:]))
	if len(cmd) != 7 || cmd[4] != "'^42$'" {
		t.Fatalf("suggested command %q", cmd)
	}
	cmd[4] = "^42$"
	if r := e.run(append(cmd[1:], "--timeout", "500ms")...); r.Code != 124 {
		t.Fatalf("the suggested %q matched output from before the send: exit %d\n%s", cmd, r.Code, r.Out)
	}
}
