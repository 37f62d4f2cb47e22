package cli

import (
	"os"
	"testing"

	ucli "github.com/urfave/cli/v2"
)

func TestNewSetupCommand(t *testing.T) {
	opencode := func(stdio IO, runF func(*setupOptions) error) *ucli.Command { return setupCommand(stdio, runF, nil) }
	claude := func(stdio IO, runF func(*setupOptions) error) *ucli.Command { return setupCommand(stdio, nil, runF) }
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	o, err := parseWith(t, opencode, "opencode", "--global", "--print", "--bin", "bgmux")
	if err != nil || !o.global || !o.print || o.hook || o.bin != "bgmux" || o.dir != wd {
		t.Errorf("setup opencode --global --print --bin bgmux: %+v, %v", o, err)
	}
	o, err = parseWith(t, claude, "claude", "--hook")
	if err != nil || o.global || o.print || !o.hook || o.bin == "" || o.dir != wd {
		t.Errorf("setup claude --hook: %+v, %v (want --bin defaulting to this binary)", o, err)
	}
	_, err = parseWith(t, opencode, "opencode", "--hook")
	wantUsage(t, []string{"setup", "opencode", "--hook"}, err, "see bgmux setup opencode --help")
	_, err = parseWith(t, claude, "claude", "--bin", " ")
	wantUsage(t, []string{"setup", "claude", "--bin", " "}, err, "--bin is empty")
	_, err = parseWith(t, claude, "claude", "x")
	wantUsage(t, []string{"setup", "claude", "x"}, err, "setup claude takes no arguments; see bgmux setup claude --help")
}
