//go:build clients

package clients

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// taskNotification is what Claude Code 2.1.332 sends the model, as a
// new user message of its own, when a background Bash command ends:
// a <task-notification> naming the Bash call, its status and its output
// file, not the output itself.
var taskNotification = regexp.MustCompile(`<task-notification>\s*<task-id>([^<]*)</task-id>\s*<tool-use-id>([^<]*)</tool-use-id>\s*<output-file>([^<]*)</output-file>\s*<status>([^<]*)</status>\s*<summary>([^<]*)</summary>`)

// notification is one <task-notification> as the model saw it.
type notification struct{ ToolUseID, OutputFile, Status, Summary string }

// lastNotification is the notification in the last message of r.
func lastNotification(r *Request) (notification, bool) {
	if len(r.Messages) == 0 {
		return notification{}, false
	}
	last := r.Messages[len(r.Messages)-1]
	sm := taskNotification.FindStringSubmatch(last.Text)
	if last.Role != "user" || sm == nil {
		return notification{}, false
	}
	return notification{ToolUseID: sm[2], OutputFile: sm[3], Status: sm[4], Summary: sm[5]}, true
}

// backgroundWait is the background Bash recipe's scenario: a task that
// exits 3 once the test lets it; the model runs `bgmux wait build` as a
// background Bash command (run_in_background) and ends its turn at once;
// when Claude Code tells it the command ended, it reads the command's
// output file and says what happened.
type backgroundWait struct {
	w       *world
	m       *ModelServer
	id      string // the task's id
	release string // the file whose creation lets the task exit 3
	waiting string // the text the model ends its first turn with
	done    string // the text of its answer to the notification
}

const backgroundPrompt = "Wait for the build in the background and tell me when it ends."

func newBackgroundWait(t *testing.T, w *world) *backgroundWait {
	b := &backgroundWait{w: w, release: filepath.Join(w.Root, "release"),
		waiting: "Waiting for the build in the background.", done: "The build ended: exit 3."}
	b.id = strings.TrimSpace(w.bgmux("start", "--name", "build", "--", "sh", "-c",
		`echo building; while [ ! -e "$1" ]; do sleep 0.1; done; echo failed; exit 3`, "sh", b.release))
	b.m = newModelServer(t, filepath.Join(w.Logs, "model.log"), b.script)
	return b
}

func (b *backgroundWait) script(r *Request) Turn {
	if !claudeCode.Main(r) {
		return Turn{Text: "Background build"}
	}
	results := r.Results()
	if n, ok := lastNotification(r); ok {
		return Turn{Calls: []ToolCall{{Name: "Read", Input: map[string]any{"file_path": n.OutputFile}}}}
	}
	if len(results) == 0 {
		return Turn{Calls: []ToolCall{{Name: "Bash", Input: map[string]any{
			"command": "bgmux wait build", "description": "Wait for the build", "run_in_background": true,
		}}}}
	}
	if results[len(results)-1].Call.Name == "Read" {
		return Turn{Text: b.done}
	}
	return Turn{Text: b.waiting}
}

// turnEnded waits until the model has ended its first turn with the
// background wait still running, and returns the number of requests so
// far.
func (b *backgroundWait) turnEnded(t *testing.T, shown func() bool) int {
	t.Helper()
	if !poll(clientTimeout, func() bool {
		last, ok := b.m.LastAnswer()
		return ok && last.Text == b.waiting && shown()
	}) {
		t.Fatalf("the model did not end its turn after starting the background wait; requests: %d", len(b.m.Requests()))
	}
	var st struct {
		State string `json:"state"`
	}
	json.Unmarshal([]byte(b.w.bgmux("status", b.id, "--json")), &st)
	if st.State != "running" {
		t.Fatalf("the task is %q when the turn ended, want running", st.State)
	}
	return len(b.m.Requests())
}

// check releases the task and checks what the model is sent after its
// turn ended (at request index from): a new request, with no user input,
// whose last message is Claude Code's notification that the Bash call
// ended with exit code 3 (the task's status, which `bgmux wait` returns),
// then the result of reading its output file: bgmux wait's line saying
// the task exited 3.
func (b *backgroundWait) check(t *testing.T, from int, finished func() bool) {
	t.Helper()
	if err := os.WriteFile(b.release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if !poll(clientTimeout, finished) {
		t.Fatalf("Claude Code did not finish after the background wait ended; requests: %d, last answer: %+v", len(b.m.Requests()), last(b.m))
	}
	reqs := b.m.Requests()
	bash := ToolCall{}
	for _, m := range reqs[from-1].Messages {
		for _, c := range m.Calls {
			if c.Name == "Bash" {
				bash = c
			}
		}
	}
	var notified, read *Request
	for _, r := range reqs[from:] {
		if !claudeCode.Main(r) {
			continue
		}
		if _, ok := lastNotification(r); ok && notified == nil {
			notified = r
		}
		if res := r.Results(); len(res) > 0 && res[len(res)-1].Call.Name == "Read" && read == nil {
			read = r
		}
	}
	if notified == nil {
		t.Fatalf("no request after the turn ended carried a <task-notification>; requests after it: %d", len(reqs)-from)
	}
	n, _ := lastNotification(notified)
	if n.ToolUseID != bash.ID || n.Status != "failed" || !strings.Contains(n.Summary, "exit code 3") {
		t.Errorf("the notification %+v: want tool-use-id %s (the background Bash call), status failed, a summary with exit code 3", n, bash.ID)
	}
	for _, m := range notified.Messages[len(reqs[from-1].Messages):] {
		if m.Role == "user" && strings.Contains(m.Text, backgroundPrompt) {
			t.Errorf("the notification request has user input: %q", m.Text)
		}
	}
	if read == nil {
		t.Fatalf("the model's Read of the output file %s has no result in any request", n.OutputFile)
	}
	res := read.Results()[len(read.Results())-1]
	if !strings.Contains(res.Text, "build ("+b.id+") exited 3") {
		t.Errorf("the output file of the background `bgmux wait build`: %q, want the line build (%s) exited 3", res.Text, b.id)
	}
}

func last(m *ModelServer) Turn {
	t, _ := m.LastAnswer()
	return t
}

// TestRecipeClaudeBackgroundWaitTerm pins the background Bash recipe in
// interactive Claude Code: the model runs `bgmux wait build` with
// run_in_background and ends its turn; when the task exits 3, Claude Code
// starts a turn by itself (nothing is typed) with a <task-notification>
// of the command's exit code 3, and the model reads the output file.
func TestRecipeClaudeBackgroundWaitTerm(t *testing.T) {
	needClient(t, "claude")
	w := newWorld(t)
	// The interactive terminal's environment is fixed (startClaudeTerm);
	// the project settings give its Bash tool this world's bgmux.
	settings, _ := json.Marshal(map[string]any{"env": map[string]any{
		"BGMUX_STATE_DIR": w.State, "BGMUX_SOCKET": w.Socket,
		"PATH": filepath.Dir(bgmuxBin) + string(os.PathListSeparator) + os.Getenv("PATH"),
	}})
	if err := os.MkdirAll(filepath.Join(w.Work, ".claude"), 0o700); err != nil {
		t.Fatal(err)
	}
	w.writeFile(filepath.Join(w.Work, ".claude", "settings.json"), settings)
	b := newBackgroundWait(t, w)
	c := w.startClaudeTerm(b.m)
	c.typeLine(backgroundPrompt)
	from := b.turnEnded(t, func() bool { return strings.Contains(c.screen(), b.waiting) })
	b.check(t, from, func() bool {
		return last(b.m).Text == b.done && strings.Contains(c.screen(), b.done)
	})
	if !strings.Contains(c.screen(), `Background command "Wait for the build" failed with exit code 3`) {
		t.Errorf("the screen does not show the background command's end:\n%s", c.screen())
	}
}

// TestRecipeClaudeBackgroundWaitPrint pins the background Bash recipe in
// `claude -p`: when the model ends its turn with the background wait
// still running, claude -p does not exit; when the task exits 3 it gets
// the same <task-notification> as a new turn, and exits after that turn,
// with a second result.
func TestRecipeClaudeBackgroundWaitPrint(t *testing.T) {
	bin := needClient(t, "claude")
	w := newWorld(t)
	b := newBackgroundWait(t, w)
	args := append([]string{"-p", backgroundPrompt}, claudeArgs(w, "stream-json")...)
	p := w.startClient("claude", clientTimeout, bin, args, w.recipeEnviron(b.m, "sk-ant-test-dummy"))
	from := b.turnEnded(t, func() bool { return true })
	exited := func() bool {
		select {
		case <-p.done:
			return true
		default:
			return false
		}
	}
	b.check(t, from, exited)
	run := p.Wait()
	if run.Err != nil {
		t.Fatalf("claude -p: %v\nstderr: %s", run.Err, run.Stderr)
	}
	var results []string
	for _, line := range strings.Split(run.Stdout, "\n") {
		var ev struct {
			Type   string `json:"type"`
			Result string `json:"result"`
		}
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Type == "result" {
			results = append(results, ev.Result)
		}
	}
	if len(results) != 2 || results[0] != b.waiting || results[1] != b.done {
		t.Errorf("claude -p's results: %q, want the first turn's %q, then the notified turn's %q", results, b.waiting, b.done)
	}
}
