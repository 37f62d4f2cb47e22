package tasks

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzParseSignal checks the signal parser behind stop --signal and the
// exit records' signal names. An accepted value is, after trimming
// spaces, a decimal number or, ignoring ASCII case, the canonical name
// with or without its "SIG" prefix; the name returned is SignalName of
// the signal, and the name, the name without "SIG", its lower case and
// the number all parse back to the same signal (SignalNumber agrees).
// Every rejection is an invalid_input error that quotes the value. A
// number parses exactly when the platform names that signal.
func FuzzParseSignal(f *testing.F) {
	for _, s := range []string{
		"", "TERM", "SIGTERM", "sigterm", "term", "9", "+9", "09", "KILL", "SIGKILL", "sigkill", " HUP ", "0", "-1", "999",
		"SIG", "SIGSIGTERM", "SIG9", "TERM;rm", "ſigterm", "kıll", "ＴＥＲＭ", "iot", "STKFLT", "SIGRTMIN", "99999999999999999999",
		"SIG TERM", "term\x00",
	} {
		f.Add(s, len(s))
	}
	f.Add("", 31)
	f.Add("", 32)
	f.Add("", 64)
	f.Fuzz(func(t *testing.T, s string, n int) {
		sig, name, err := ParseSignal(s)
		if err != nil {
			if KindOf(err) != KindInvalid || !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) || !strings.Contains(err.Error(), "signal") {
				t.Fatalf("ParseSignal(%q): %v; want invalid_input quoting the value", s, err)
			}
		} else {
			checkSignalForms(t, s, sig, name)
			in := strings.TrimSpace(s)
			if v, nerr := strconv.Atoi(in); nerr == nil {
				if v != int(sig) {
					t.Fatalf("ParseSignal(%q) = %d, not the number given", s, sig)
				}
			} else if !asciiFold(in, name) && !asciiFold(in, strings.TrimPrefix(name, "SIG")) {
				t.Fatalf("ParseSignal(%q) = %s: the input is neither its name nor its number", s, name)
			}
		}

		sig, name, err = ParseSignal(strconv.Itoa(n))
		if known := n > 0 && unix.SignalName(syscall.Signal(n)) != ""; known != (err == nil) {
			t.Fatalf("ParseSignal(%d) = %v, %q, %v; the platform knows it: %v", n, sig, name, err, known)
		}
		if err == nil {
			checkSignalForms(t, strconv.Itoa(n), sig, name)
		}
	})
}

// checkSignalForms checks that every form of an accepted signal parses back to it.
func checkSignalForms(t *testing.T, in string, sig syscall.Signal, name string) {
	t.Helper()
	if sig <= 0 || name != SignalName(sig) || !strings.HasPrefix(name, "SIG") {
		t.Fatalf("ParseSignal(%q) = %d, %q; SignalName says %q", in, sig, name, SignalName(sig))
	}
	short := strings.TrimPrefix(name, "SIG")
	for _, form := range []string{name, short, strings.ToLower(name), strings.ToLower(short), strconv.Itoa(int(sig))} {
		s2, n2, err := ParseSignal(form)
		if err != nil || s2 != sig || n2 != name {
			t.Fatalf("ParseSignal(%q) = %d, %q, %v; want %d %s (from %q)", form, s2, n2, err, sig, name, in)
		}
	}
	if num, ok := SignalNumber(name); !ok || num != int(sig) {
		t.Fatalf("SignalNumber(%q) = %d, %v; want %d", name, num, ok, sig)
	}
}

// asciiFold is strings.EqualFold restricted to ASCII letters.
func asciiFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
