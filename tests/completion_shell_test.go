package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestViewCompletionInShells loads `bgmux completion SHELL` into a real
// bash, zsh and fish (each in a pane of the test's tmux server) and
// presses Tab: a command name completes, then a task name of the
// current group.
func TestViewCompletionInShells(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start("--name", "zebra-task", "--", "sleep", "600")
	home := filepath.Join(filepath.Dir(e.State), "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, sh := range []struct {
		name  string
		argv  []string
		setup string
	}{
		{"bash", []string{"bash", "--norc", "--noprofile"}, `eval "$(bgmux completion bash)"`},
		{"zsh", []string{"zsh", "-f"}, `autoload -U compinit; compinit -u; eval "$(bgmux completion zsh)"`},
		{"fish", []string{"fish", "--no-config", "--private"}, `bgmux completion fish | source`},
	} {
		t.Run(sh.name, func(t *testing.T) {
			path, err := exec.LookPath(sh.argv[0])
			if err != nil {
				t.Skipf("%s is not installed (apt-get install -y %s)", sh.argv[0], sh.argv[0])
			}
			sess := "sh-" + sh.name
			env := []string{"env", "-u", "TMUX", "-u", "TMUX_PANE", "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
				"XDG_DATA_HOME=" + filepath.Join(home, ".local"), "TERM=xterm-256color",
				"PATH=" + filepath.Dir(bgmuxBin) + string(os.PathListSeparator) + os.Getenv("PATH"),
				"BGMUX_SOCKET=" + e.Socket, "BGMUX_STATE_DIR=" + e.State, path}
			if out, err := e.tmux(append([]string{"new-session", "-d", "-s", sess, "-x", "120", "-y", "20", "-c", e.Dir, "--"}, append(env, sh.argv[1:]...)...)...); err != nil {
				t.Fatalf("tmux new-session: %v: %s", err, out)
			}
			t.Cleanup(func() { e.tmux("kill-session", "-t", sess) })
			var screen string
			until := func(what string, cond func(lines []string) bool) {
				t.Helper()
				if !poll(20*time.Second, func() bool {
					screen, _ = e.tmux("capture-pane", "-p", "-t", sess+":")
					return cond(strings.Split(screen, "\n"))
				}) {
					t.Fatalf("%s: %s never happened; the screen:\n%s", sh.name, what, screen)
				}
			}
			typ := func(keys ...string) {
				t.Helper()
				for _, k := range keys {
					args := []string{"send-keys", "-t", sess + ":", "-l", k}
					if k == "Tab" || k == "Enter" {
						args = []string{"send-keys", "-t", sess + ":", k}
					}
					if out, err := e.tmux(args...); err != nil {
						t.Fatalf("send-keys %q: %v: %s", k, err, out)
					}
				}
			}
			until("a prompt", func([]string) bool { return strings.TrimSpace(screen) != "" })
			typ(sh.setup+"; echo loaded-"+sh.name, "Enter")
			until("the completion script loaded", func(lines []string) bool {
				for _, l := range lines {
					if strings.TrimSpace(l) == "loaded-"+sh.name {
						return true
					}
				}
				return false
			})
			typ("bgmux sto", "Tab")
			// capture-pane drops the space after the word.
			until("completing the command name", func(lines []string) bool {
				for _, l := range lines {
					if strings.HasSuffix(strings.TrimSpace(l), "bgmux stop") {
						return true
					}
				}
				return false
			})
			typ("zeb", "Tab")
			until("completing the task name", func([]string) bool { return strings.Contains(screen, "bgmux stop zebra-task") })
		})
	}
}
