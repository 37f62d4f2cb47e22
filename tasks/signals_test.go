package tasks

import (
	"syscall"
	"testing"
)

func TestParseSignal(t *testing.T) {
	good := map[string]syscall.Signal{"TERM": syscall.SIGTERM, "sigterm": syscall.SIGTERM, "SIGKILL": syscall.SIGKILL, "9": syscall.SIGKILL, "int": syscall.SIGINT, " HUP ": syscall.SIGHUP}
	for s, want := range good {
		sig, name, err := ParseSignal(s)
		if err != nil || sig != want || name != SignalName(want) {
			t.Errorf("ParseSignal(%q) = %v %q %v; want %v", s, sig, name, err, want)
		}
	}
	for _, s := range []string{"", "FOO", "SIG", "0", "-1", "999", "TERM;rm"} {
		if _, _, err := ParseSignal(s); err == nil || KindOf(err) != KindInvalid {
			t.Errorf("ParseSignal(%q) = %v, want invalid_input", s, err)
		}
	}
	if n, ok := SignalNumber("SIGTERM"); !ok || n != 15 {
		t.Errorf("SignalNumber(SIGTERM) = %d %v", n, ok)
	}
}

func TestExitStatusCode(t *testing.T) {
	three, term := 3, "SIGTERM"
	if c := (&Exit{ExitCode: &three}).StatusCode(); c != 3 {
		t.Errorf("exit 3 -> %d", c)
	}
	if c := (&Exit{Signal: &term}).StatusCode(); c != 143 {
		t.Errorf("SIGTERM -> %d, want 143", c)
	}
}
