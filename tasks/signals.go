package tasks

import (
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// ParseSignal accepts "TERM", "SIGTERM", "term" or a number and returns the
// signal with its canonical name ("SIGTERM").
func ParseSignal(s string) (syscall.Signal, string, error) {
	t := strings.TrimSpace(s)
	for i := 0; i < len(t); i++ {
		// Only ASCII: strings.ToUpper would turn "ſigterm" into SIGTERM.
		if t[i] >= utf8.RuneSelf {
			return 0, "", Errorf(KindInvalid, "unknown signal %q; use a name such as TERM, INT, HUP or KILL", s)
		}
	}
	t = strings.ToUpper(t)
	if n, err := strconv.Atoi(t); err == nil {
		name := unix.SignalName(syscall.Signal(n))
		if n <= 0 || name == "" {
			return 0, "", Errorf(KindInvalid, "unknown signal number %q; use a name such as TERM, INT, HUP or KILL", s)
		}
		return syscall.Signal(n), name, nil
	}
	if !strings.HasPrefix(t, "SIG") {
		t = "SIG" + t
	}
	sig := unix.SignalNum(t)
	if sig == 0 {
		return 0, "", Errorf(KindInvalid, "unknown signal %q; use a name such as TERM, INT, HUP or KILL", s)
	}
	return sig, t, nil
}

// SignalName is the canonical name of sig ("SIGTERM").
func SignalName(sig syscall.Signal) string {
	if n := unix.SignalName(sig); n != "" {
		return n
	}
	return "SIG" + strconv.Itoa(int(sig))
}

// SignalNumber is the number of a canonical signal name.
func SignalNumber(name string) (int, bool) {
	sig, _, err := ParseSignal(name)
	if err != nil {
		return 0, false
	}
	return int(sig), true
}
