// Package mcp serves bgmux's tasks to AI agents as Model Context Protocol
// tools (start_task, get_task, list_tasks, read_output, wait_task,
// send_input, stop_task, restart_task, remove_task), on top of the same
// tasks.Manager the command line uses. Every result carries a text
// content (a short summary and the JSON document) and the same document
// as structured content, matching the CLI's --json output; failures are
// tool results with isError set, never protocol errors.
package mcp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bgmux/bgmux/tasks"
)

// Options configures a Server.
type Options struct {
	// Version is the bgmux version reported to clients.
	Version string
	// Log receives diagnostics; nil means os.Stderr. It must not be the
	// transport's output: stdout carries protocol messages only.
	Log io.Writer
	// ExitPoll is how often the exits of watched tasks are looked for;
	// 0 means 250ms.
	ExitPoll time.Duration
}

// Server is bgmux's MCP server. It is safe for concurrent use: the SDK
// runs tool calls concurrently, and each call works on its own copy of
// the Manager.
type Server struct {
	m       *tasks.Manager
	srv     *sdk.Server
	log     io.Writer
	schemas map[string]*jsonschema.Schema // input schema by tool name

	// ctx lives until Close: it ends waits in progress and the exit
	// watcher.
	ctx    context.Context
	cancel context.CancelFunc
	watch  *watcher
	ext    *taskExt // the Tasks extension, served by the stdio transport

	mu      sync.Mutex
	readers map[*sdk.ServerSession]string
}

// instructions tell the client's model what the server is for.
const instructions = `bgmux runs commands in the background, each in its own tmux window, with exact exit codes and complete output kept on disk.
The tools are named here as the server names them; clients prefix them with the server's name: start_task is mcp__bgmux__start_task in Claude Code and bgmux_start_task in OpenCode.
Use start_task for anything long-running (dev servers, watchers, builds, test suites, REPLs) instead of running it in the foreground or with '&'.
Never sleep to wait for a task: pass wait_for to start_task, or call wait_task (for a line of output, or for the end of the run).
Use read_output with new=true to get only the output you have not seen yet. get_task shows the state and exit code.
Every result carries hint: what to know and do next, in words.
A person can watch or type into any task with the command in its tmux.attach field. Tasks outlive this session; a log notification is sent when a task started here ends.`

// New returns a server for m. Close it when done (Run and Serve do).
func New(m *tasks.Manager, opts *Options) *Server {
	if opts == nil {
		opts = &Options{}
	}
	s := &Server{m: m, log: opts.Log, schemas: map[string]*jsonschema.Schema{}, readers: map[*sdk.ServerSession]string{}}
	if s.log == nil {
		s.log = os.Stderr
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	version := opts.Version
	if version == "" {
		version = "dev"
	}
	s.srv = sdk.NewServer(&sdk.Implementation{Name: "bgmux", Title: "bgmux background tasks", Version: version}, &sdk.ServerOptions{
		Instructions: instructions,
		Capabilities: capabilities(),
		// The SDK's own diagnostics: warnings and errors, on stderr.
		Logger: slog.New(slog.NewTextHandler(s.log, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	s.srv.AddReceivingMiddleware(s.guard)
	s.addTools()
	s.watch = newWatcher(s, opts.ExitPoll)
	s.ext = newTaskExt(s)
	return s
}

// Connect serves one client over t; the session ends when the client
// disconnects or Close is called.
func (s *Server) Connect(ctx context.Context, t sdk.Transport) (*sdk.ServerSession, error) {
	// Log notifications (a task ended) go out at level info until the
	// client sets a level: the spec leaves the default to the server,
	// and most clients never set one.
	return s.srv.Connect(ctx, t, &sdk.ServerSessionOptions{State: &sdk.ServerSessionState{LogLevel: "info"}})
}

// Run serves one client over t until it disconnects or ctx ends, then
// closes the server.
func (s *Server) Run(ctx context.Context, t sdk.Transport) error {
	defer s.Close()
	ss, err := s.Connect(ctx, t)
	if err != nil {
		return err
	}
	s.ext.setSession(ss)
	done := make(chan error, 1)
	go func() { done <- ss.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		s.Close() // end waits in progress, so the session can close
		ss.Close()
		<-done
		return nil
	}
}

// Close ends waits in progress and stops watching for task exits. Tasks
// keep running. It is safe to call more than once.
func (s *Server) Close() {
	s.cancel()
	s.watch.stop()
	s.ext.wait()
}

// logf writes a diagnostic line on the server's log (stderr).
func (s *Server) logf(format string, args ...any) {
	fmt.Fprintf(s.log, "bgmux mcp: "+format+"\n", args...)
}

// call is one tool call: its request, and the server's Manager, which
// calls share (it keeps no state of its own between operations).
type call struct {
	s   *Server
	m   *tasks.Manager
	ctx context.Context
	req *sdk.CallToolRequest
	// beat sends the call's progress; nil when the client asked for none.
	beat *heartbeat
}

// lasting is a context for an action the agent asked for that must not be
// left half done (a stop in its grace period, a restart, a removal): a
// cancelled call (a client's time limit) does not end it, the server
// closing does.
func (c *call) lasting() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(c.ctx))
	stop := context.AfterFunc(c.s.ctx, cancel)
	return ctx, func() { stop(); cancel() }
}

// handler is a tool's implementation: a reply, or an error that becomes
// an isError result.
type handler[In any] func(c *call, in In) (*reply, error)

// callKey marks a tools/call context; callInfo says whether the tool's
// handler was reached (else the SDK rejected the arguments).
type callKey struct{}

type callInfo struct{ handled bool }

// addTool registers a tool whose arguments the SDK unmarshals into In
// after checking them against tool.InputSchema, and whose structured
// content it checks against tool.OutputSchema.
func addTool[In any](s *Server, tool *sdk.Tool, h handler[In]) {
	s.schemas[tool.Name] = tool.InputSchema.(*jsonschema.Schema)
	if out, ok := tool.OutputSchema.(*jsonschema.Schema); ok {
		addHint(out)
	}
	sdk.AddTool(s.srv, tool, func(ctx context.Context, req *sdk.CallToolRequest, in In) (res *sdk.CallToolResult, out any, _ error) {
		if info, ok := ctx.Value(callKey{}).(*callInfo); ok {
			info.handled = true
		}
		// End the call with the server as well as with the client.
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(s.ctx, cancel)()
		defer func() {
			if r := recover(); r != nil {
				s.logf("%s: internal error: %v\n%s", tool.Name, r, debug.Stack())
				res, out = errorResult(tool.Name, internalError(r)), nil
			}
		}()
		c := &call{s: s, ctx: ctx, req: req, m: s.m}
		stopBeat := startHeartbeat(c, tool.Name)
		defer stopBeat()
		r, err := h(c, in)
		if err != nil {
			return errorResult(tool.Name, err), nil, nil
		}
		return okResult(r), r.hinted(), nil
	})
}

// internalError is the error reported for a panic: the server goes on.
func internalError(r any) error {
	return tasks.Errorf(tasks.KindFailed, "internal error in bgmux (%v); the server is still running: try again, and report it if it repeats", r)
}

// guard wraps every request the server receives: a panic becomes an
// error (an isError result for a tool call) instead of ending the
// server, and arguments the SDK rejected against the tool's input schema
// (wrong types, a missing task, a negative timeout) come back as an
// isError result that says what the tool takes.
func (s *Server) guard(next sdk.MethodHandler) sdk.MethodHandler {
	return func(ctx context.Context, method string, req sdk.Request) (res sdk.Result, err error) {
		var info *callInfo
		tool := ""
		if ctr, ok := req.(*sdk.CallToolRequest); ok && method == "tools/call" {
			info = &callInfo{}
			ctx = context.WithValue(ctx, callKey{}, info)
			if ctr.Params != nil {
				tool = ctr.Params.Name
			}
		}
		defer func() {
			if r := recover(); r != nil {
				s.logf("%s: internal error: %v\n%s", method, r, debug.Stack())
				if info != nil {
					res, err = errorResult(tool, internalError(r)), nil
				} else {
					res, err = nil, fmt.Errorf("bgmux: internal error: %v", r)
				}
			}
		}()
		res, err = next(ctx, method, req)
		if info != nil && !info.handled && err == nil {
			if r, ok := res.(*sdk.CallToolResult); ok && r.IsError {
				res = s.badArguments(tool, r)
			}
		}
		return res, err
	}
}

// badArguments rewrites the SDK's rejection of a call's arguments into an
// error that names the tool's arguments.
func (s *Server) badArguments(tool string, r *sdk.CallToolResult) *sdk.CallToolResult {
	detail := "they do not match its input schema"
	if len(r.Content) > 0 {
		if tc, ok := r.Content[0].(*sdk.TextContent); ok {
			detail = schemaWording(tc.Text)
		}
	}
	return errorResult(tool, tasks.Errorf(tasks.KindInvalid, "invalid arguments for %s: %s; %s takes %s",
		tool, detail, tool, expected(s.schemas[tool])))
}

// schemaWording rewords a jsonschema validation error for a model:
// "validating /properties/tail: minimum: -1/1 is less than 0.000000"
// becomes "tail must be 0 or more, not -1".
func schemaWording(msg string) string {
	msg = strings.TrimPrefix(msg, `validating "arguments": `)
	msg = strings.TrimPrefix(msg, "validating root: ")
	msg = minimumError.ReplaceAllStringFunc(msg, func(m string) string {
		sub := minimumError.FindStringSubmatch(m)
		v := sub[2]
		if r, ok := new(big.Rat).SetString(v); ok {
			v = strings.TrimRight(strings.TrimRight(r.FloatString(3), "0"), ".")
		}
		return sub[1] + " must be 0 or more, not " + v
	})
	msg = propertyPath.ReplaceAllString(msg, "$1: ")
	msg = strings.ReplaceAll(msg, ": type: ", ": ")
	return strings.Replace(msg, "required: missing properties: ", "missing required arguments: ", 1)
}

var (
	propertyPath = regexp.MustCompile(`validating /properties/([A-Za-z_]+): `)
	minimumError = regexp.MustCompile(`validating /properties/([A-Za-z_]+): minimum: (\S+) is less than \S+`)
)

// readerFor is the cursor name read_output uses with new for a session:
// one per session, so two clients never take each other's output.
func (s *Server) readerFor(ss *sdk.ServerSession) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.readers[ss]; ok {
		return r
	}
	b := make([]byte, 4)
	rand.Read(b)
	r := "mcp-" + hex.EncodeToString(b)
	s.readers[ss] = r
	if ss != nil {
		go func() {
			ss.Wait()
			s.mu.Lock()
			delete(s.readers, ss)
			s.mu.Unlock()
		}()
	}
	return r
}
