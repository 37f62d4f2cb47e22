//go:build clients

package clients

import (
	"encoding/json"
	"strings"
	"testing"
)

// checkRun checks a finished plan run: the plan did not give up, the
// client exited 0 and printed the model's last text, and the last
// request of the agent's own conversation holds one result per step,
// none of them a failure. It returns those results, logging each as the
// model saw it.
func checkRun(t *testing.T, c client, plan *Plan, m *ModelServer, run clientRun) []ToolResult {
	t.Helper()
	if f := plan.Failure(); f != "" {
		t.Errorf("the scripted model gave up: %s", f)
	}
	if run.Err != nil {
		t.Errorf("%s: %v\nstderr (tail): %s", c.Name, run.Err, tail(run.Stderr, 3000))
	} else if !strings.Contains(run.Stdout, plan.Done) {
		t.Errorf("%s's output does not carry the model's last text %q:\n%s", c.Name, plan.Done, tail(run.Stdout, 3000))
	}
	var last *Request
	for _, r := range m.Requests() {
		if c.Main(r) && (last == nil || len(r.Results()) >= len(last.Results())) {
			last = r
		}
	}
	if last == nil {
		t.Fatalf("the model server never got a request from %s's agent loop", c.Name)
	}
	results := last.Results()
	if len(results) != len(plan.Steps) {
		t.Fatalf("%d tool results reached the model, want %d (one per step):%s", len(results), len(plan.Steps), describeResults(results))
	}
	for _, res := range results {
		if c.Failed(res) {
			t.Errorf("%s result is an error: %s", res.Call.Name, res.Text)
		}
		t.Logf("%s result as the model saw it:\n%s", res.Call.Name, tail(res.Text, 1500))
	}
	return results
}

// checkMCP checks the MCP traffic the tap saw: every line a JSON-RPC
// message (mcpLog), no JSON-RPC error from the server, every request
// (initialize or server/discover, tools/list...) answered or, for a
// subscriptions/listen stream, acknowledged, and wantCalls tools/call
// requests. It logs the protocol each side spoke.
func checkMCP(t *testing.T, c client, msgs []mcpMessage, wantCalls int) {
	t.Helper()
	calls := 0
	for _, msg := range msgs {
		// No error from the server, also not one to a notification
		// (OpenCode cancels every call once answered).
		if msg.Dir == "server" && msg.Error != nil {
			t.Errorf("the server sent an error: %s", msg.Raw)
		}
		if msg.Dir != "client" || msg.ID == nil {
			continue
		}
		if msg.Method == "subscriptions/listen" {
			// A stream (protocol 2026-07-28): acknowledged by a
			// notification, open until the client goes.
			if !mcpAcknowledged(msgs, msg) {
				t.Errorf("the server never acknowledged %s", msg.Raw)
			}
			continue
		}
		reply, ok := mcpReply(msgs, msg)
		switch {
		case !ok:
			t.Errorf("the server never answered %s", msg.Raw)
		case reply.Error != nil:
			t.Errorf("the server answered %s with an error: %s", msg.Raw, reply.Raw)
		}
		switch msg.Method {
		case "initialize":
			var p, r struct {
				ProtocolVersion string          `json:"protocolVersion"`
				Capabilities    json.RawMessage `json:"capabilities"`
				ClientInfo      json.RawMessage `json:"clientInfo"`
			}
			json.Unmarshal(msg.Params, &p)
			json.Unmarshal(reply.Result, &r)
			t.Logf("MCP initialize: %s asked for protocol %s (client %s, capabilities %s); the server answered %s",
				c.Name, p.ProtocolVersion, p.ClientInfo, p.Capabilities, r.ProtocolVersion)
			if r.ProtocolVersion == "" {
				t.Errorf("initialize reply without a protocolVersion: %s", reply.Raw)
			}
		case "server/discover":
			var p struct {
				Meta map[string]json.RawMessage `json:"_meta"`
			}
			var r struct {
				SupportedVersions []string `json:"supportedVersions"`
			}
			json.Unmarshal(msg.Params, &p)
			json.Unmarshal(reply.Result, &r)
			t.Logf("MCP server/discover: %s speaks protocol %s (client %s, capabilities %s); the server supports %v",
				c.Name, p.Meta["io.modelcontextprotocol/protocolVersion"], p.Meta["io.modelcontextprotocol/clientInfo"],
				p.Meta["io.modelcontextprotocol/clientCapabilities"], r.SupportedVersions)
		case "tools/call":
			calls++
		}
	}
	if calls != wantCalls {
		t.Errorf("%s made %d tools/call requests, want %d (one per bgmux step)", c.Name, calls, wantCalls)
	}
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
