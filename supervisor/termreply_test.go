package supervisor

import (
	"testing"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// TestTermReplyUnasked: a terminal's answer to a query is dropped while
// the task's terminal echoes (cooked mode: nobody asked), and passed on
// once echo is off (a program that asks turns it off); typed text always
// passes.
func TestTermReplyUnasked(t *testing.T) {
	master, tty, err := openPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	defer tty.Close()
	replies := []string{"\x1b[?1;2c", "\x1b[>84;0;0c", "\x1b[0n", "\x1b[12;40R", "\x1b]11;rgb:0000/0000/0000\x1b\\", "\x1b[?1;2c\x1b[>84;0;0c"}
	typed := []string{"ls\r", "\x1b[A", "\x1b", "\x03", "\x1b[?1;2cX", "a\x1b[0n"}
	for _, r := range replies {
		if !unaskedReply(master, []byte(r)) {
			t.Errorf("%q with echo on: passed on, want dropped", r)
		}
	}
	for _, p := range typed {
		if unaskedReply(master, []byte(p)) {
			t.Errorf("%q with echo on: dropped, want passed on", p)
		}
	}
	old, err := term.MakeRaw(int(tty.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer term.Restore(int(tty.Fd()), old)
	if tio, err := unix.IoctlGetTermios(int(tty.Fd()), ioctlGetTermios); err != nil || tio.Lflag&unix.ECHO != 0 {
		t.Fatalf("raw mode left echo on: %v", err)
	}
	for _, r := range replies {
		if unaskedReply(master, []byte(r)) {
			t.Errorf("%q with echo off: dropped, want passed on to the program that asked", r)
		}
	}
}
