//go:build clients

package clients

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/bgmux/bgmux/internal/testbin"
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
	testbin.Main(m, "clients", &bgmuxBin, "tmux", "python3", "curl")
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
