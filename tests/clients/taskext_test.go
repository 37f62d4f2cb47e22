//go:build clients

package clients

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestTasksExtClaudeCodeWakes: interactive Claude Code (the one client
// that declares the Tasks extension) calls wait_task for a task that
// exits 3 a few seconds later; bgmux answers with a task handle, Claude
// Code moves the call to the background and the model ends its turn;
// when the wait is over, Claude Code's poll (tasks/get) gets the result
// and it starts a new model turn, with no user input, whose last message
// carries the task's exit status 3 (with Claude Code 2.1.332: a
// <task-notification> holding the result's structured content).
func TestTasksExtClaudeCodeWakes(t *testing.T) {
	needClient(t, "claude")
	c := claudeCodeTerm
	w := newWorld(t)
	tools := []string{"start_task", "wait_task"}
	var steps []Step
	for _, call := range c.Prelude(tools...) {
		steps = append(steps, func([]ToolResult) (ToolCall, error) { return call, nil })
	}
	steps = append(steps,
		func([]ToolResult) (ToolCall, error) {
			return ToolCall{Name: c.Tool("start_task"), Input: map[string]any{
				"command": "echo working; sleep 8; echo giving-up; exit 3", "name": "exiter",
			}}, nil
		},
		func(prev []ToolResult) (ToolCall, error) {
			res, _ := lastResult(prev, c.Tool("start_task"))
			doc, err := c.Doc(res)
			if err != nil {
				return ToolCall{}, err
			}
			return ToolCall{Name: c.Tool("wait_task"), Input: map[string]any{"task": str(doc, "id")}}, nil
		},
	)
	plan := &Plan{Client: c, Steps: steps, Done: "Waiting in the background for exiter.", SideText: "Waiting for a task"}
	woke := "Woken: exiter ended."
	var mu sync.Mutex
	var wake *Request
	ended := false // the model ended its turn after the wait_task call
	script := func(r *Request) Turn {
		mu.Lock()
		defer mu.Unlock()
		if !c.Main(r) || len(r.Messages) == 0 || len(r.Results()) < len(steps) {
			return plan.Script(r)
		}
		// A new turn after the model ended its own: no tool result in
		// the last message (a blocking wait's result would be one), but
		// the task's end. Claude Code shows the result's structured
		// content, as JSON, in a <task-notification>; its text content
		// says "exit status 3".
		last := r.Messages[len(r.Messages)-1]
		if ended && last.Role == "user" && len(last.Results) == 0 &&
			(strings.Contains(last.Text, `"exit_status":3`) || strings.Contains(last.Text, "exit status 3")) {
			if wake == nil {
				wake = r
			}
			return Turn{Text: woke}
		}
		turn := plan.Script(r)
		ended = ended || (len(turn.Calls) == 0 && turn.Text == plan.Done)
		return turn
	}
	m := newModelServer(t, w.Logs+"/model.log", script)
	term := w.startClaudeTerm(m)
	term.typeLine("Start a task with bgmux that exits after a few seconds, and wait for it in the background.")
	if !poll(90*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return wake != nil
	}) {
		t.Errorf("no model request carrying the task's exit status 3 within 90s; plan failure %q; screen:\n%s", plan.Failure(), term.screen())
		for i, r := range m.Requests() {
			if len(r.Messages) > 0 {
				last := r.Messages[len(r.Messages)-1]
				t.Logf("request %d: last message %s %q %s", i, last.Role, tail(last.Text, 400), describeResults(last.Results))
			}
		}
	}
	term.waitScreen(woke, 20*time.Second)
	term.stop()
	if f := plan.Failure(); f != "" {
		t.Errorf("the scripted model gave up: %s", f)
	}
	mu.Lock()
	got := wake
	mu.Unlock()
	if got != nil {
		last := got.Messages[len(wake.Messages)-1]
		t.Logf("the wake-up message as the model saw it:\n%s%s", tail(last.Text, 2000), describeResults(last.Results))
	}

	// The protocol: the wait_task call declared the extension and was
	// answered with a handle; tasks/get polled it to completed.
	msgs := mcpLog(t, w.MCPLog())
	var handleID string
	polls, completed := 0, false
	for _, msg := range msgs {
		switch {
		case msg.Dir == "client" && msg.Method == "tools/call" && strings.Contains(string(msg.Params), `"name":"wait_task"`):
			if !strings.Contains(string(msg.Params), `"io.modelcontextprotocol/tasks"`) {
				t.Errorf("Claude Code's wait_task call does not declare the tasks extension: %s", msg.Raw)
			}
			reply, _ := mcpReply(msgs, msg)
			var h struct {
				ResultType string `json:"resultType"`
				TaskID     string `json:"taskId"`
			}
			json.Unmarshal(reply.Result, &h)
			if h.ResultType != "task" {
				t.Errorf("wait_task was not answered with a task handle: %s", reply.Raw)
			}
			handleID = h.TaskID
		case msg.Dir == "client" && msg.Method == "tasks/get":
			polls++
			reply, _ := mcpReply(msgs, msg)
			var g struct {
				Status string `json:"status"`
			}
			json.Unmarshal(reply.Result, &g)
			completed = completed || g.Status == "completed"
		}
	}
	t.Logf("handle %s: %d tasks/get polls, completed %v", handleID, polls, completed)
	if handleID == "" || polls == 0 || !completed {
		t.Errorf("want a handle polled with tasks/get until completed; handle %q, %d polls, completed %v", handleID, polls, completed)
	}
	// The task ran to its own end: the wait never touched it.
	st := w.bgmux("status", "exiter", "--json")
	if !strings.Contains(st, `"exit_code": 3`) && !strings.Contains(st, `"exit_code":3`) {
		t.Errorf("exiter: want exited 3, got %s", st)
	}
}
