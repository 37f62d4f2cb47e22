//lint:file-ignore SA1019 the tests receive the exit notifications, which use MCP logging (see notify.go).

package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bgmux/bgmux/internal/testbin"
	"github.com/bgmux/bgmux/tasks"
)

// bgmuxExe is the bgmux binary the tasks' windows run as supervisor,
// built once by TestMain.
var bgmuxExe string

func TestMain(m *testing.M) {
	testbin.Main(m, "mcp tests", &bgmuxExe, "tmux")
}

func randHex(n int) string { return testbin.RandHex(n) }

// fixture is one test's world: a private tmux socket and state dir, a
// Server over a tasks.Manager, and a client session connected to it in
// memory.
type fixture struct {
	t      *testing.T
	socket string
	state  string
	work   string
	m      *tasks.Manager
	srv    *Server
	cs     *sdk.ClientSession
	// notes receives the log notifications the client gets.
	notes chan *sdk.LoggingMessageParams
	// progress receives the progress notifications the client gets.
	progress chan *sdk.ProgressNotificationParams
	tools    map[string]*sdk.Tool
	sessions []*sdk.ClientSession
	log      *syncBuffer
}

// syncBuffer is the server's diagnostics log, written from several
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	root := t.TempDir()
	f := &fixture{
		t:      t,
		socket: "bgmux-test-" + randHex(6),
		state:  filepath.Join(root, "state"),
		work:   filepath.Join(root, "work"),
		notes:  make(chan *sdk.LoggingMessageParams, 100),
		// progress is drained by the tests that use it.
		progress: make(chan *sdk.ProgressNotificationParams, 1000),
		log:      &syncBuffer{},
	}
	if err := os.MkdirAll(f.work, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BGMUX_SOCKET", f.socket)
	t.Setenv("BGMUX_STATE_DIR", f.state)
	t.Setenv("TMUX", "")
	m, err := tasks.NewManager(tasks.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	m.Exe, m.Cwd = bgmuxExe, f.work
	f.m = m
	f.srv = New(m, &Options{Version: "test", Log: f.log, ExitPoll: 50 * time.Millisecond})
	t.Cleanup(f.cleanup)
	f.cs = f.connect()
	f.tools = map[string]*sdk.Tool{}
	res, err := f.cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range res.Tools {
		f.tools[tool.Name] = tool
	}
	return f
}

// connect opens another client session on the fixture's server; its log
// notifications go to f.notes.
func (f *fixture) connect() *sdk.ClientSession {
	f.t.Helper()
	ct, st := sdk.NewInMemoryTransports()
	if _, err := f.srv.Connect(context.Background(), st); err != nil {
		f.t.Fatal(err)
	}
	client := sdk.NewClient(&sdk.Implementation{Name: "bgmux-test", Version: "1"}, &sdk.ClientOptions{
		LoggingMessageHandler: func(_ context.Context, req *sdk.LoggingMessageRequest) {
			select {
			case f.notes <- req.Params:
			default:
			}
		},
		ProgressNotificationHandler: func(_ context.Context, req *sdk.ProgressNotificationClientRequest) {
			select {
			case f.progress <- req.Params:
			default:
			}
		},
	})
	cs, err := client.Connect(context.Background(), ct, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	f.sessions = append(f.sessions, cs)
	return cs
}

// cleanup ends the server, the tasks and the tmux server.
func (f *fixture) cleanup() {
	// Closing the server first ends waits in progress, which a client
	// session's Close would otherwise wait for.
	f.srv.Close()
	for _, cs := range f.sessions {
		cs.Close()
	}
	exec.Command("tmux", "-L", f.socket, "kill-server").Run()
	os.Remove(filepath.Join(os.TempDir(), fmt.Sprintf("tmux-%d", os.Getuid()), f.socket))
	testbin.Reap(f.state)
	if f.t.Failed() {
		f.t.Logf("server log:\n%s", f.log.String())
	}
}

// poll checks cond with a short backoff until it holds or timeout passes.
func poll(timeout time.Duration, cond func() bool) bool { return testbin.Poll(timeout, cond) }

// call calls a tool on the fixture's session and checks the result's
// shape (see checkResult).
func (f *fixture) call(name string, args map[string]any) *sdk.CallToolResult {
	f.t.Helper()
	return f.callOn(f.cs, name, args)
}

func (f *fixture) callOn(cs *sdk.ClientSession, name string, args map[string]any) *sdk.CallToolResult {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		f.t.Fatalf("%s %v: protocol error %v (tool failures must be isError results)", name, args, err)
	}
	checkResult(f.t, f.tools[name], res)
	return res
}

// ok calls a tool that must succeed and decodes its structured content
// into out (when out is not nil).
func (f *fixture) ok(name string, args map[string]any, out any) *sdk.CallToolResult {
	f.t.Helper()
	res := f.call(name, args)
	if res.IsError {
		f.t.Fatalf("%s %v: isError: %s", name, args, text(res))
	}
	if out != nil {
		decode(f.t, res.StructuredContent, out)
	}
	return res
}

// fail calls a tool that must give an isError result and returns its
// text.
func (f *fixture) fail(name string, args map[string]any) string {
	f.t.Helper()
	res := f.call(name, args)
	if !res.IsError {
		f.t.Fatalf("%s %v: want an isError result, got: %s", name, args, text(res))
	}
	return text(res)
}

// checkResult fails t unless res is what any client can use: every
// content is text (a string), and the structured content, when present,
// is valid against the tool's output schema and is the JSON document
// that ends the text. A result that is not an error has structured
// content.
func checkResult(t testing.TB, tool *sdk.Tool, res *sdk.CallToolResult) {
	t.Helper()
	if len(res.Content) == 0 {
		t.Fatalf("result without content")
	}
	for _, c := range res.Content {
		if _, ok := c.(*sdk.TextContent); !ok {
			t.Fatalf("content %T is not text", c)
		}
	}
	if res.StructuredContent == nil {
		if !res.IsError {
			t.Fatalf("a successful result without structured content: %s", text(res))
		}
		return
	}
	if tool == nil || tool.OutputSchema == nil {
		t.Fatalf("structured content from a tool without an output schema")
	}
	validate(t, tool.OutputSchema, res.StructuredContent)
	txt := text(res)
	i := strings.LastIndex(txt, "\n\n")
	if i < 0 {
		t.Fatalf("text has no JSON document after a summary: %q", txt)
	}
	var fromText, structured any
	if err := json.Unmarshal([]byte(txt[i+2:]), &fromText); err != nil {
		t.Fatalf("the text does not end with a JSON document: %v\n%s", err, txt)
	}
	decode(t, res.StructuredContent, &structured)
	a, _ := json.Marshal(fromText)
	b, _ := json.Marshal(structured)
	if !bytes.Equal(a, b) {
		t.Fatalf("the JSON in the text differs from the structured content:\n%s\n%s", a, b)
	}
}

// validate checks v against a JSON schema given as decoded JSON.
func validate(t testing.TB, schema, v any) {
	t.Helper()
	var s jsonschema.Schema
	decode(t, schema, &s)
	rs, err := s.Resolve(nil)
	if err != nil {
		t.Fatalf("output schema does not resolve: %v", err)
	}
	var inst any
	decode(t, v, &inst)
	if err := rs.Validate(inst); err != nil {
		b, _ := json.Marshal(v)
		t.Fatalf("structured content does not match the output schema: %v\n%s", err, b)
	}
}

// decode re-marshals v into out.
func decode(t testing.TB, v, out any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// text joins a result's text contents.
func text(res *sdk.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// note waits for a log notification about task id.
func (f *fixture) note(id string, timeout time.Duration) *ExitEvent {
	f.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case n := <-f.notes:
			var ev ExitEvent
			decode(f.t, n.Data, &ev)
			if ev.ID == id {
				if n.Logger != "bgmux" {
					f.t.Fatalf("notification logger %q, want bgmux", n.Logger)
				}
				return &ev
			}
		case <-deadline:
			f.t.Fatalf("no notification about %s within %v", id, timeout)
		}
	}
}

// wtask is the task object, decoded.
type wtask struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Group    string   `json:"group"`
	State    string   `json:"state"`
	ExitCode *int     `json:"exit_code"`
	Signal   *string  `json:"signal"`
	PID      *int     `json:"pid"`
	Command  *string  `json:"command"`
	Argv     []string `json:"argv"`
	Tags     []string `json:"tags"`
	Runs     int      `json:"runs"`
	History  []struct {
		Run    int     `json:"run"`
		Signal *string `json:"signal"`
	} `json:"history"`
	Tmux struct {
		Attach string `json:"attach"`
	} `json:"tmux"`
}

// wwait is the wait result, decoded.
type wwait struct {
	Matched    bool     `json:"matched"`
	Timeout    bool     `json:"timeout"`
	Ended      bool     `json:"ended"`
	ExitStatus *int     `json:"exit_status"`
	Line       *string  `json:"line"`
	Groups     []string `json:"groups"`
	Tail       []string `json:"tail"`
	Task       wtask    `json:"task"`
}

// wlogs is read_output's result, decoded.
type wlogs struct {
	ID        string   `json:"id"`
	Lines     []string `json:"lines"`
	Reader    string   `json:"reader"`
	More      bool     `json:"more"`
	EndOffset int64    `json:"end_offset"`
}
