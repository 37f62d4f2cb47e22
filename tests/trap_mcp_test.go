//lint:file-ignore SA1019 the test receives bgmux's exit notifications, which use MCP logging (deprecated by protocol 2026-07-28, still what clients surface).

package tests

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// trapClient is an MCP client of `bgmux mcp` that records the progress
// notifications it gets, per progress token, and the log notifications.
type trapClient struct {
	*mcpClient
	mu       sync.Mutex
	progress map[any][]string
}

func trapConnect(t *testing.T, e *env) *trapClient {
	t.Helper()
	tc := &trapClient{progress: map[any][]string{}}
	tc.mcpClient = mcpConnectWith(t, e, "bgmux-trap", func(p *mcp.ProgressNotificationParams) {
		tc.mu.Lock()
		defer tc.mu.Unlock()
		tc.progress[p.ProgressToken] = append(tc.progress[p.ProgressToken], p.Message)
	})
	return tc
}

// withToken calls a tool with a progress token and returns the result
// and the progress messages received for it.
func (tc *trapClient) withToken(ctx context.Context, token, name string, args map[string]any) (*mcp.CallToolResult, []string, error) {
	p := &mcp.CallToolParams{Name: name, Arguments: args}
	p.SetProgressToken(token)
	res, err := tc.cs.CallTool(ctx, p)
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return res, append([]string(nil), tc.progress[token]...), err
}

// TestTrapMCPAsClientsUseIt: a stop_task that takes seconds sends progress
// every second (OpenCode cancels a call after 60 s without); a cancelled
// stop does not SIGKILL the task at once; what the text says (its advice
// included) is in the structured result too, as hint (Claude Code shows
// the model only that); the end of a stop the agent asked for is reported
// at level info; the instructions say how clients prefix tool names.
func TestTrapMCPAsClientsUseIt(t *testing.T) {
	e := newEnv(t)
	tc := trapConnect(t, e)
	if ins := tc.cs.InitializeResult().Instructions; !strings.Contains(ins, "mcp__bgmux__start_task") || !strings.Contains(ins, "bgmux_start_task") {
		t.Fatalf("the instructions do not say how clients name the tools:\n%s", ins)
	}
	stubborn := "trap 'echo got TERM' TERM; echo ready; while :; do sleep 0.1; done"
	var started map[string]any
	tc.ok("start_task", map[string]any{"name": "stubborn", "command": stubborn}, &started)
	if h, _ := started["hint"].(string); !strings.Contains(h, "wait_task (not sleep)") {
		t.Fatalf("start_task's structured result has no hint with the advice: %v", started)
	}
	tc.ok("wait_task", map[string]any{"task": "stubborn", "for": "^ready$", "timeout_s": 20}, nil)
	var got map[string]any
	tc.ok("get_task", map[string]any{"task": "stubborn"}, &got)
	if h, _ := got["hint"].(string); !strings.Contains(h, "running") {
		t.Fatalf("get_task's structured result has no hint: %v", got)
	}

	// A stop with a long grace: progress flows while it waits.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	begun := time.Now()
	res, prog, err := tc.withToken(ctx, "stop-1", "stop_task", map[string]any{"task": "stubborn", "grace_s": 3})
	if err != nil || res.IsError {
		t.Fatalf("stop_task: %v %v", err, res)
	}
	if took := time.Since(begun); took < 3*time.Second {
		t.Fatalf("stop_task of a task trapping TERM took %s, under its grace", took)
	}
	if len(prog) < 2 {
		t.Fatalf("stop_task waited 3s and sent %d progress notifications (%q), want one a second", len(prog), prog)
	}
	var stopped map[string]any
	mcpDecode(t, res.StructuredContent, &stopped)
	if stopped["state"] != "killed" || !strings.Contains(stopped["hint"].(string), "Stopped") {
		t.Fatalf("stop_task gave %v", stopped)
	}
	note := func(id string) *mcp.LoggingMessageParams {
		t.Helper()
		deadline := time.After(15 * time.Second)
		for {
			select {
			case n := <-tc.notes:
				if d, ok := n.Data.(map[string]any); ok && d["id"] == id {
					return n
				}
			case <-deadline:
				t.Fatalf("no exit notification for %s", id)
			}
		}
	}
	if n := note(started["id"].(string)); n.Level != "info" {
		t.Fatalf("the end of a stop the agent asked for came at level %q, want info: %v", n.Level, n.Data)
	}

	// A stop whose call is cancelled (a client's time limit) leaves the
	// grace to run: no SIGKILL at once.
	var again map[string]any
	tc.ok("start_task", map[string]any{"name": "stubborn2", "command": stubborn, "wait_for": "^ready$", "timeout_s": 20}, &again)
	cctx, ccancel := context.WithCancel(context.Background())
	go func() {
		poll(10*time.Second, func() bool { return strings.Contains(e.run("logs", "stubborn2").Out, "got TERM") })
		ccancel()
	}()
	tc.withToken(cctx, "stop-2", "stop_task", map[string]any{"task": "stubborn2", "grace_s": 4})
	cancelled := time.Now()
	poll(time.Second, func() bool { return e.status("stubborn2").State != "running" })
	if st := e.status("stubborn2"); st.State != "running" {
		t.Fatalf("a cancelled stop_task (grace 4s) ended the task within a second of the cancel: %+v", st)
	}
	st := e.waitState("stubborn2", 20*time.Second, func(k task) bool { return k.State != "running" })
	if st.State != "killed" || time.Since(cancelled) < 2*time.Second {
		t.Fatalf("after a cancelled stop_task: %+v after %s", st, time.Since(cancelled))
	}
}
