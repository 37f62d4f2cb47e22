package tasks

import (
	"os"
	"path/filepath"
	"strings"
)

// ServiceUnitName is the systemd user unit that runs bgmux restore.
const ServiceUnitName = "bgmux-restore.service"

// StableBinary is the absolute path of a bgmux binary that outlives this
// process: the running one, or for a "go run" build (deleted when go run
// exits) its copy kept in the state directory.
func (m *Manager) StableBinary() (string, error) {
	exe, err := filepath.Abs(m.Exe)
	if err != nil {
		return "", err
	}
	return m.Store.supervisorBinary(exe)
}

// ServiceUnitPath is where service install writes the unit:
// $XDG_CONFIG_HOME/systemd/user, else ~/.config/systemd/user.
func ServiceUnitPath() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", Errorf(KindInvalid, "cannot find the systemd user unit directory: set HOME or XDG_CONFIG_HOME")
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "systemd", "user", ServiceUnitName), nil
}

// EnvVar is one Environment= line of a unit.
type EnvVar struct{ Name, Value string }

// ServiceUnit renders the systemd user unit that runs "exe restore" once
// at login (or at boot with lingering enabled), with env set. A binary
// path with a quote or a backslash cannot be written so that systemd
// reads it back: it is an invalid_input error that says what to do.
func ServiceUnit(exe string, env []EnvVar) (string, error) {
	if strings.ContainsAny(exe, "\"'\\\n\r") {
		return "", Errorf(KindInvalid, "the bgmux binary's path %q holds a quote, a backslash or a newline, which systemd cannot read in ExecStart=; put bgmux at a plain path (e.g. ~/.local/bin/bgmux) and run service install from there", exe)
	}
	var b strings.Builder
	b.WriteString("# Written by bgmux service install: restores bgmux tasks after a reboot.\n")
	b.WriteString("[Unit]\n")
	b.WriteString("Description=bgmux: record lost tasks and bring back restartable ones after a reboot\n")
	b.WriteString("Documentation=https://github.com/bgmux/bgmux\n\n")
	b.WriteString("[Service]\n")
	b.WriteString("Type=oneshot\n")
	for _, e := range env {
		b.WriteString("Environment=" + unitQuote(e.Name+"="+e.Value) + "\n")
	}
	// systemd expands specifiers (%) in the executable path but not "$"
	// (nor "$$"), so only % is escaped there.
	b.WriteString("ExecStart=" + unitQuote(exe) + " restore\n\n")
	b.WriteString("[Install]\n")
	b.WriteString("WantedBy=default.target\n")
	return b.String(), nil
}

// unitQuote makes s one word of a unit file value: specifiers (%) are
// escaped, and the word is double-quoted with C-style escapes when it
// holds a space, a quote, a backslash or a control character.
func unitQuote(s string) string {
	s = strings.ReplaceAll(s, "%", "%%")
	if !strings.ContainsAny(s, " \t\"'\\;\n\r") && s != "" {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
