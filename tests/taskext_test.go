package tests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawMCP is `bgmux mcp` driven with hand-written JSON-RPC lines of
// protocol 2026-07-28 (no initialize: each request carries its _meta).
type rawMCP struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *lockedBuffer
	nextID int

	mu      sync.Mutex
	replies map[string]map[string]json.RawMessage // by id
	done    chan struct{}                         // closed when stdout ends
}

// rawConnect starts `bgmux mcp` in e's world; it is killed at the end of
// the test if still running.
func rawConnect(t *testing.T, e *env) *rawMCP {
	t.Helper()
	c := &rawMCP{t: t, stderr: &lockedBuffer{}, replies: map[string]map[string]json.RawMessage{}, done: make(chan struct{})}
	c.cmd = exec.Command(bgmuxBin, "mcp")
	c.cmd.Dir, c.cmd.Env, c.cmd.Stderr = e.Dir, e.Environ(), c.stderr
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var msg map[string]json.RawMessage
			if err := json.Unmarshal(sc.Bytes(), &msg); err != nil {
				t.Errorf("bgmux mcp wrote a line that is not JSON: %q", sc.Text())
				continue
			}
			if id, ok := msg["id"]; ok && msg["method"] == nil {
				c.mu.Lock()
				c.replies[string(id)] = msg
				c.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		c.stop()
		if t.Failed() {
			t.Logf("bgmux mcp stderr:\n%s", c.stderr.String())
		}
	})
	return c
}

// stop closes stdin and waits for the server to exit (killing it after
// 10 s).
func (c *rawMCP) stop() {
	if c.cmd.ProcessState != nil {
		return
	}
	c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
	}
	c.cmd.Wait()
}

// meta is the _meta of a 2026-07-28 request; withTasks declares the
// Tasks extension.
func meta(withTasks bool) map[string]any {
	caps := map[string]any{}
	if withTasks {
		caps["extensions"] = map[string]any{"io.modelcontextprotocol/tasks": map[string]any{}}
	}
	return map[string]any{
		"io.modelcontextprotocol/protocolVersion":    "2026-07-28",
		"io.modelcontextprotocol/clientInfo":         map[string]any{"name": "bgmux-e2e", "version": "1"},
		"io.modelcontextprotocol/clientCapabilities": caps,
	}
}

// request sends method with params (plus _meta) and returns the reply's
// result, failing the test on an error reply or none within 30 s.
func (c *rawMCP) request(method string, params map[string]any, withTasks bool) map[string]json.RawMessage {
	c.t.Helper()
	reply := c.requestReply(method, params, withTasks)
	if reply["error"] != nil {
		c.t.Fatalf("%s %v: error reply %s", method, params, reply["error"])
	}
	var res map[string]json.RawMessage
	if err := json.Unmarshal(reply["result"], &res); err != nil {
		c.t.Fatalf("%s: result %s: %v", method, reply["result"], err)
	}
	return res
}

// requestReply sends a request and returns the whole reply.
func (c *rawMCP) requestReply(method string, params map[string]any, withTasks bool) map[string]json.RawMessage {
	c.t.Helper()
	c.nextID++
	id := c.nextID
	p := map[string]any{"_meta": meta(withTasks)}
	for k, v := range params {
		p[k] = v
	}
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": p})
	if _, err := c.stdin.Write(append(b, '\n')); err != nil {
		c.t.Fatalf("write %s: %v", method, err)
	}
	var reply map[string]json.RawMessage
	if !poll(30*time.Second, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		reply = c.replies[fmt.Sprint(id)]
		return reply != nil
	}) {
		c.t.Fatalf("no reply to %s %s within 30s", method, b)
	}
	return reply
}

// handle is a task handle or a tasks/get answer.
type handle struct {
	ResultType     string          `json:"resultType"`
	TaskID         string          `json:"taskId"`
	Status         string          `json:"status"`
	StatusMessage  string          `json:"statusMessage"`
	CreatedAt      string          `json:"createdAt"`
	LastUpdatedAt  string          `json:"lastUpdatedAt"`
	TTLMs          int64           `json:"ttlMs"`
	PollIntervalMs int64           `json:"pollIntervalMs"`
	Result         json.RawMessage `json:"result"`
}

// toolResult is a CallToolResult.
type toolResult struct {
	ResultType string `json:"resultType"`
	Content    []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
	StructuredContent map[string]any `json:"structuredContent"`
	IsError           bool           `json:"isError"`
}

func decode[T any](t *testing.T, what string, raw any) T {
	t.Helper()
	var b []byte
	switch r := raw.(type) {
	case json.RawMessage:
		b = r
	default:
		b, _ = json.Marshal(r)
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v: %s", what, err, b)
	}
	return v
}

// callTool makes a tools/call and decodes its result as a handle.
func (c *rawMCP) callTool(name string, args map[string]any, withTasks bool) (handle, map[string]json.RawMessage) {
	c.t.Helper()
	res := c.request("tools/call", map[string]any{"name": name, "arguments": args}, withTasks)
	return decode[handle](c.t, name, res), res
}

// pollHandle polls tasks/get for id until its status is not working.
func (c *rawMCP) pollHandle(id string, timeout time.Duration) handle {
	c.t.Helper()
	var h handle
	if !poll(timeout, func() bool {
		h = decode[handle](c.t, "tasks/get", c.request("tasks/get", map[string]any{"taskId": id}, true))
		return h.Status != "working"
	}) {
		c.t.Fatalf("handle %s still working after %v: %+v", id, timeout, h)
	}
	return h
}

// TestTasksExtBackgroundWait: a wait_task that declares the Tasks
// extension is answered at once with a task handle, tasks/get answers
// working and then completed with exactly the CallToolResult of the
// blocking call; a call without the extension blocks as before; the
// server lists the extension in server/discover.
func TestTasksExtBackgroundWait(t *testing.T) {
	e := newEnv(t)
	c := rawConnect(t, e)
	disc := c.request("server/discover", nil, true)
	caps := decode[struct {
		Extensions map[string]any `json:"extensions"`
	}](t, "capabilities", disc["capabilities"])
	if _, ok := caps.Extensions["io.modelcontextprotocol/tasks"]; !ok {
		t.Errorf("server/discover does not list the tasks extension: %s", disc["capabilities"])
	}

	ready := "ready-" + randHex(4)
	tk := e.start("--name", "slow", "--", "sh", "-c", "echo begin; sleep 5; echo "+ready+"; sleep 30")
	begun := time.Now()
	h, _ := c.callTool("wait_task", map[string]any{"task": tk.ID, "for": ready}, true)
	if h.ResultType != "task" || h.Status != "working" || h.TaskID == "" || h.TTLMs <= 0 || h.PollIntervalMs <= 0 || h.CreatedAt == "" {
		t.Fatalf("wait_task with the extension: want a task handle, got %+v", h)
	}
	if took := time.Since(begun); took > 4*time.Second {
		t.Errorf("the handle took %v: the call must not wait for the line", took)
	}
	if !strings.Contains(h.StatusMessage, tk.ID) {
		t.Errorf("statusMessage %q does not name the task", h.StatusMessage)
	}
	if g := decode[handle](t, "tasks/get", c.request("tasks/get", map[string]any{"taskId": h.TaskID}, true)); g.Status != "working" {
		t.Errorf("tasks/get before the line: %+v, want working", g)
	}
	done := c.pollHandle(h.TaskID, 20*time.Second)
	if done.Status != "completed" || done.ResultType != "complete" {
		t.Fatalf("tasks/get after the line: %+v, want completed", done)
	}
	bg := decode[toolResult](t, "result", done.Result)

	// The same wait without the extension: a blocking call, whose result
	// is the handle's.
	_, raw := c.callTool("wait_task", map[string]any{"task": tk.ID, "for": ready}, false)
	if string(raw["resultType"]) == `"task"` {
		t.Fatalf("wait_task without the extension was answered with a handle: %v", raw)
	}
	fg := decode[toolResult](t, "blocking result", raw)
	for _, r := range []toolResult{bg, fg} {
		if r.IsError || len(r.Content) != 1 || !strings.Contains(r.Content[0].Text, ready) || r.StructuredContent["matched"] != true {
			t.Fatalf("wait result: want matched with the line %q in the text, got %+v", ready, r)
		}
	}
	strip := func(r toolResult) string {
		return elapsed.ReplaceAllString(r.Content[0].Text, "")
	}
	if strip(bg) != strip(fg) {
		t.Errorf("the handle's result differs from the blocking call's:\nhandle:   %s\nblocking: %s", bg.Content[0].Text, fg.Content[0].Text)
	}

	// Unknown ids.
	for _, id := range []string{"bgw-000000000000000000000000", "nope"} {
		reply := c.requestReply("tasks/get", map[string]any{"taskId": id}, true)
		var rpcErr struct {
			Code int `json:"code"`
		}
		json.Unmarshal(reply["error"], &rpcErr)
		if rpcErr.Code != -32602 {
			t.Errorf("tasks/get of unknown id %q: want error -32602, got %v", id, reply)
		}
	}
}

// TestTasksExtSurvivesRestart: a handle still answers after the server
// was restarted between the handle and the poll: the new server runs the
// wait again and completes the handle with the run's exit.
func TestTasksExtSurvivesRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := rawConnect(t, e)
	tk := e.start("--name", "exits", "--", "sh", "-c", "echo working; sleep 6; echo giving-up; exit 3")
	h, _ := c.callTool("wait_task", map[string]any{"task": tk.ID}, true)
	if h.ResultType != "task" {
		t.Fatalf("want a handle, got %+v", h)
	}
	c.stop()
	if g := e.status(tk.ID); g.State != "running" {
		t.Fatalf("the task is %s before the poll; make it slower", g.State)
	}
	c2 := rawConnect(t, e)
	done := c2.pollHandle(h.TaskID, 30*time.Second)
	if done.Status != "completed" {
		t.Fatalf("after a restart: %+v, want completed", done)
	}
	r := decode[toolResult](t, "result", done.Result)
	text := r.Content[0].Text
	if r.StructuredContent["ended"] != true || fmt.Sprint(r.StructuredContent["exit_status"]) != "3" ||
		!strings.Contains(text, "exit status 3") || !strings.Contains(text, "tmux -L") {
		t.Fatalf("after a restart: want the run's end (exit status 3, the attach command) in the text, got %s", text)
	}
	// Polled again, the handle keeps its result (it is on disk).
	c2.stop()
	c3 := rawConnect(t, e)
	again := c3.pollHandle(h.TaskID, 10*time.Second)
	if string(again.Result) != string(done.Result) {
		t.Errorf("a completed handle changed: %s, then %s", done.Result, again.Result)
	}
}

// TestTasksExtCancel: tasks/cancel ends the wait, never the task; the
// handle is then cancelled; start_task with wait_for gets a handle too,
// or its result inline when the line comes at once.
func TestTasksExtCancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := rawConnect(t, e)
	h, _ := c.callTool("start_task", map[string]any{"command": "echo up; sleep 300", "name": "long", "wait_for": "never-printed", "timeout_s": 0}, true)
	if h.ResultType != "task" || h.Status != "working" {
		t.Fatalf("start_task with wait_for and the extension: want a handle, got %+v", h)
	}
	tk := e.waitState("long", 20*time.Second, func(tk task) bool { return tk.State == "running" })
	res := c.request("tasks/cancel", map[string]any{"taskId": h.TaskID}, true)
	if string(res["resultType"]) != `"complete"` {
		t.Errorf("tasks/cancel: %v, want resultType complete", res)
	}
	g := decode[handle](t, "tasks/get", c.request("tasks/get", map[string]any{"taskId": h.TaskID}, true))
	if g.Status != "cancelled" {
		t.Errorf("tasks/get after cancel: %+v, want cancelled", g)
	}
	if st := e.status(tk.ID); st.State != "running" {
		t.Errorf("cancelling the wait ended the task: %s", st.State)
	}
	files, _ := filepath.Glob(filepath.Join(e.State, "mcp-tasks", "*"))
	if len(files) != 1 {
		t.Errorf("want the one handle's file in the state dir, got %v", files)
	}
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, fi.Mode().Perm())
		}
	}

	// start_task with wait_for: the handle completes with the start's
	// summary and the matched line.
	h2, _ := c.callTool("start_task", map[string]any{"command": "sleep 4; echo ready now; sleep 300", "name": "later", "wait_for": "ready (now)"}, true)
	if h2.ResultType != "task" {
		t.Fatalf("start_task whose line comes after 4s: want a handle, got %+v", h2)
	}
	done := c.pollHandle(h2.TaskID, 20*time.Second)
	r := decode[toolResult](t, "result", done.Result)
	if done.Status != "completed" || r.IsError || !strings.HasPrefix(r.Content[0].Text, "Started later (") || r.StructuredContent["matched"] != true {
		t.Fatalf("start_task's handle: %+v, result %+v", done, r)
	}

	// A wait over at once is answered inline, as the blocking call.
	_, raw := c.callTool("start_task", map[string]any{"command": "echo ready now; sleep 300", "name": "quick", "wait_for": "ready (now)"}, true)
	inline := decode[toolResult](t, "inline result", raw)
	if inline.ResultType != "complete" || inline.IsError || len(inline.Content) != 1 || !strings.HasPrefix(inline.Content[0].Text, "Started quick (") || inline.StructuredContent["matched"] != true {
		t.Fatalf("start_task whose line comes at once: want its result inline, got %s", mustMarshal(raw))
	}
	files, _ = filepath.Glob(filepath.Join(e.State, "mcp-tasks", "*"))
	if len(files) != 2 {
		t.Errorf("want the files of the two handles given out, got %v", files)
	}
}

func mustMarshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// elapsed matches the wait's duration in a wait result's text.
var elapsed = regexp.MustCompile(`after [0-9.]+s|"elapsed":[0-9.]+`)
