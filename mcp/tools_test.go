package mcp

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

var allTools = []string{"start_task", "get_task", "list_tasks", "read_output", "wait_task", "send_input", "stop_task", "restart_task", "remove_task"}

// TestToolSchemas checks that every tool is listed with a description, an
// object input schema whose every field is described (only the truly
// required ones required), and an output schema.
func TestToolSchemas(t *testing.T) {
	f := newFixture(t)
	if len(f.tools) != len(allTools) {
		t.Errorf("%d tools listed, want %d", len(f.tools), len(allTools))
	}
	required := map[string][]string{"start_task": {"command"}, "list_tasks": nil}
	for _, name := range allTools {
		tool := f.tools[name]
		if tool == nil {
			t.Errorf("tool %s is not listed", name)
			continue
		}
		if len(tool.Description) < 80 {
			t.Errorf("%s: description too short for a model: %q", name, tool.Description)
		}
		var in struct {
			Type       string `json:"type"`
			Required   []string
			Properties map[string]struct {
				Description string `json:"description"`
				Type        any    `json:"type"`
			} `json:"properties"`
		}
		decode(t, tool.InputSchema, &in)
		if in.Type != "object" || len(in.Properties) == 0 {
			t.Errorf("%s: input schema %+v", name, in)
		}
		for p, s := range in.Properties {
			if strings.TrimSpace(s.Description) == "" {
				t.Errorf("%s: input field %s has no description", name, p)
			}
			if _, ok := s.Type.([]any); ok {
				t.Errorf("%s: input field %s has a type list %v; want one type", name, p, s.Type)
			}
		}
		want, ok := required[name]
		if !ok {
			want = []string{"task"}
		}
		if !slices.Equal(in.Required, want) {
			t.Errorf("%s: required %v, want %v", name, in.Required, want)
		}
		var out struct {
			Type string `json:"type"`
		}
		decode(t, tool.OutputSchema, &out)
		if out.Type != "object" {
			t.Errorf("%s: output schema type %q, want object", name, out.Type)
		}
	}
}

// TestTaskLifecycle drives start_task, get_task, list_tasks, stop_task
// and remove_task, and the exit notification.
func TestTaskLifecycle(t *testing.T) {
	f := newFixture(t)
	var tk wtask
	res := f.ok("start_task", map[string]any{"command": "sleep 300", "name": "web", "tags": []string{"dev"}, "env": map[string]string{"A": "1"}}, &tk)
	if tk.State != "running" || tk.PID == nil || tk.Name != "web" || tk.Command == nil || *tk.Command != "sleep 300" {
		t.Fatalf("start_task: %+v", tk)
	}
	if !strings.Contains(text(res), tk.Tmux.Attach) || !strings.Contains(tk.Tmux.Attach, f.socket) {
		t.Errorf("start_task text does not tell how to attach: %s", text(res))
	}

	var got wtask
	f.ok("get_task", map[string]any{"task": "web"}, &got)
	if got.ID != tk.ID || got.State != "running" {
		t.Fatalf("get_task: %+v", got)
	}

	var again wtask
	res = f.ok("start_task", map[string]any{"command": "sleep 300", "name": "web", "env": map[string]string{"A": "2"}, "reuse": true}, &again)
	if again.ID != tk.ID || !strings.HasPrefix(text(res), "Reused") {
		t.Fatalf("start_task reuse: %+v\n%s", again, text(res))
	}

	var argv wtask
	f.ok("start_task", map[string]any{"command": []string{"sleep", "301"}}, &argv)
	if !slices.Equal(argv.Argv, []string{"sleep", "301"}) || argv.Command != nil {
		t.Fatalf("start_task with an argv: %+v", argv)
	}

	var list struct{ Tasks []wtask }
	f.ok("list_tasks", nil, &list)
	if len(list.Tasks) != 2 || list.Tasks[0].ID != tk.ID {
		t.Fatalf("list_tasks: %+v", list)
	}
	f.ok("list_tasks", map[string]any{"tag": "dev"}, &list)
	if len(list.Tasks) != 1 || list.Tasks[0].ID != tk.ID {
		t.Fatalf("list_tasks tag=dev: %+v", list)
	}
	f.ok("list_tasks", map[string]any{"state": "exited", "all": true}, &list)
	if len(list.Tasks) != 0 {
		t.Fatalf("list_tasks state=exited: %+v", list)
	}

	var stopped wtask
	f.ok("stop_task", map[string]any{"task": tk.ID, "grace_s": 2}, &stopped)
	if stopped.State != "killed" || stopped.Signal == nil || *stopped.Signal != "SIGTERM" {
		t.Fatalf("stop_task: %+v", stopped)
	}
	ev := f.note(tk.ID, 10*time.Second)
	if ev.State != "killed" || ev.Signal == nil || *ev.Signal != "SIGTERM" || ev.ExitStatus != 143 || !strings.Contains(ev.Message, "killed by SIGTERM") {
		t.Fatalf("exit notification: %+v", ev)
	}
	res = f.ok("stop_task", map[string]any{"task": tk.ID}, nil)
	if !strings.HasPrefix(text(res), "Nothing to stop") {
		t.Errorf("stop_task on a stopped task: %s", text(res))
	}

	var removed struct{ Removed []wtask }
	f.ok("remove_task", map[string]any{"task": "web"}, &removed)
	if len(removed.Removed) != 1 || removed.Removed[0].ID != tk.ID {
		t.Fatalf("remove_task: %+v", removed)
	}
	if msg := f.fail("get_task", map[string]any{"task": tk.ID}); !strings.Contains(msg, "list_tasks") {
		t.Errorf("get_task of a removed task: %s", msg)
	}
	f.ok("remove_task", map[string]any{"task": argv.ID, "force": true}, &removed)
}

// TestWaitReadSend covers start_task with wait_for, read_output with new
// (and tail, grep, raw), send_input and wait_task with for.
func TestWaitReadSend(t *testing.T) {
	f := newFixture(t)
	var w wwait
	f.ok("start_task", map[string]any{
		"command":  `echo 'ready on port 4242'; while read l; do echo "got $l"; done`,
		"name":     "repl",
		"wait_for": `ready on port (\d+)`, "timeout_s": 20,
	}, &w)
	if !w.Matched || w.Line == nil || *w.Line != "ready on port 4242" || !slices.Equal(w.Groups, []string{"4242"}) || w.Task.State != "running" {
		t.Fatalf("start_task wait_for: %+v", w)
	}

	var logs wlogs
	f.ok("read_output", map[string]any{"task": "repl", "new": true}, &logs)
	if !slices.Equal(logs.Lines, []string{"ready on port 4242"}) || !strings.HasPrefix(logs.Reader, "mcp-") {
		t.Fatalf("read_output new: %+v", logs)
	}
	f.ok("read_output", map[string]any{"task": "repl", "new": true}, &logs)
	if len(logs.Lines) != 0 {
		t.Fatalf("read_output new again: %+v", logs)
	}

	var sent struct {
		Sent bool
		Task wtask
	}
	f.ok("send_input", map[string]any{"task": "repl", "text": "hello"}, &sent)
	if !sent.Sent || sent.Task.ID != w.Task.ID {
		t.Fatalf("send_input: %+v", sent)
	}
	f.ok("wait_task", map[string]any{"task": "repl", "for": "^got hello$", "timeout_s": 20}, &w)
	if !w.Matched || *w.Line != "got hello" {
		t.Fatalf("wait_task for: %+v", w)
	}
	f.ok("read_output", map[string]any{"task": "repl", "new": true}, &logs)
	if !slices.Contains(logs.Lines, "got hello") || slices.Contains(logs.Lines, "ready on port 4242") {
		t.Fatalf("read_output new after send: %+v", logs)
	}

	f.ok("read_output", map[string]any{"task": "repl", "tail": 1}, &logs)
	if !slices.Equal(logs.Lines, []string{"got hello"}) {
		t.Fatalf("read_output tail=1: %+v", logs)
	}
	f.ok("read_output", map[string]any{"task": "repl", "grep": "^ready"}, &logs)
	if !slices.Equal(logs.Lines, []string{"ready on port 4242"}) {
		t.Fatalf("read_output grep: %+v", logs)
	}
	f.ok("read_output", map[string]any{"task": "repl", "raw": true, "head": 1}, &logs)
	if len(logs.Lines) != 1 || !strings.HasPrefix(logs.Lines[0], "ready on port 4242") {
		t.Fatalf("read_output raw head=1: %+v", logs)
	}
	// A named reader is shared: the session's own cursor is unaffected.
	f.ok("read_output", map[string]any{"task": "repl", "new": true, "reader": "shared", "head": 1}, &logs)
	if logs.Reader != "shared" || !slices.Equal(logs.Lines, []string{"ready on port 4242"}) || !logs.More {
		t.Fatalf("read_output reader=shared head=1: %+v", logs)
	}

	// C-c interrupts the loop: the run ends, which wait_task reports.
	f.ok("send_input", map[string]any{"task": "repl", "key": "C-c"}, nil)
	f.ok("wait_task", map[string]any{"task": "repl", "timeout_s": 20}, &w)
	if !w.Ended || w.ExitStatus == nil || *w.ExitStatus != 130 || w.Task.State != "killed" {
		t.Fatalf("wait_task after C-c: %+v", w)
	}
	if msg := f.fail("send_input", map[string]any{"task": "repl", "text": "more"}); !strings.Contains(msg, "conflict") {
		t.Errorf("send_input to a finished task: %s", msg)
	}
}

// TestWaitOutcomes covers a run's end, a timeout and an early exit.
func TestWaitOutcomes(t *testing.T) {
	f := newFixture(t)
	var w wwait
	f.ok("start_task", map[string]any{"command": "sleep 0.2; echo done; exit 3", "name": "quick"}, nil)
	f.ok("wait_task", map[string]any{"task": "quick"}, &w)
	if !w.Ended || w.ExitStatus == nil || *w.ExitStatus != 3 || w.Task.State != "exited" || *w.Task.ExitCode != 3 {
		t.Fatalf("wait_task until the end: %+v", w)
	}
	// An exit with code 3 is reported, and it is not a failure of wait.
	res := f.call("wait_task", map[string]any{"task": "quick", "for": "done"})
	if res.IsError {
		t.Fatalf("wait for a line printed before the end: %s", text(res))
	}
	res = f.call("wait_task", map[string]any{"task": "quick", "for": "never printed"})
	if !res.IsError || !strings.Contains(text(res), "before any line matched") {
		t.Fatalf("wait for a line of an ended run: %s", text(res))
	}
	decode(t, res.StructuredContent, &w)
	if !w.Ended || *w.ExitStatus != 3 {
		t.Fatalf("early end: %+v", w)
	}

	f.ok("start_task", map[string]any{"command": "sleep 300", "name": "slow"}, nil)
	res = f.call("wait_task", map[string]any{"task": "slow", "for": "never", "timeout_s": 0.2})
	if !res.IsError || !strings.Contains(text(res), "Call wait_task again") {
		t.Fatalf("timeout: %s", text(res))
	}
	decode(t, res.StructuredContent, &w)
	if !w.Timeout || w.Task.State != "running" {
		t.Fatalf("timeout result: %+v", w)
	}

	// start_task's wait_for: a run that ends first gives the tail.
	res = f.call("start_task", map[string]any{"command": "echo oops; exit 2", "name": "bad", "wait_for": "ready", "timeout_s": 20})
	if !res.IsError {
		t.Fatalf("start_task wait_for on a failing command: %s", text(res))
	}
	decode(t, res.StructuredContent, &w)
	if !w.Ended || *w.ExitStatus != 2 || !slices.Contains(w.Tail, "oops") || w.Task.Name != "bad" {
		t.Fatalf("start_task wait_for early exit: %+v", w)
	}
	if ev := f.note(w.Task.ID, 10*time.Second); ev.ExitCode == nil || *ev.ExitCode != 2 {
		t.Fatalf("notification: %+v", ev)
	}
}

// TestRestart covers restart_task and the notifications of both runs.
func TestRestart(t *testing.T) {
	f := newFixture(t)
	var tk wtask
	f.ok("start_task", map[string]any{"command": "echo run; sleep 300", "name": "srv"}, &tk)
	f.ok("restart_task", map[string]any{"task": "srv"}, &tk)
	if tk.Runs != 2 || tk.State != "running" || len(tk.History) != 1 || tk.History[0].Signal == nil {
		t.Fatalf("restart_task: %+v", tk)
	}
	ev := f.note(tk.ID, 10*time.Second)
	if ev.Run != 1 || ev.State != "killed" {
		t.Fatalf("notification of run 1: %+v", ev)
	}
	f.ok("stop_task", map[string]any{"task": "srv", "signal": "KILL"}, &tk)
	ev = f.note(tk.ID, 10*time.Second)
	if ev.Run != 2 || ev.Signal == nil || *ev.Signal != "SIGKILL" {
		t.Fatalf("notification of run 2: %+v", ev)
	}
}

// TestReadersPerSession checks that read_output new keeps one cursor per
// session: two clients each see all the output.
func TestReadersPerSession(t *testing.T) {
	f := newFixture(t)
	other := f.connect()
	f.ok("start_task", map[string]any{"command": "echo one; echo two; sleep 300", "name": "t", "wait_for": "two"}, nil)
	var a, b wlogs
	f.ok("read_output", map[string]any{"task": "t", "new": true}, &a)
	decode(t, f.callOn(other, "read_output", map[string]any{"task": "t", "new": true}).StructuredContent, &b)
	if !slices.Equal(a.Lines, []string{"one", "two"}) || !slices.Equal(b.Lines, a.Lines) || a.Reader == b.Reader {
		t.Fatalf("two sessions: %+v / %+v", a, b)
	}
}

// TestCancel checks that a long wait_task ends when the client cancels it
// and when the server closes, and that the server goes on serving. The
// wait is known to be in progress once its first progress notification
// arrives.
func TestCancel(t *testing.T) {
	f := newFixture(t)
	f.ok("start_task", map[string]any{"command": "sleep 300", "name": "s"}, nil)
	wait := func(ctx context.Context, token string) <-chan *sdk.CallToolResult {
		out := make(chan *sdk.CallToolResult, 1)
		params := &sdk.CallToolParams{Name: "wait_task", Arguments: map[string]any{"task": "s", "timeout_s": 0}}
		params.SetProgressToken(token)
		go func() {
			res, err := f.cs.CallTool(ctx, params)
			if err != nil {
				res = nil
			}
			out <- res
		}()
		deadline := time.After(15 * time.Second)
		for {
			select {
			case p := <-f.progress:
				if p.ProgressToken == token {
					if !strings.Contains(p.Message, "waited") {
						t.Errorf("progress message %q", p.Message)
					}
					return out
				}
			case <-deadline:
				t.Fatalf("no progress notification for the wait %s", token)
			}
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := wait(ctx, "first")
	cancel()
	select {
	case res := <-done:
		if res != nil {
			t.Fatalf("a cancelled call returned a result: %s", text(res))
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("a cancelled wait_task did not return")
	}
	f.ok("get_task", map[string]any{"task": "s"}, nil)

	done = wait(context.Background(), "second")
	f.srv.Close()
	select {
	case res := <-done:
		if res == nil || !res.IsError || !strings.Contains(text(res), "cancelled") {
			t.Fatalf("wait_task on a closed server: %v", res)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("wait_task did not end when the server closed")
	}
}

// TestPanicIsAnError checks that a panic in a tool is an isError result
// and the server keeps serving.
func TestPanicIsAnError(t *testing.T) {
	f := newFixture(t)
	broken := New(f.m, &Options{Log: f.log})
	defer broken.Close()
	broken.m = nil // every tool now panics on its Manager
	ct, st := sdk.NewInMemoryTransports()
	if _, err := broken.Connect(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "t", Version: "1"}, nil).Connect(context.Background(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	for range 2 {
		res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: "get_task", Arguments: map[string]any{"task": "x"}})
		if err != nil {
			t.Fatalf("protocol error: %v", err)
		}
		if !res.IsError || !strings.Contains(text(res), "internal error") {
			t.Fatalf("panic result: %s", text(res))
		}
	}
	if _, err := cs.ListTools(context.Background(), nil); err != nil {
		t.Fatalf("the server stopped serving: %v", err)
	}
	if !strings.Contains(f.log.String(), "internal error") {
		t.Errorf("the panic was not logged on the server's log: %q", f.log.String())
	}
}

// TestResultText checks the text content: a summary, then the JSON.
func TestResultText(t *testing.T) {
	f := newFixture(t)
	res := f.ok("list_tasks", nil, nil)
	txt := text(res)
	summary, doc, ok := strings.Cut(txt, "\n\n")
	if !ok || !strings.HasPrefix(summary, "No tasks in group work") || !json.Valid([]byte(doc)) {
		t.Fatalf("list_tasks text: %q", txt)
	}
}
