package mcp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bgmux/bgmux/tasks"
)

// The Tasks extension (io.modelcontextprotocol/tasks, protocol
// 2026-07-28), for the waits only: a client that declares it in a call's
// _meta gets a task handle at once for wait_task (and start_task with
// wait_for) instead of a blocking call, polls tasks/get until the wait is
// over, and is then handed the CallToolResult the blocking call returns
// (interactive Claude Code then wakes its model with it). A wait over
// within inlineGrace is answered inline instead, as the blocking call. tasks/cancel
// ends the wait, never the bgmux task. The MCP SDK (v1.8.0) knows neither
// the task result type nor the tasks/* methods, so the stdio transport
// hands these requests here (stdioConn.dispatch) instead of to the SDK;
// drop this file when the SDK serves tasks (go-sdk issue #626).
//
// Handles are durable: each is a JSON file in the state directory's
// mcp-tasks/ (handleRecord), so a restarted server still answers
// tasks/get for them: it runs the same wait again from the stored
// arguments, with what is left of its timeout. A handle expires handleTTL
// after its last change; expired files are removed when a server starts.

// tasksExtension is the extension's identifier, in capabilities and in
// a request's _meta.
const tasksExtension = "io.modelcontextprotocol/tasks"

const (
	// handleTTL is how long a handle is kept after its last change.
	handleTTL = time.Hour
	// handlePoll is the poll interval suggested to clients.
	handlePoll = time.Second
	// inlineGrace is how long a wait may take to be answered inline, as
	// a blocking call is, rather than with a handle: a wait that is over
	// at once (its line already printed, the run already ended) or
	// nearly so is worth no round trip through the client's background
	// tasks (the model would have to end its turn to learn the result).
	inlineGrace = 2 * time.Second
	// handleDir is the directory of the handles, in the state directory.
	handleDir = "mcp-tasks"
)

// Statuses of a handle.
const (
	statusWorking   = "working"
	statusCompleted = "completed"
	statusFailed    = "failed"
	statusCancelled = "cancelled"
)

// capabilities are the server's: logging (the exit notifications), and
// the Tasks extension (tools are added by the SDK).
func capabilities() *sdk.ServerCapabilities {
	//lint:ignore SA1019 the exit notifications are log messages (see notify.go)
	c := &sdk.ServerCapabilities{Logging: &sdk.LoggingCapabilities{}}
	c.AddExtension(tasksExtension, nil)
	return c
}

// taskExt serves the extension for one Server.
type taskExt struct {
	s     *Server
	store *handleStore

	mu      sync.Mutex
	session *sdk.ServerSession            // the client's, once connected
	waits   map[string]context.CancelFunc // waits running here, by handle id
	closing bool                          // set by wait: no new goroutine
	wg      sync.WaitGroup
	schemas map[string]*jsonschema.Resolved
}

func newTaskExt(s *Server) *taskExt {
	x := &taskExt{s: s, store: &handleStore{dir: s.m.Store.Dir + "/" + handleDir, ttl: handleTTL},
		waits: map[string]context.CancelFunc{}, schemas: map[string]*jsonschema.Resolved{}}
	x.store.clean()
	return x
}

// setSession records the client's session: the exit of a task started
// through a handle is reported to it like any other.
func (x *taskExt) setSession(ss *sdk.ServerSession) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.session = ss
}

// wait waits for the handles' waits to end (after the server's context
// ended).
func (x *taskExt) wait() {
	x.mu.Lock()
	x.closing = true
	x.mu.Unlock()
	x.wg.Wait()
}

// replier writes a reply on the transport: a result, or an error.
type replier interface {
	writeResult(id jsonrpc.ID, result any) error
	writeRPCError(id jsonrpc.ID, code int64, text string) error
}

// intercept serves req when it belongs to the extension and reports
// whether it did: tasks/get and tasks/cancel, and a wait's tools/call
// that declares the extension. Everything else goes to the SDK.
func (x *taskExt) intercept(out replier, req *jsonrpc.Request) bool {
	switch req.Method {
	case "tasks/get", "tasks/cancel":
		if !req.ID.IsValid() {
			return true // a notification: nothing to answer
		}
		x.goReply(out, req.ID, func() (any, *jsonrpc.Error) { return x.serve(req) })
		return true
	case "tools/call":
		w := x.backgroundWait(req)
		if w == nil {
			return false
		}
		x.goReply(out, req.ID, func() (any, *jsonrpc.Error) { return x.begin(w) })
		return true
	}
	return false
}

// goReply answers req in a goroutine of its own: a wait's start or a
// poll must not hold up the reading of the next message.
func (x *taskExt) goReply(out replier, id jsonrpc.ID, serve func() (any, *jsonrpc.Error)) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closing {
		return // the server is closing: the session ends unanswered
	}
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		var res any
		var rpcErr *jsonrpc.Error
		func() {
			defer func() {
				if r := recover(); r != nil {
					x.s.logf("tasks extension: internal error: %v\n%s", r, debug.Stack())
					rpcErr = &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: fmt.Sprintf("bgmux: internal error: %v", r)}
				}
			}()
			res, rpcErr = serve()
		}()
		var err error
		if rpcErr != nil {
			err = out.writeRPCError(id, rpcErr.Code, rpcErr.Message)
		} else {
			err = out.writeResult(id, res)
		}
		if err != nil {
			x.s.logf("write: %v", err)
		}
	}()
}

// callRequest is the part of a tools/call's params the extension reads.
type callRequest struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
	Meta      struct {
		Caps *struct {
			Extensions map[string]json.RawMessage `json:"extensions"`
		} `json:"io.modelcontextprotocol/clientCapabilities"`
	} `json:"_meta"`
}

// declares reports whether the call declares the extension.
func (c *callRequest) declares() bool {
	if c.Meta.Caps == nil {
		return false
	}
	v, ok := c.Meta.Caps.Extensions[tasksExtension]
	return ok && string(v) != "null"
}

// backgroundWait is the wait a tools/call asks for when it declares the
// extension and calls wait_task, or start_task with wait_for, with
// arguments its tool takes; else nil, and the SDK serves the call (a
// call with bad arguments gets its error result from there, at once).
func (x *taskExt) backgroundWait(req *jsonrpc.Request) *handleRecord {
	var c callRequest
	if !req.ID.IsValid() || json.Unmarshal(req.Params, &c) != nil || !c.declares() {
		return nil
	}
	switch c.Name {
	case "wait_task", "start_task":
	default:
		return nil
	}
	if !x.validArguments(c.Name, c.Arguments) {
		return nil
	}
	rec := &handleRecord{Tool: c.Name, Arguments: c.Arguments}
	if _, err := rec.waitArgs(); err != nil {
		return nil // start_task without wait_for, or a bad regexp or timeout
	}
	return rec
}

// validArguments checks arguments against tool's input schema, as the
// SDK would.
func (x *taskExt) validArguments(tool string, arguments json.RawMessage) bool {
	x.mu.Lock()
	rs, ok := x.schemas[tool]
	if !ok {
		if sch := x.s.schemas[tool]; sch != nil {
			rs, _ = sch.Resolve(nil)
		}
		x.schemas[tool] = rs
	}
	x.mu.Unlock()
	var v map[string]any
	if rs == nil || json.Unmarshal(arguments, &v) != nil || v == nil {
		return false
	}
	return rs.Validate(v) == nil
}

// call is a tool call made by the extension, ended by ctx.
func (x *taskExt) call(ctx context.Context, rec *handleRecord) *call {
	x.mu.Lock()
	ss := x.session
	x.mu.Unlock()
	req := &sdk.CallToolRequest{Session: ss, Params: &sdk.CallToolParamsRaw{Name: rec.Tool, Arguments: rec.Arguments}}
	return &call{s: x.s, ctx: ctx, req: req, m: x.s.m}
}

// begin starts the wait of a new handle: for start_task it starts the
// task first. A call that fails before the wait (an unknown task, a
// start that failed) is answered with its error result, as the blocking
// call would be; else with the handle, and the wait goes on in the
// background.
func (x *taskExt) begin(rec *handleRecord) (any, *jsonrpc.Error) {
	c := x.call(x.s.ctx, rec)
	w, _ := rec.waitArgs()
	var t *tasks.Task
	var err error
	if rec.Tool == "start_task" {
		var in StartInput
		json.Unmarshal(rec.Arguments, &in)
		var st *startCall
		if st, err = x.s.beginStart(c, in); err == nil {
			t, rec.Started = st.t, st.words
		}
	} else {
		var in WaitInput
		json.Unmarshal(rec.Arguments, &in)
		if err = checkWaitFrom(in, w); err == nil {
			if t, err = c.m.Get(in.Task); err == nil {
				// Where new/since_offset start is settled now, once: a
				// resumed wait looks from the same point.
				rec.From, err = x.s.waitFrom(c, t, in)
			}
		}
	}
	if err != nil {
		return completeCall(errorResult(rec.Tool, err)), nil
	}
	now := time.Now().UTC()
	rec.ID, rec.Task, rec.Status = newHandleID(), t.ID, statusWorking
	rec.CreatedAt, rec.UpdatedAt = now, now
	rec.StatusMessage = waitingWords(t, w)
	if err := x.store.save(rec); err != nil {
		x.s.logf("tasks extension: %v", err)
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "bgmux: cannot keep the wait's handle: " + err.Error()}
	}
	h := rec.status(x.store.ttl)
	h.ResultType = "task"
	x.mu.Lock()
	done := x.run(rec)
	x.mu.Unlock()
	select {
	case res, ok := <-done:
		if ok {
			// Over within the grace: answered inline, no handle.
			x.store.remove(rec.ID)
			var inline map[string]json.RawMessage
			if json.Unmarshal(res, &inline) == nil {
				inline["resultType"] = json.RawMessage(`"complete"`)
				return inline, nil
			}
		}
	case <-time.After(inlineGrace):
	}
	return h, nil
}

// run runs rec's wait in the background, unless it runs already. The
// channel it returns gets the result once the wait is over, or is closed
// without one when the wait does not run or is cancelled. The caller
// holds x.mu.
func (x *taskExt) run(rec *handleRecord) <-chan json.RawMessage {
	done := make(chan json.RawMessage, 1)
	if _, ok := x.waits[rec.ID]; ok || x.closing || x.s.ctx.Err() != nil {
		close(done)
		return done
	}
	ctx, cancel := context.WithCancel(x.s.ctx)
	x.waits[rec.ID] = cancel
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		defer cancel()
		defer close(done)
		res := x.result(ctx, rec)
		x.mu.Lock()
		defer x.mu.Unlock()
		delete(x.waits, rec.ID)
		if ctx.Err() != nil {
			// Cancelled (tasks/cancel recorded it) or the server is
			// closing: a later server resumes the wait.
			return
		}
		rec2 := *rec
		rec2.Status, rec2.UpdatedAt, rec2.Result = statusCompleted, time.Now().UTC(), res
		rec2.StatusMessage = "The wait is over."
		if err := x.store.save(&rec2); err != nil {
			x.s.logf("tasks extension: %v", err)
		}
		done <- res
	}()
	return done
}

// result runs rec's wait to its end: the CallToolResult, as JSON, that
// the blocking call would return now, with what is left of the wait's
// timeout.
func (x *taskExt) result(ctx context.Context, rec *handleRecord) (out json.RawMessage) {
	defer func() {
		if r := recover(); r != nil {
			x.s.logf("%s: internal error: %v\n%s", rec.Tool, r, debug.Stack())
			out = mustJSON(errorResult(rec.Tool, internalError(r)))
		}
	}()
	c := x.call(ctx, rec)
	w, err := rec.waitArgs()
	var t *tasks.Task
	if err == nil {
		t, err = c.m.Get(rec.Task)
	}
	var r *reply
	if err == nil {
		timeout := w.timeout
		if timeout > 0 {
			timeout = max(timeout-time.Since(rec.CreatedAt), time.Millisecond)
		}
		if rec.Tool == "start_task" {
			r, err = (&startCall{t: t, words: rec.Started, w: w}).wait(c, timeout)
		} else {
			r, err = w.wait(c, t, timeout)
		}
	}
	if err != nil {
		return mustJSON(errorResult(rec.Tool, err))
	}
	res := okResult(r)
	res.StructuredContent = r.hinted()
	return mustJSON(res)
}

// serve answers tasks/get and tasks/cancel.
func (x *taskExt) serve(req *jsonrpc.Request) (any, *jsonrpc.Error) {
	var p struct {
		TaskID string `json:"taskId"`
	}
	if json.Unmarshal(req.Params, &p) != nil || p.TaskID == "" {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: req.Method + " needs params.taskId, the taskId of a handle from tools/call"}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	rec, err := x.store.load(p.TaskID)
	if err != nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("unknown taskId %q: %v", p.TaskID, err)}
	}
	if req.Method == "tasks/cancel" {
		if rec.Status == statusWorking {
			if cancel := x.waits[rec.ID]; cancel != nil {
				cancel()
			}
			rec.Status, rec.UpdatedAt = statusCancelled, time.Now().UTC()
			rec.StatusMessage = "The wait was cancelled; the bgmux task " + rec.Task + " goes on."
			if err := x.store.save(rec); err != nil {
				return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "bgmux: " + err.Error()}
			}
		}
		return struct {
			ResultType string `json:"resultType"`
		}{"complete"}, nil
	}
	if rec.Status == statusWorking {
		x.run(rec) // a wait left by an earlier server runs again
	}
	return rec.status(x.store.ttl), nil
}

// completeCall is a tools/call result the extension answers itself.
func completeCall(res *sdk.CallToolResult) any {
	return struct {
		ResultType string `json:"resultType"`
		*sdk.CallToolResult
	}{"complete", res}
}

// waitingWords is a handle's status while its wait runs.
func waitingWords(t *tasks.Task, w *waitArgs) string {
	who := t.Name + " (" + t.ID + ")"
	limit := "no time limit"
	if w.timeout > 0 {
		limit = "up to " + w.timeout.String()
	}
	if w.re != nil {
		return fmt.Sprintf("Waiting for %s to print a line matching /%s/ (%s).", who, w.pattern, limit)
	}
	return fmt.Sprintf("Waiting for the run of %s to end (%s).", who, limit)
}

// newHandleID is a fresh, unguessable handle id.
func newHandleID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "bgw-" + hex.EncodeToString(b)
}

// mustJSON is v as JSON; the results encoded here always encode.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(errorResult("", tasks.Errorf(tasks.KindFailed, "cannot encode the result: %v", err)))
	}
	return b
}
