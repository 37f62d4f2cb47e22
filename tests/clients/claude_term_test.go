//go:build clients

package clients

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// claudeTerm is an interactive Claude Code (its TUI) running in a
// terminal: a pane of a private tmux server of its own (not the world's
// bgmux server), typed into with send-keys and read with capture-pane.
type claudeTerm struct {
	once   sync.Once
	w      *world
	socket string
	env    []string
	pid    int // the pane's process: claude, leader of its process group
}

// startClaudeTerm starts interactive Claude Code in a 200x50 terminal,
// configured as runClaude is (model server, bgmux behind the MCP tap,
// tools allowed), with onboarding done, the project trusted and the
// dummy API key approved in its ~/.claude.json so that no dialog waits
// for a person. It returns once the prompt is shown. The terminal's tmux
// server and Claude Code's process group are killed at the end of the
// test.
func (w *world) startClaudeTerm(model *ModelServer) *claudeTerm {
	w.t.Helper()
	bin := needClient(w.t, "claude")
	key := "sk-ant-api03-" + randHex(20)
	state, _ := json.Marshal(map[string]any{
		"hasCompletedOnboarding": true,
		"theme":                  "dark",
		"customApiKeyResponses":  map[string]any{"approved": []string{key[len(key)-20:]}, "rejected": []string{}},
		"projects": map[string]any{w.Work: map[string]any{
			"hasTrustDialogAccepted": true, "hasCompletedProjectOnboarding": true,
		}},
	})
	w.writeFile(filepath.Join(w.Home, ".claude.json"), state)
	args := claudeArgs(w, "")
	env := w.clientEnviron(claudeEnv(model, key)...)
	for i, kv := range env {
		if strings.HasPrefix(kv, "TERM=") {
			env[i] = "TERM=xterm-256color"
		}
	}
	c := &claudeTerm{w: w, socket: w.Socket + "-term", env: env}
	w.t.Cleanup(c.stop)
	// tmux runs the command line given through sh -c: quote every word.
	line := "exec"
	for _, a := range append([]string{bin}, args...) {
		line += " '" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	out, err := c.tmux("new-session", "-d", "-x", "200", "-y", "50", "-c", w.Work, "-P", "-F", "#{pane_pid}", line)
	if err != nil {
		w.t.Fatalf("start Claude Code in tmux: %v\n%s", err, out)
	}
	c.pid, _ = strconv.Atoi(strings.TrimSpace(out))
	if !c.waitScreen("? for shortcuts", 60*time.Second) {
		w.t.Fatalf("interactive Claude Code did not show its prompt within 60s; screen:\n%s", c.screen())
	}
	return c
}

func (c *claudeTerm) tmux(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-L", c.socket, "-f", "/dev/null"}, args...)...)
	cmd.Env = c.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// typeLine types text literally and, once the input box shows it, Enter
// (an Enter that arrives with the text is taken as part of a paste).
func (c *claudeTerm) typeLine(text string) {
	c.w.t.Helper()
	if out, err := c.tmux("send-keys", "-t", "=0:", "-l", text); err != nil {
		c.w.t.Fatalf("send-keys: %v\n%s", err, out)
	}
	shown := text
	if len(shown) > 40 {
		shown = shown[:40]
	}
	if !c.waitScreen(shown, 10*time.Second) {
		c.w.t.Fatalf("the typed text %q is not on the screen:\n%s", shown, c.screen())
	}
	if out, err := c.tmux("send-keys", "-t", "=0:", "Enter"); err != nil {
		c.w.t.Fatalf("send-keys Enter: %v\n%s", err, out)
	}
}

// screen is the terminal's text, with up to 500 lines of scrollback.
func (c *claudeTerm) screen() string {
	out, _ := c.tmux("capture-pane", "-p", "-t", "=0:", "-S", "-500")
	return out
}

// waitScreen polls the screen until it shows want.
func (c *claudeTerm) waitScreen(want string, timeout time.Duration) bool {
	return poll(timeout, func() bool { return strings.Contains(c.screen(), want) })
}

// stop saves the screen to the log dir, then kills the terminal's tmux
// server and Claude Code's process group.
func (c *claudeTerm) stop() {
	c.once.Do(func() {
		os.WriteFile(filepath.Join(c.w.Logs, "claude-term.screen"), []byte(c.screen()), 0o600)
		c.tmux("kill-server")
		if c.pid > 1 {
			syscall.Kill(-c.pid, syscall.SIGKILL)
			// Gone before the world's files are removed, which it
			// would otherwise write into again (its MCP logs).
			poll(10*time.Second, func() bool { return !pidAlive(c.pid) })
		}
	})
}

// runClaudeTerm is a run of interactive Claude Code: start it, type
// prompt, wait until the model has answered with a turn without tool
// calls and its text is on the screen, stop it. The run's Stdout is the
// screen.
func (w *world) runClaudeTerm(model *ModelServer, prompt string, timeout time.Duration) clientRun {
	w.t.Helper()
	begin := time.Now()
	c := w.startClaudeTerm(model)
	c.typeLine(prompt)
	var run clientRun
	if !poll(timeout, func() bool {
		last, ok := model.LastAnswer()
		if !ok || len(last.Calls) > 0 || last.Text == "" {
			return false
		}
		text := last.Text
		if len(text) > 40 {
			text = text[:40] // one line of the screen
		}
		return strings.Contains(c.screen(), text)
	}) {
		run.Err = fmt.Errorf("interactive Claude Code did not finish within %v", timeout)
	}
	run.Stdout, run.Elapsed = c.screen(), time.Since(begin)
	c.stop()
	w.t.Logf("claude-term ran %v (err %v)", run.Elapsed.Round(time.Millisecond), run.Err)
	return run
}
