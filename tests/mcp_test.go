//lint:file-ignore SA1019 the tests receive bgmux's exit notifications, which use MCP logging (deprecated by protocol 2026-07-28, still what clients surface).

package tests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// mcpClient is an MCP client session with a `bgmux mcp` subprocess,
// started through the SDK's CommandTransport in e's world.
type mcpClient struct {
	t     *testing.T
	cs    *mcp.ClientSession
	tools map[string]*mcp.Tool
	// notes receives the server's log notifications.
	notes  chan *mcp.LoggingMessageParams
	stderr *lockedBuffer
}

// lockedBuffer collects a subprocess's stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// mcpConnect starts `bgmux mcp` in e's world and lists its tools.
func mcpConnect(t *testing.T, e *env) *mcpClient {
	t.Helper()
	return mcpConnectWith(t, e, "bgmux-e2e", nil)
}

// mcpConnectWith is mcpConnect for a client named name that also hands
// every progress notification to progress (when not nil).
func mcpConnectWith(t *testing.T, e *env, name string, progress func(*mcp.ProgressNotificationParams)) *mcpClient {
	t.Helper()
	c := &mcpClient{t: t, notes: make(chan *mcp.LoggingMessageParams, 100), stderr: &lockedBuffer{}, tools: map[string]*mcp.Tool{}}
	cmd := exec.Command(bgmuxBin, "mcp")
	cmd.Dir, cmd.Env, cmd.Stderr = e.Dir, e.Environ(), c.stderr
	opts := &mcp.ClientOptions{
		LoggingMessageHandler: func(_ context.Context, req *mcp.LoggingMessageRequest) {
			select {
			case c.notes <- req.Params:
			default:
			}
		},
	}
	if progress != nil {
		opts.ProgressNotificationHandler = func(_ context.Context, req *mcp.ProgressNotificationClientRequest) { progress(req.Params) }
	}
	client := mcp.NewClient(&mcp.Implementation{Name: name, Version: "1"}, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 5 * time.Second}, nil)
	if err != nil {
		t.Fatalf("connect to bgmux mcp: %v\nstderr: %s", err, c.stderr.String())
	}
	c.cs = cs
	t.Cleanup(func() {
		cs.Close()
		if t.Failed() {
			t.Logf("bgmux mcp stderr:\n%s", c.stderr.String())
		}
	})
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	for _, tool := range res.Tools {
		c.tools[tool.Name] = tool
	}
	return c
}

// call calls a tool and checks that the result is usable by any client:
// every content is a text string, a successful result has structured
// content, and structured content is valid against the tool's declared
// output schema and repeated as the JSON document ending the text.
func (c *mcpClient) call(name string, args map[string]any) *mcp.CallToolResult {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := c.cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		c.t.Fatalf("%s %v: protocol error: %v", name, args, err)
	}
	if len(res.Content) == 0 {
		c.t.Fatalf("%s: a result without content", name)
	}
	for _, ct := range res.Content {
		if _, ok := ct.(*mcp.TextContent); !ok {
			c.t.Fatalf("%s: content %T is not text", name, ct)
		}
	}
	if res.StructuredContent == nil {
		if !res.IsError {
			c.t.Fatalf("%s: a successful result without structured content: %s", name, mcpText(res))
		}
		return res
	}
	tool := c.tools[name]
	if tool == nil || tool.OutputSchema == nil {
		c.t.Fatalf("%s: structured content without a declared output schema", name)
	}
	var schema jsonschema.Schema
	mcpDecode(c.t, tool.OutputSchema, &schema)
	resolved, err := schema.Resolve(nil)
	if err != nil {
		c.t.Fatalf("%s: the output schema does not resolve: %v", name, err)
	}
	var inst any
	mcpDecode(c.t, res.StructuredContent, &inst)
	if err := resolved.Validate(inst); err != nil {
		c.t.Fatalf("%s: structured content does not match the output schema: %v\n%s", name, err, mcpJSON(res.StructuredContent))
	}
	txt := mcpText(res)
	i := strings.LastIndex(txt, "\n\n")
	var fromText any
	if i < 0 || json.Unmarshal([]byte(txt[i+2:]), &fromText) != nil {
		c.t.Fatalf("%s: the text does not end with the JSON document: %q", name, txt)
	}
	if mcpJSON(fromText) != mcpJSON(inst) {
		c.t.Fatalf("%s: the JSON in the text differs from the structured content", name)
	}
	return res
}

// ok calls a tool that must succeed and decodes its structured content.
func (c *mcpClient) ok(name string, args map[string]any, out any) *mcp.CallToolResult {
	c.t.Helper()
	res := c.call(name, args)
	if res.IsError {
		c.t.Fatalf("%s %v: isError: %s", name, args, mcpText(res))
	}
	if out != nil {
		mcpDecode(c.t, res.StructuredContent, out)
	}
	return res
}

// fail calls a tool that must give an isError result; it returns the text.
func (c *mcpClient) fail(name string, args map[string]any) string {
	c.t.Helper()
	res := c.call(name, args)
	if !res.IsError {
		c.t.Fatalf("%s %v: want isError, got: %s", name, args, mcpText(res))
	}
	return mcpText(res)
}

// note waits for the exit notification about task id.
func (c *mcpClient) note(id string, timeout time.Duration) map[string]any {
	c.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case n := <-c.notes:
			var ev map[string]any
			mcpDecode(c.t, n.Data, &ev)
			if ev["id"] == id && ev["event"] == "task_ended" {
				return ev
			}
		case <-deadline:
			c.t.Fatalf("no exit notification about %s within %v", id, timeout)
		}
	}
}

func mcpText(res *mcp.CallToolResult) string {
	var parts []string
	for _, ct := range res.Content {
		if tc, ok := ct.(*mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

func mcpDecode(t testing.TB, v, out any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

func mcpJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// mcpWait is the wait result, decoded.
type mcpWait struct {
	Matched    bool     `json:"matched"`
	Ended      bool     `json:"ended"`
	ExitStatus *int     `json:"exit_status"`
	Line       *string  `json:"line"`
	Groups     []string `json:"groups"`
	Task       task     `json:"task"`
}

// mcpLogs is read_output's result, decoded.
type mcpLogs struct {
	Lines []string `json:"lines"`
}

// TestMCPEchoServer is the user's scenario through `bgmux mcp`: start the
// echo server with wait_for, look at it at once, read its output, talk to
// it, read only the new output, stop it, see its recorded exit, and get
// the exit notification.
func TestMCPEchoServer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	src, err := os.ReadFile(filepath.Join("testdata", "echo_server.py"))
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(e.Dir, "echo_server.py")
	if err := os.WriteFile(script, src, 0o644); err != nil {
		t.Fatal(err)
	}
	c := mcpConnect(t, e)
	for _, name := range []string{"start_task", "get_task", "list_tasks", "read_output", "wait_task", "send_input", "stop_task", "restart_task", "remove_task"} {
		tool := c.tools[name]
		if tool == nil || tool.InputSchema == nil || tool.OutputSchema == nil || tool.Description == "" {
			t.Fatalf("tool %s is missing, or lacks a description or a schema: %+v", name, tool)
		}
	}

	var w mcpWait
	c.ok("start_task", map[string]any{
		"command": []string{"python3", script}, "name": "echo_server",
		"wait_for": `Server running on port (\d+)`, "timeout_s": 20,
	}, &w)
	if !w.Matched || len(w.Groups) != 1 || w.Task.State != "running" {
		t.Fatalf("start_task wait_for: %+v", w)
	}
	port := w.Groups[0]

	var tk task
	c.ok("get_task", map[string]any{"task": "echo_server"}, &tk)
	if tk.State != "running" || tk.PID == nil || !pidAlive(*tk.PID) || tk.ID != w.Task.ID {
		t.Fatalf("get_task at once: %+v", tk)
	}

	var logs mcpLogs
	c.ok("read_output", map[string]any{"task": "echo_server", "new": true}, &logs)
	if !slices.Contains(logs.Lines, "Server running on port "+port) {
		t.Fatalf("read_output new: %+v", logs)
	}

	msg := "hello-mcp-" + randHex(8)
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Post("http://127.0.0.1:"+port+"/", "text/plain", strings.NewReader(msg))
	if err != nil {
		t.Fatalf("POST to the echo server on port %s: %v", port, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), msg) {
		t.Fatalf("POST: status %d, body %q", resp.StatusCode, body)
	}

	// read_output new shows the message, and nothing it showed before.
	var seen []string
	if !poll(20*time.Second, func() bool {
		c.ok("read_output", map[string]any{"task": "echo_server", "new": true}, &logs)
		seen = append(seen, logs.Lines...)
		return slices.Contains(seen, msg)
	}) {
		t.Fatalf("read_output new never showed %q; got %q", msg, seen)
	}
	if slices.Contains(seen, "Server running on port "+port) {
		t.Fatalf("read_output new repeated output already read: %q", seen)
	}

	var stopped task
	c.ok("stop_task", map[string]any{"task": "echo_server"}, &stopped)
	if stopped.State != "killed" && stopped.State != "exited" || stopped.Signal == nil && stopped.ExitCode == nil {
		t.Fatalf("stop_task: %+v", stopped)
	}
	c.ok("get_task", map[string]any{"task": tk.ID}, &tk)
	if tk.State != stopped.State || mcpJSON(tk.Signal) != mcpJSON(stopped.Signal) || mcpJSON(tk.ExitCode) != mcpJSON(stopped.ExitCode) {
		t.Fatalf("get_task after stop: %+v, stop_task said %+v", tk, stopped)
	}
	ev := c.note(tk.ID, 10*time.Second)
	if ev["state"] != tk.State || mcpJSON(ev["signal"]) != mcpJSON(tk.Signal) || !strings.Contains(fmt.Sprint(ev["message"]), tk.ID) {
		t.Fatalf("exit notification %v does not match the task %+v", ev, tk)
	}

	// wait_task's result has the fields of bgmux wait --json, and one
	// more: hint, the summary (some clients show only structured content).
	cli := map[string]any{}
	edgeOneJSON(t, "wait --json", e.run("wait", "--json", tk.ID).Out, &cli)
	res := c.ok("wait_task", map[string]any{"task": tk.ID}, nil)
	var viaMCP map[string]any
	mcpDecode(t, res.StructuredContent, &viaMCP)
	mcpHint(t, "wait_task", viaMCP)
	if a, b := mcpKeys(cli), mcpKeys(viaMCP); a != b {
		t.Fatalf("wait_task fields %s, bgmux wait --json fields %s", b, a)
	}
	// get_task's result is bgmux status --json.
	var status map[string]any
	edgeOneJSON(t, "status --json", e.must("status", "--json", tk.ID), &status)
	var got map[string]any
	mcpDecode(t, c.ok("get_task", map[string]any{"task": tk.ID}, nil).StructuredContent, &got)
	mcpHint(t, "get_task", got)
	if mcpJSON(got) != mcpJSON(status) {
		t.Fatalf("get_task %s\nstatus --json %s", mcpJSON(got), mcpJSON(status))
	}
}

// mcpHint checks the one field a tool's structured result adds to the
// CLI's --json document, hint (a non-empty summary), and removes it.
func mcpHint(t *testing.T, tool string, m map[string]any) {
	t.Helper()
	if h, ok := m["hint"].(string); !ok || h == "" {
		t.Fatalf("%s: the structured result has no hint: %v", tool, m)
	}
	delete(m, "hint")
}

func mcpKeys(m map[string]any) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

// TestMCPMalformedArguments checks that wrong types, a missing task and a
// negative timeout are isError results, and that the server serves the
// next call after each.
func TestMCPMalformedArguments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := mcpConnect(t, e)
	c.ok("start_task", map[string]any{"command": "sleep 300", "name": "s"}, nil)
	for _, bad := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"get_task", map[string]any{"task": 42}, "invalid arguments for get_task"},
		{"get_task", map[string]any{"task": []string{"s"}}, "invalid arguments for get_task"},
		{"read_output", map[string]any{"task": "s", "new": "yes"}, "new"},
		{"start_task", map[string]any{"command": map[string]any{"x": 1}}, "command"},
		{"get_task", map[string]any{}, "missing required arguments"},
		{"stop_task", nil, "missing required arguments"},
		{"wait_task", map[string]any{"task": "s", "timeout_s": -5}, "timeout_s must be 0 or more"},
		{"stop_task", map[string]any{"task": "s", "grace_s": -1}, "grace_s must be 0 or more"},
		{"get_task", map[string]any{"task": "no-such-task"}, "list_tasks"},
		{"wait_task", map[string]any{"task": "s", "for": "[unclosed"}, "not a valid regular expression"},
	} {
		if msg := c.fail(bad.tool, bad.args); !strings.Contains(msg, bad.want) {
			t.Errorf("%s %v: %q does not say %q", bad.tool, bad.args, msg, bad.want)
		}
		var tk task
		c.ok("get_task", map[string]any{"task": "s"}, &tk)
		if tk.State != "running" {
			t.Fatalf("after a bad call: %+v", tk)
		}
	}
	// A timeout is an isError result too, and the task goes on.
	res := c.call("wait_task", map[string]any{"task": "s", "for": "never", "timeout_s": 0.3})
	if !res.IsError {
		t.Fatalf("a timed-out wait is not an error result: %s", mcpText(res))
	}
	if e.status("s").State != "running" {
		t.Fatalf("the task did not survive a timed-out wait")
	}
}

// TestMCPTwoServersAndCLI checks that two MCP servers and the CLI, used at
// the same time on the same state dir, see the same tasks.
func TestMCPTwoServersAndCLI(t *testing.T) {
	e := newEnv(t)
	a, b := mcpConnect(t, e), mcpConnect(t, e)
	var wg sync.WaitGroup
	errs := make(chan string, 20)
	for i := 1; i <= 3; i++ {
		wg.Add(3)
		for _, who := range []struct {
			prefix string
			c      *mcpClient
		}{{"a", a}, {"b", b}} {
			go func() {
				defer wg.Done()
				res, err := who.c.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "start_task",
					Arguments: map[string]any{"command": "sleep 300", "name": fmt.Sprintf("%s%d", who.prefix, i)}})
				if err != nil || res.IsError {
					errs <- fmt.Sprintf("%s%d: %v %v", who.prefix, i, err, res)
				}
			}()
		}
		go func() {
			defer wg.Done()
			if r := e.run("start", "--name", fmt.Sprintf("c%d", i), "--", "sleep 300"); r.Code != 0 {
				errs <- fmt.Sprintf("c%d: %s", i, r.Err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Errorf("concurrent start: %s", msg)
	}
	if t.Failed() {
		t.FailNow()
	}

	want := "a1,a2,a3,b1,b2,b3,c1,c2,c3"
	names := func(ts []task) string {
		var n []string
		for _, tk := range ts {
			n = append(n, tk.Name)
		}
		sort.Strings(n)
		return strings.Join(n, ",")
	}
	for _, c := range []*mcpClient{a, b} {
		var list struct{ Tasks []task }
		c.ok("list_tasks", nil, &list)
		if got := names(list.Tasks); got != want {
			t.Fatalf("list_tasks: %s, want %s", got, want)
		}
	}
	var cliList []task
	edgeOneJSON(t, "list --json", e.must("list", "--json"), &cliList)
	if got := names(cliList); got != want {
		t.Fatalf("bgmux list: %s, want %s", got, want)
	}

	// One stops what the other started; everyone sees the exit.
	var tk task
	a.ok("stop_task", map[string]any{"task": "b1"}, &tk)
	if tk.State != "killed" {
		t.Fatalf("stop_task b1 via a: %+v", tk)
	}
	b.ok("get_task", map[string]any{"task": "b1"}, &tk)
	if tk.State != "killed" || e.status("b1").State != "killed" {
		t.Fatalf("b1 after a stopped it: %+v", tk)
	}
	b.note(tk.ID, 10*time.Second) // b started it: b is told it ended
	b.ok("get_task", map[string]any{"task": "c2"}, &tk)
	if tk.State != "running" {
		t.Fatalf("c2 via b: %+v", tk)
	}
	e.must("rm", "--force", "c1")
	a.fail("get_task", map[string]any{"task": "c1"})
	b.ok("remove_task", map[string]any{"task": "a3", "force": true}, nil)
	if r := e.run("status", "a3"); r.Code != 2 {
		t.Fatalf("status of a task removed via MCP: exit %d\n%s", r.Code, r.Out)
	}
}

// TestMCPStdoutIsProtocolOnly drives `bgmux mcp` with raw JSON-RPC lines:
// every line it writes on stdout is a JSON-RPC message, whatever the
// tasks print, and it exits 0 when stdin closes.
func TestMCPStdoutIsProtocolOnly(t *testing.T) {
	e := newEnv(t)
	cmd := exec.Command(bgmuxBin, "mcp")
	cmd.Dir, cmd.Env = e.Dir, e.Environ()
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := false
	t.Cleanup(func() {
		if !exited {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	send := func(msg string) {
		if _, err := io.WriteString(stdin, msg+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	// notes collects the log notifications seen on the way.
	var notes []map[string]any
	// reply reads stdout until the response with id (or, with id 0, a log
	// notification), checking each line.
	reply := func(id int) map[string]any {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("stdout closed before reply %d; stderr: %s", id, stderr.String())
				}
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil || m["jsonrpc"] != "2.0" {
					t.Fatalf("stdout line is not a JSON-RPC message: %q", l)
				}
				if m["method"] == "notifications/message" {
					notes = append(notes, m)
					if id == 0 {
						return m
					}
				}
				if id != 0 && m["id"] == float64(id) {
					return m
				}
			case <-deadline:
				t.Fatalf("no reply %d; stderr: %s", id, stderr.String())
			}
		}
	}
	send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	reply(1)
	send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"start_task","arguments":{"command":"echo on-the-task-terminal; echo >&2 on-stderr; exit 4","name":"noisy","wait_for":"on-the-task"}}}`)
	if r := reply(2); r["result"] == nil {
		t.Fatalf("start_task: %v", r)
	}
	send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_task","arguments":{"task":["not","a","string"]}}}`)
	r := reply(3)
	if res, _ := r["result"].(map[string]any); res == nil || res["isError"] != true {
		t.Fatalf("malformed arguments: %v", r)
	}
	send(`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"get_task","arguments":"noisy"}}`)
	r = reply(5)
	if res, _ := r["result"].(map[string]any); res == nil || res["isError"] != true {
		t.Fatalf("arguments that are not an object: %v", r)
	}
	send(`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"wait_task","arguments":{"task":"noisy"}}}`)
	r = reply(4)
	if sc, _ := r["result"].(map[string]any)["structuredContent"].(map[string]any); sc == nil || sc["exit_status"] != float64(4) {
		t.Fatalf("wait_task: %v", r)
	}
	// The exit notification, with the 2025-06-18 protocol the clients use.
	for len(notes) == 0 {
		reply(0)
	}
	if p, _ := notes[0]["params"].(map[string]any); p == nil || p["logger"] != "bgmux" || !strings.Contains(mcpJSON(p["data"]), `"message":"noisy (bg-`) {
		t.Fatalf("exit notification: %v", notes[0])
	}
	stdin.Close()
	for l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil || m["jsonrpc"] != "2.0" {
			t.Fatalf("stdout line is not a JSON-RPC message: %q", l)
		}
	}
	exited = true
	if err := cmd.Wait(); err != nil {
		t.Fatalf("bgmux mcp after stdin closed: %v; stderr: %s", err, stderr.String())
	}
	if r := e.run("mcp", "extra"); r.Code != 2 {
		t.Fatalf("bgmux mcp extra: exit %d, want 2", r.Code)
	}
}
