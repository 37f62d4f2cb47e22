package cli

import "testing"

// TestNewCommandsWithoutTask checks the parsing of the commands that take
// no TASK.
func TestNewCommandsWithoutTask(t *testing.T) {
	d, err := parseWith(t, doctorCommand, "--json")
	if err != nil || !d.json {
		t.Errorf("doctor --json: %+v, %v", d, err)
	}
	r, err := parseWith(t, restoreCommand, "--json")
	if err != nil || !r.json {
		t.Errorf("restore --json: %+v, %v", r, err)
	}
	_, err = parseWith(t, restoreCommand, "web")
	wantUsage(t, []string{"restore", "web"}, err, "restore takes no arguments")
	v, err := parseWith(t, versionCommand, "--json")
	if err != nil || !v.json {
		t.Errorf("version --json: %+v, %v", v, err)
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		c, err := parseWith(t, completionCommand, sh)
		if err != nil || c.shell != sh {
			t.Errorf("completion %s: %+v, %v", sh, c, err)
		}
	}
	for _, args := range [][]string{{}, {"tcsh"}, {"bash", "zsh"}} {
		_, err = parseWith(t, completionCommand, args...)
		wantUsage(t, args, err, "completion takes one shell")
	}
	s, err := parseWith(t, serviceCommand, "install", "--print")
	if err != nil || !s.print {
		t.Errorf("service install --print: %+v, %v", s, err)
	}
	_, err = parseWith(t, serviceCommand, "install", "x")
	wantUsage(t, []string{"service", "install", "x"}, err, "service install takes no arguments")
	m, err := parseWith(t, mcpCommand)
	if err != nil || *m != (mcpOptions{}) {
		t.Errorf("mcp: %+v, %v", m, err)
	}
	_, err = parseWith(t, mcpCommand, "x")
	wantUsage(t, []string{"mcp", "x"}, err, "mcp takes no arguments")
}
