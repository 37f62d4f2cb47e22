package cli

import "testing"

// TestNewOneTaskCommands checks the parsing of the commands that take
// one TASK and a few flags.
func TestNewOneTaskCommands(t *testing.T) {
	r, err := parseWith(t, restartCommand, "web", "--json")
	if err != nil || *r != (restartOptions{task: "web", json: true}) {
		t.Errorf("restart web --json: %+v, %v", r, err)
	}
	_, err = parseWith(t, restartCommand)
	wantUsage(t, []string{"restart"}, err, "restart takes exactly one TASK")

	s, err := parseWith(t, screenCommand, "web", "--lines", "20")
	if err != nil || *s != (screenOptions{task: "web", lines: 20}) {
		t.Errorf("screen web --lines 20: %+v, %v", s, err)
	}
	_, err = parseWith(t, screenCommand, "a", "b")
	wantUsage(t, []string{"screen", "a", "b"}, err, "screen takes exactly one TASK")

	a, err := parseWith(t, attachCommand, "web", "--print", "--json")
	if err != nil || *a != (attachOptions{task: "web", print: true, json: true}) {
		t.Errorf("attach web --print --json: %+v, %v", a, err)
	}
	// --json without --print is refused by the run, once the TASK is known.
	a, err = parseWith(t, attachCommand, "--json", "web")
	if err != nil || *a != (attachOptions{task: "web", json: true}) {
		t.Errorf("attach --json web: %+v, %v", a, err)
	}
	_, err = parseWith(t, attachCommand)
	wantUsage(t, []string{"attach"}, err, "attach takes exactly one TASK")
}
