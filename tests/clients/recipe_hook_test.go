//go:build clients

package clients

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// recipeHookReader is the reader the SessionStart hook recipe claims
// events with.
const recipeHookReader = "claude-hook"

// sessionStartReminder is how Claude Code 2.1.332 shows the model a
// SessionStart hook's stdout: a <system-reminder> text block of the
// first user message, "SessionStart:<source> hook success: <stdout>".
var sessionStartReminder = regexp.MustCompile(`<system-reminder>\nSessionStart:(\w+) hook success: ([\s\S]*?)</system-reminder>`)

// hookReminder is one SessionStart hook output as the model saw it.
type hookReminder struct{ Source, Output string }

// hookReminders lists the SessionStart hook outputs in r's conversation.
func hookReminders(r *Request) []hookReminder {
	var out []hookReminder
	for _, m := range r.Messages {
		for _, sm := range sessionStartReminder.FindAllStringSubmatch(m.Text, -1) {
			out = append(out, hookReminder{Source: sm[1], Output: sm[2]})
		}
	}
	return out
}

// recipeEnviron is the environment of a Claude Code run for the
// recipes: the client's, with bgmux first on PATH and this world's
// BGMUX_STATE_DIR and BGMUX_SOCKET, which Claude Code's hooks and Bash
// tool inherit from it.
func (w *world) recipeEnviron(m *ModelServer, key string) []string {
	env := w.clientEnviron(claudeEnv(m, key)...)
	for i, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			env[i] = "PATH=" + filepath.Dir(bgmuxBin) + string(os.PathListSeparator) + os.Getenv("PATH")
		}
	}
	return append(env, "BGMUX_STATE_DIR="+w.State, "BGMUX_SOCKET="+w.Socket)
}

// writeHookSettings writes the recipe's .claude/settings.json into the
// project: a SessionStart hook (every source: startup, resume, clear,
// compact) running `bgmux events --new --reader claude-hook`.
func (w *world) writeHookSettings() {
	w.t.Helper()
	settings, _ := json.MarshalIndent(map[string]any{"hooks": map[string]any{"SessionStart": []any{
		map[string]any{"hooks": []any{map[string]any{
			"type": "command", "command": "bgmux events --new --reader " + recipeHookReader,
		}}},
	}}}, "", "  ")
	if err := os.MkdirAll(filepath.Join(w.Work, ".claude"), 0o700); err != nil {
		w.t.Fatal(err)
	}
	w.writeFile(filepath.Join(w.Work, ".claude", "settings.json"), settings)
}

// exitTask starts a task name that exits with status code at once and
// waits until bgmux has recorded its end; it returns the task's id.
func (w *world) exitTask(name, code string) string {
	w.t.Helper()
	id := strings.TrimSpace(w.bgmux("start", "--name", name, "--", "sh", "-c", "echo "+name+"; exit "+code))
	if !poll(20*time.Second, func() bool {
		return strings.Contains(w.bgmux("events", "--task", id), "exited "+code)
	}) {
		w.t.Fatalf("task %s did not exit %s:\n%s", name, code, w.bgmux("status", id))
	}
	return id
}

// exitTaskQuietly is exitTask for a goroutine other than the test's (the
// model server's): it returns an error instead of failing the test.
func (w *world) exitTaskQuietly(name, code string) (string, error) {
	cmd := exec.Command(bgmuxBin, "start", "--name", name, "--", "sh", "-c", "echo "+name+"; exit "+code)
	cmd.Dir, cmd.Env = w.Work, w.bgmuxEnviron()
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("bgmux start %s: %v", name, err)
	}
	id := strings.TrimSpace(string(out))
	if !poll(20*time.Second, func() bool {
		ev := exec.Command(bgmuxBin, "events", "--task", id)
		ev.Dir, ev.Env = w.Work, w.bgmuxEnviron()
		b, _ := ev.Output()
		return strings.Contains(string(b), "exited "+code)
	}) {
		return "", fmt.Errorf("task %s did not exit %s", name, code)
	}
	return id, nil
}

// compactRequest reports whether r is Claude Code's request for the
// summary of a compaction.
func compactRequest(r *Request) bool {
	return len(r.Messages) > 0 && strings.Contains(r.Messages[len(r.Messages)-1].Text, "<summary> block")
}

// TestRecipeClaudeSessionStartHook pins the SessionStart hook recipe in
// `claude -p`: with `bgmux events --new --reader claude-hook` as the
// project's SessionStart hook, a session that starts after a task
// exited 3 is told so in its first request to the model; the session
// continued later (--continue) is told only what ended since (the
// cursor moved), and so is it after a compaction (/compact; a task
// exits while the model writes the summary); a new session when nothing
// has happened is told nothing.
func TestRecipeClaudeSessionStartHook(t *testing.T) {
	bin := needClient(t, "claude")
	w := newWorld(t)
	w.writeHookSettings()
	build := w.exitTask("build", "3")

	var (
		mu         sync.Mutex
		compacted  string // the id of the task that exited during the compaction
		compactErr error
	)
	m := newModelServer(t, filepath.Join(w.Logs, "model.log"), func(r *Request) Turn {
		if compactRequest(r) {
			mu.Lock()
			defer mu.Unlock()
			if compacted == "" && compactErr == nil {
				compacted, compactErr = w.exitTaskQuietly("test", "5")
			}
			return Turn{Text: "<analysis>Tasks ended.</analysis>\n<summary>The user asked what ended.</summary>"}
		}
		return Turn{Text: "Noted what ended."}
	})
	// run runs `claude -p prompt` with extra flags and returns its
	// requests to the model that are the agent's (not side requests).
	run := func(name, prompt string, extra ...string) []*Request {
		t.Helper()
		before := len(m.Requests())
		args := append(append([]string{"-p", prompt}, extra...), claudeArgs(w, "stream-json")...)
		r := w.runClient(name, clientTimeout, bin, args, w.recipeEnviron(m, "sk-ant-test-dummy"))
		if r.Err != nil {
			t.Fatalf("%s: %v\nstdout: %s\nstderr: %s", name, r.Err, r.Stdout, r.Stderr)
		}
		var main []*Request
		for _, req := range m.Requests()[before:] {
			if claudeCode.Main(req) {
				main = append(main, req)
			}
		}
		if len(main) == 0 {
			t.Fatalf("%s sent the model no request of the agent's; stdout: %s", name, r.Stdout)
		}
		return main
	}
	// fresh are the hook outputs of r other than those of sources
	// earlier runs already showed.
	fresh := func(r *Request, old ...string) []hookReminder {
		var out []hookReminder
		for _, h := range hookReminders(r) {
			if !slices.Contains(old, h.Source) {
				out = append(out, h)
			}
		}
		return out
	}

	first := run("claude-1", "What ended while I was away?")[0]
	got := hookReminders(first)
	if len(got) != 1 || got[0].Source != "startup" ||
		!strings.Contains(got[0].Output, "build ("+build+") exited 3") {
		t.Fatalf("the first session's first request: SessionStart hook output %+v, want one from startup saying build (%s) exited 3; first message: %q",
			got, build, first.FirstUserText())
	}

	lint := w.exitTask("lint", "4")
	second := run("claude-2", "/compact", "--continue")
	if !compactRequest(second[0]) {
		t.Fatalf("claude -p --continue /compact: its first request is not for a compaction summary: %q", second[0].Messages[len(second[0].Messages)-1].Text)
	}
	resumed := fresh(second[0], "startup")
	if len(resumed) != 1 || resumed[0].Source != "resume" ||
		!strings.Contains(resumed[0].Output, "lint ("+lint+") exited 4") || strings.Contains(resumed[0].Output, build) {
		t.Fatalf("the continued session: SessionStart hook output %+v (all: %+v), want one from resume saying lint (%s) exited 4 and nothing of build (%s)",
			resumed, hookReminders(second[0]), lint, build)
	}
	mu.Lock()
	test, err := compacted, compactErr
	mu.Unlock()
	if err != nil || test == "" {
		t.Fatalf("no task exited during the compaction: %v", err)
	}

	third := run("claude-3", "Anything new?", "--continue")[0]
	after := fresh(third, "startup", "resume")
	if len(after) != 1 || after[0].Source != "compact" ||
		!strings.Contains(after[0].Output, "test ("+test+") exited 5") || strings.Contains(after[0].Output, lint) {
		t.Fatalf("after the compaction: SessionStart hook output %+v (all: %+v), want one from compact saying test (%s) exited 5 and nothing of lint (%s)",
			after, hookReminders(third), test, lint)
	}
	for _, h := range hookReminders(third) {
		if h.Source == "resume" {
			t.Fatalf("the session continued with nothing new: a SessionStart hook output from resume %q, want none", h.Output)
		}
	}

	fourth := run("claude-4", "Anything new?")[0]
	if got := hookReminders(fourth); len(got) != 0 || strings.Contains(string(fourth.Body), "exited") {
		t.Fatalf("a new session with nothing new: SessionStart hook output %+v, want none (and no \"exited\" in the request)", got)
	}
}

// TestRecipeClaudeSessionStartHookTerm pins the SessionStart hook recipe
// in interactive Claude Code, with BGMUX_STATE_DIR and BGMUX_SOCKET given
// by the project settings' "env" (which hooks get too): a task exited 3
// before the session started, and the first request after the first
// prompt tells the model so.
func TestRecipeClaudeSessionStartHookTerm(t *testing.T) {
	needClient(t, "claude")
	w := newWorld(t)
	w.writeHookSettings()
	var settings map[string]any
	b, err := os.ReadFile(filepath.Join(w.Work, ".claude", "settings.json"))
	if err != nil || json.Unmarshal(b, &settings) != nil {
		t.Fatalf("read back .claude/settings.json: %v", err)
	}
	settings["env"] = map[string]any{
		"BGMUX_STATE_DIR": w.State, "BGMUX_SOCKET": w.Socket,
		"PATH": filepath.Dir(bgmuxBin) + string(os.PathListSeparator) + os.Getenv("PATH"),
	}
	b, _ = json.MarshalIndent(settings, "", "  ")
	w.writeFile(filepath.Join(w.Work, ".claude", "settings.json"), b)
	build := w.exitTask("build", "3")
	m := newModelServer(t, filepath.Join(w.Logs, "model.log"), func(r *Request) Turn {
		return Turn{Text: "Noted what ended."}
	})
	run := w.runClaudeTerm(m, "What ended while I was away?", clientTimeout)
	if run.Err != nil {
		t.Fatalf("%v; screen:\n%s", run.Err, run.Stdout)
	}
	var first *Request
	for _, r := range m.Requests() {
		if claudeCode.Main(r) {
			first = r
			break
		}
	}
	if first == nil {
		t.Fatal("interactive Claude Code sent the model no request of the agent's")
	}
	got := hookReminders(first)
	if len(got) != 1 || got[0].Source != "startup" || !strings.Contains(got[0].Output, "build ("+build+") exited 3") {
		t.Fatalf("the first request: SessionStart hook output %+v, want one from startup saying build (%s) exited 3", got, build)
	}
}
