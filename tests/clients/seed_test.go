//go:build clients

package clients

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// clientTimeout bounds every client run.
const clientTimeout = 3 * time.Minute

// seedTools are the bgmux tools the seed scenario calls.
var seedTools = []string{"start_task", "get_task", "read_output", "wait_task", "stop_task"}

var seedPortLine = regexp.MustCompile(`Server running on port (\d+)`)

// lastResult is the latest result of a call of the tool name in prev.
func lastResult(prev []ToolResult, name string) (ToolResult, bool) {
	for i := len(prev) - 1; i >= 0; i-- {
		if prev[i].Call.Name == name {
			return prev[i], true
		}
	}
	return ToolResult{}, false
}

// seed is the seed scenario for one client: start tests/testdata's HTTP
// echo server as a bgmux task (start_task with wait_for its listening
// line), get_task at once, read_output, POST a message to its port with
// curl through the client's own shell tool, wait_task for the body the
// server prints, stop_task it.
type seed struct {
	c       client
	w       *world
	message string
	plan    *Plan
}

func newSeed(t *testing.T, c client) *seed {
	w := newWorld(t)
	src, err := os.ReadFile(filepath.Join("..", "testdata", "echo_server.py"))
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(w.Work, "echo_server.py")
	w.writeFile(script, src)
	s := &seed{c: c, w: w, message: "hello-from-" + c.Name + "-" + randHex(4)}

	taskID := func(prev []ToolResult) (string, error) {
		res, _ := lastResult(prev, c.Tool("start_task"))
		doc, err := c.Doc(res)
		if err != nil {
			return "", err
		}
		if id := str(doc, "task", "id"); id != "" {
			return id, nil
		}
		return "", fmt.Errorf("start_task result has no task.id: %s", res.Text)
	}
	port := func(prev []ToolResult) (string, error) {
		res, _ := lastResult(prev, c.Tool("start_task"))
		doc, err := c.Doc(res)
		if err != nil {
			return "", err
		}
		m := seedPortLine.FindStringSubmatch(str(doc, "line"))
		if m == nil {
			return "", fmt.Errorf("start_task result's line has no port: %s", res.Text)
		}
		return m[1], nil
	}
	var steps []Step
	for _, call := range c.Prelude(seedTools...) {
		steps = append(steps, func([]ToolResult) (ToolCall, error) { return call, nil })
	}
	steps = append(steps,
		func([]ToolResult) (ToolCall, error) {
			return ToolCall{Name: c.Tool("start_task"), Input: map[string]any{
				"command":   []string{"python3", "-u", script},
				"name":      "echo",
				"wait_for":  `Server running on port (\d+)`,
				"timeout_s": 20,
			}}, nil
		},
		func(prev []ToolResult) (ToolCall, error) {
			id, err := taskID(prev)
			return ToolCall{Name: c.Tool("get_task"), Input: map[string]any{"task": id}}, err
		},
		func(prev []ToolResult) (ToolCall, error) {
			id, err := taskID(prev)
			return ToolCall{Name: c.Tool("read_output"), Input: map[string]any{"task": id}}, err
		},
		func(prev []ToolResult) (ToolCall, error) {
			p, err := port(prev)
			return c.Shell(fmt.Sprintf("curl -sS --max-time 10 -X POST --data-binary %s http://127.0.0.1:%s/", s.message, p)), err
		},
		func(prev []ToolResult) (ToolCall, error) {
			// The server printed the body it got: see it in the task's output.
			id, err := taskID(prev)
			return ToolCall{Name: c.Tool("wait_task"), Input: map[string]any{"task": id, "for": s.message, "timeout_s": 10}}, err
		},
		func(prev []ToolResult) (ToolCall, error) {
			id, err := taskID(prev)
			return ToolCall{Name: c.Tool("stop_task"), Input: map[string]any{"task": id}}, err
		},
	)
	s.plan = &Plan{Client: c, Steps: steps, Done: "Done: the echo server answered and is stopped.", SideText: "Echo server check"}
	return s
}

// check asserts what the client fed back to the model for every step,
// and what the real bgmux CLI says of the task afterwards.
func (s *seed) check(t *testing.T, m *ModelServer, run clientRun) {
	t.Helper()
	results := checkRun(t, s.c, s.plan, m, run)
	// The prelude (Claude Code's ToolSearch) loaded every tool it named.
	for i := range s.c.Prelude(seedTools...) {
		for _, tool := range seedTools {
			if !strings.Contains(string(results[i].Raw), s.c.Tool(tool)) {
				t.Errorf("%s result does not load %s: %s", results[i].Call.Name, s.c.Tool(tool), results[i].Raw)
			}
		}
	}
	get := func(tool string) map[string]any {
		t.Helper()
		res, ok := lastResult(results, s.c.Tool(tool))
		if !ok {
			t.Fatalf("no %s result reached the model", tool)
		}
		doc, err := s.c.Doc(res)
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	start := get("start_task")
	id := str(start, "task", "id")
	if !strings.HasPrefix(id, "bg-") || start["matched"] != true || str(start, "task", "state") != "running" {
		t.Errorf("start_task result: want matched, a task id bg-..., state running; got %v", start)
	}
	// The advice reaches the model in the document it is shown (Claude
	// Code shows only structuredContent): hint.
	if h := str(start, "hint"); !strings.Contains(h, "wait_task (not sleep)") {
		t.Errorf("start_task result: the model sees no hint with the advice to wait with wait_task; got %v", start)
	}
	port := seedPortLine.FindStringSubmatch(str(start, "line"))
	if port == nil {
		t.Fatalf("start_task result's line has no port: %v", start)
	}
	if got := get("get_task"); str(got, "id") != id || str(got, "state") != "running" || got["pid"] == nil {
		t.Errorf("get_task result: want id %s, state running and a pid; got %v", id, got)
	} else if str(got, "tmux", "socket") != s.w.Socket {
		t.Errorf("get_task result: tmux socket %q, want the world's %q (BGMUX_SOCKET from the MCP config)", str(got, "tmux", "socket"), s.w.Socket)
	}
	if got := get("read_output"); !strings.Contains(fmt.Sprint(got["lines"]), "Server running on port "+port[1]) {
		t.Errorf("read_output result: want the line with port %s; got %v", port[1], got)
	}
	shell, ok := lastResult(results, s.c.Shell("").Name)
	if !ok || !strings.Contains(shell.Text, fmt.Sprintf(`{"echo": "%s"}`, s.message)) {
		t.Errorf("the shell's curl result does not show the echoed message %q: %q", s.message, shell.Text)
	}
	if got := get("wait_task"); got["matched"] != true || str(got, "line") != s.message {
		t.Errorf("wait_task for the request body: want matched, line %q; got %v", s.message, got)
	}
	stop := get("stop_task")
	if str(stop, "id") != id || (str(stop, "state") != "killed" && str(stop, "state") != "exited") || !strings.HasPrefix(str(stop, "hint"), "Stopped") {
		t.Errorf("stop_task result: want id %s, state killed or exited; got %v", id, stop)
	}

	checkMCP(t, s.c, mcpLog(t, s.w.MCPLog()), len(seedTools))

	// The real CLI, on the same socket and state dir, agrees.
	var st struct {
		ID    string `json:"id"`
		State string `json:"state"`
		Runs  int    `json:"runs"`
	}
	out := s.w.bgmux("status", "--json", id)
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("bgmux status --json: %v\n%s", err, out)
	}
	if st.ID != id || st.State != "killed" && st.State != "exited" || st.Runs != 1 {
		t.Errorf("bgmux status --json %s: want one run, stopped; got %s", id, out)
	}
	if logs := s.w.bgmux("logs", id); !strings.Contains(logs, s.message) {
		t.Errorf("bgmux logs %s does not show the request body %q the server printed:\n%s", id, s.message, logs)
	}
}

// TestAuditClaudeCodeSeedScenario runs the seed scenario in the real
// Claude Code (`claude -p`) with the scripted model.
func TestAuditClaudeCodeSeedScenario(t *testing.T) {
	needClient(t, "claude")
	s := newSeed(t, claudeCode)
	m := newModelServer(t, filepath.Join(s.w.Logs, "model.log"), s.plan.Script)
	run := claudeCode.Run(s.w, m, "Start the echo server in echo_server.py as a bgmux task, send it a message with curl, then stop it.", clientTimeout)
	s.check(t, m, run)
}

// TestAuditOpenCodeSeedScenario runs the seed scenario in the real
// OpenCode (`opencode run`) with the scripted model.
func TestAuditOpenCodeSeedScenario(t *testing.T) {
	needClient(t, "opencode")
	s := newSeed(t, openCode)
	m := newModelServer(t, filepath.Join(s.w.Logs, "model.log"), s.plan.Script)
	run := openCode.Run(s.w, m, "Start the echo server in echo_server.py as a bgmux task, send it a message with curl, then stop it.", clientTimeout)
	s.check(t, m, run)
}

// TestAuditOpenCodeServeSeedScenario runs the seed scenario in the real
// `opencode serve`, prompted over its HTTP API, with the scripted model.
func TestAuditOpenCodeServeSeedScenario(t *testing.T) {
	needClient(t, "opencode")
	s := newSeed(t, openCodeServe)
	m := newModelServer(t, filepath.Join(s.w.Logs, "model.log"), s.plan.Script)
	run := openCodeServe.Run(s.w, m, "Start the echo server in echo_server.py as a bgmux task, send it a message with curl, then stop it.", clientTimeout)
	s.check(t, m, run)
}

// TestAuditClaudeCodeInteractiveSeedScenario runs the seed scenario in
// the real interactive Claude Code, in a terminal, with the scripted model.
func TestAuditClaudeCodeInteractiveSeedScenario(t *testing.T) {
	needClient(t, "claude")
	s := newSeed(t, claudeCodeTerm)
	m := newModelServer(t, filepath.Join(s.w.Logs, "model.log"), s.plan.Script)
	run := claudeCodeTerm.Run(s.w, m, "Start the echo server in echo_server.py as a bgmux task, send it a message with curl, then stop it.", clientTimeout)
	s.check(t, m, run)
}
