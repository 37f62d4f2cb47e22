//go:build clients

package clients

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// waitScenario: start a task that prints its line only after a few
// seconds, wait_task for it (the server sends progress notifications
// every second meanwhile: OpenCode cancels a call after 60 s without
// any), then get_task once the task has exited on its own.
func waitScenario(t *testing.T, c client) {
	w := newWorld(t)
	ready := "ready-" + randHex(4)
	tools := []string{"start_task", "wait_task", "get_task"}
	taskID := func(prev []ToolResult) (string, error) {
		res, _ := lastResult(prev, c.Tool("start_task"))
		doc, err := c.Doc(res)
		if err != nil {
			return "", err
		}
		if id := str(doc, "id"); id != "" {
			return id, nil
		}
		return "", fmt.Errorf("start_task result has no id: %s", res.Text)
	}
	var steps []Step
	for _, call := range c.Prelude(tools...) {
		steps = append(steps, func([]ToolResult) (ToolCall, error) { return call, nil })
	}
	steps = append(steps,
		func([]ToolResult) (ToolCall, error) {
			return ToolCall{Name: c.Tool("start_task"), Input: map[string]any{
				"command": "echo starting; sleep 4; echo " + ready, "name": "slow",
			}}, nil
		},
		func(prev []ToolResult) (ToolCall, error) {
			id, err := taskID(prev)
			return ToolCall{Name: c.Tool("wait_task"), Input: map[string]any{"task": id, "for": ready, "timeout_s": 30}}, err
		},
		func(prev []ToolResult) (ToolCall, error) {
			id, err := taskID(prev)
			return ToolCall{Name: c.Tool("wait_task"), Input: map[string]any{"task": id, "timeout_s": 30}}, err
		},
		func(prev []ToolResult) (ToolCall, error) {
			id, err := taskID(prev)
			return ToolCall{Name: c.Tool("get_task"), Input: map[string]any{"task": id}}, err
		},
	)
	plan := &Plan{Client: c, Steps: steps, Done: "Done: the task printed its line and exited.", SideText: "Waiting for a task"}
	m := newModelServer(t, filepath.Join(w.Logs, "model.log"), plan.Script)
	run := c.Run(w, m, "Start a slow task with bgmux, wait for it to be ready, then check it.", clientTimeout)
	results := checkRun(t, c, plan, m, run)

	n := len(c.Prelude(tools...))
	matched, _ := c.Doc(results[n+1])
	if matched["matched"] != true || !strings.Contains(str(matched, "line"), ready) {
		t.Errorf("wait_task for %q: want matched with the line; got %v", ready, matched)
	}
	ended, _ := c.Doc(results[n+2])
	if ended["ended"] != true || fmt.Sprint(ended["exit_status"]) != "0" {
		t.Errorf("wait_task for the end: want ended, exit_status 0; got %v", ended)
	}
	got, _ := c.Doc(results[n+3])
	if str(got, "state") != "exited" || fmt.Sprint(got["exit_code"]) != "0" {
		t.Errorf("get_task after the end: want exited 0; got %v", got)
	}

	msgs := mcpLog(t, w.MCPLog())
	checkMCP(t, c, msgs, 4)
	// The first wait: the client sent a progress token, the server sent
	// progress notifications with it while waiting, and the client did
	// not cancel the call before it was answered.
	var wait mcpMessage
	for _, msg := range msgs {
		if msg.Dir == "client" && msg.Method == "tools/call" && strings.Contains(string(msg.Params), `"for":"`+ready+`"`) {
			wait = msg
			break
		}
	}
	if wait.ID == nil {
		t.Fatalf("no tools/call of wait_task for %q in the MCP log", ready)
	}
	var p struct {
		Meta struct {
			ProgressToken json.RawMessage `json:"progressToken"`
		} `json:"_meta"`
	}
	json.Unmarshal(wait.Params, &p)
	if p.Meta.ProgressToken == nil {
		t.Fatalf("%s sent wait_task without a progress token: %s", c.Name, wait.Raw)
	}
	reply, _ := mcpReply(msgs, wait)
	progress := 0
	for _, msg := range msgs {
		if msg.Time.Before(wait.Time) || msg.Time.After(reply.Time) {
			continue
		}
		var np struct {
			ProgressToken json.RawMessage `json:"progressToken"`
			RequestID     json.RawMessage `json:"requestId"`
		}
		json.Unmarshal(msg.Params, &np)
		switch {
		case msg.Dir == "server" && msg.Method == "notifications/progress" && string(np.ProgressToken) == string(p.Meta.ProgressToken):
			progress++
		case msg.Dir == "client" && msg.Method == "notifications/cancelled" && string(np.RequestID) == string(wait.ID):
			t.Errorf("%s cancelled the wait before its reply: %s", c.Name, msg.Raw)
		}
	}
	t.Logf("%s: wait_task with progress token %s got %d progress notifications in %v", c.Name, p.Meta.ProgressToken, progress, reply.Time.Sub(wait.Time))
	if progress < 2 {
		t.Errorf("the server sent %d progress notifications during a 4 s wait, want one a second", progress)
	}
}

// TestAuditClaudeCodeWaitProgress runs the wait scenario in Claude Code.
func TestAuditClaudeCodeWaitProgress(t *testing.T) {
	needClient(t, "claude")
	waitScenario(t, claudeCode)
}

// TestAuditOpenCodeWaitProgress runs the wait scenario in OpenCode.
func TestAuditOpenCodeWaitProgress(t *testing.T) {
	needClient(t, "opencode")
	waitScenario(t, openCode)
}
