//go:build clients

package clients

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// bgmuxBin is the bgmux under test (bgmux-mcp beside it), built by TestMain.
var bgmuxBin string

// clientBins are the clients under test, found by TestMain: the env var
// BGMUX_TEST_CLAUDE / BGMUX_TEST_OPENCODE, else claude / opencode on PATH.
var clientBins = map[string]string{}

// clientInstall says how to install each client when it is missing.
var clientInstall = map[string]string{
	"claude":   "npm install -g @anthropic-ai/claude-code@2.1.332 (or run .ci/clients, which installs it), or set BGMUX_TEST_CLAUDE to its path",
	"opencode": "npm install -g opencode-ai@1.18.33 (or run .ci/clients, which installs it), or set BGMUX_TEST_OPENCODE to its path",
}

func TestMain(m *testing.M) {
	runTapIfAsked()
	for _, tool := range []string{"tmux", "python3", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Fprintf(os.Stderr, "clients: %s is not installed; install it (apt-get install -y %s)\n", tool, tool)
			os.Exit(1)
		}
	}
	for name, env := range map[string]string{"claude": "BGMUX_TEST_CLAUDE", "opencode": "BGMUX_TEST_OPENCODE"} {
		if p := os.Getenv(env); p != "" {
			if st, err := os.Stat(p); err != nil || st.Mode()&0o111 == 0 {
				clientInstall[name] = fmt.Sprintf("%s=%s is not an executable file; %s", env, p, clientInstall[name])
				continue
			}
			clientBins[name] = p
		} else if p, err := exec.LookPath(name); err == nil {
			clientBins[name] = p
		}
	}
	dir, err := os.MkdirTemp("", "bgmux-clients-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bgmuxBin = filepath.Join(dir, "bgmux")
	build := exec.Command("go", "build", "-tags", "urfave_cli_no_docs", "-o", dir+string(filepath.Separator), "../..", "../../cmd/bgmux-mcp")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "clients: go build failed:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// needClient returns the path of client name, failing the test with how
// to install it when it is missing.
func needClient(t testing.TB, name string) string {
	t.Helper()
	p, ok := clientBins[name]
	if !ok {
		t.Fatalf("%s is not installed: %s", name, clientInstall[name])
	}
	return p
}
