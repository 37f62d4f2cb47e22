package supervisor

import (
	"os"
	"regexp"
	"sync"

	"golang.org/x/sys/unix"
)

// A terminal answers some sequences in its output (a device attributes
// query ESC [ c, a cursor position request ESC [ 6 n, a colour query) by
// typing the answer. Output that only happens to hold such a sequence
// (random bytes, a binary file cat'ed by mistake) then makes the pane's
// tmux type answers nobody asked for, which the task's terminal echoes
// into its output. The supervisor drops such answers while the task's
// terminal echoes (a program that asks for them turns echo off first),
// so the log holds what the task's terminal produced from the task's own
// output, whatever a pane does.

// terminalReply matches one whole answer of tmux (and xterm) to a query.
var terminalReply = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:\x1b\[[?>][0-9;]*c|\x1b\[[0-9]*n|\x1b\[[0-9]+;[0-9]+R|\x1b\][0-9]+;[^\x07\x1b]*(?:\x07|\x1b\\)|\x1bP[^\x1b]*\x1b\\)+$`)
})

// unaskedReply reports whether p, read from a pane, is a terminal's
// answer to a query while the task's terminal (master) echoes what is
// typed: an answer the task did not ask for.
func unaskedReply(master *os.File, p []byte) bool {
	if len(p) < 3 || p[0] != 0x1b || !terminalReply().Match(p) {
		return false
	}
	raw, err := master.SyscallConn()
	if err != nil {
		return false
	}
	echo := false
	raw.Control(func(fd uintptr) {
		if t, err := unix.IoctlGetTermios(int(fd), ioctlGetTermios); err == nil {
			echo = t.Lflag&unix.ECHO != 0
		}
	})
	return echo
}
