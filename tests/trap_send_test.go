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
