package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Tags are the build tags bgmux and bgmux-mcp are built with:
// urfave_cli_no_docs leaves out urfave/cli's man page and markdown
// generators (smaller binary, fewer page faults at start-up).
const Tags = "urfave_cli_no_docs"

// Packages are the import paths of the binaries Build builds.
var Packages = []string{"github.com/bgmux/bgmux", "github.com/bgmux/bgmux/cmd/bgmux-mcp"}

// Build builds bgmux and, beside it, bgmux-mcp (which `bgmux mcp` execs)
// into a new temporary directory and returns it. The caller removes it.
func Build() (dir string, err error) {
	dir, err = os.MkdirTemp("", "bgmux-bin-")
	if err != nil {
		return "", err
	}
	args := append([]string{"build", "-tags", Tags, "-o", dir + string(filepath.Separator)}, Packages...)
	build := exec.Command("go", args...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("go build: %w", err)
	}
	return dir, nil
}

// NeedTools exits with status 1, saying how to install it, when one of
// tools is not on PATH. who names the test binary in the message.
func NeedTools(who string, tools ...string) {
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %s is not installed; install it (apt-get install -y %s): these tests run it for real\n", who, tool, tool)
			os.Exit(1)
		}
	}
}

// Main is a TestMain for tests that run bgmux: it checks that tools are
// installed (NeedTools), builds the binaries, sets *bgmux to bgmux's
// path, runs the tests, removes the binaries and exits with the tests'
// status. who names the test binary in messages.
func Main(m *testing.M, who string, bgmux *string, tools ...string) {
	NeedTools(who, tools...)
	dir, err := Build()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", who, err)
		os.Exit(1)
	}
	*bgmux = filepath.Join(dir, "bgmux")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
