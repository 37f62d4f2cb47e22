//go:build clients

package clients

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
)

// Turn is one assistant turn the script answers with: text, tool calls,
// or both. A turn without calls ends the agent's loop.
type Turn struct {
	Text  string
	Calls []ToolCall
}

// ToolCall is a tool call, as the model makes it or as the client sends
// it back in the conversation.
type ToolCall struct {
	ID    string
	Name  string
	Input map[string]any
}

// ToolResult is what the client fed back to the model for one call: the
// call it answers (matched by id), the text the model sees, and whether
// the client marked it an error.
type ToolResult struct {
	Call    ToolCall
	Text    string
	IsError bool
	Raw     json.RawMessage // the result's content as sent
}

// Message is one message of the conversation in a request, in a form
// common to both APIs.
type Message struct {
	Role    string // "system", "user", "assistant" or "tool"
	Text    string
	Calls   []ToolCall
	Results []ToolResult
}

// Request is one request a client sent to the model server, decoded.
type Request struct {
	API      string // "anthropic" or "openai"
	Path     string
	Model    string
	Stream   bool
	System   string
	Tools    []string // the names of the tools offered to the model
	Messages []Message
	Body     json.RawMessage
}

// HasTool reports whether the request offers the model the tool name.
func (r *Request) HasTool(name string) bool {
	for _, t := range r.Tools {
		if t == name {
			return true
		}
	}
	return false
}

// Results lists every tool result in the conversation, in order.
func (r *Request) Results() []ToolResult {
	var out []ToolResult
	for _, m := range r.Messages {
		out = append(out, m.Results...)
	}
	return out
}

// FirstUserText is the text of the first user message: the prompt.
func (r *Request) FirstUserText() string {
	for _, m := range r.Messages {
		if m.Role == "user" {
			return m.Text
		}
	}
	return ""
}

// Script decides the model's next turn from the conversation so far. It
// is called for every request, including a client's side requests (a
// title, a summary): tell them apart by r.Tools or r.System.
type Script func(r *Request) Turn

// ModelServer is a scripted LLM on 127.0.0.1 speaking the Anthropic
// Messages API (POST /v1/messages) and the OpenAI chat completions API
// (POST /v1/chat/completions), streaming (SSE) or not. It records every
// request and appends each, with its answer, to a log file.
type ModelServer struct {
	URL    string // http://127.0.0.1:PORT, without /v1
	srv    *httptest.Server
	script Script
	log    *os.File
	t      testing.TB

	mu       sync.Mutex
	requests []*Request
	answers  []Turn // answers[i] answered requests[i] (once written)
	calls    int    // tool call ids handed out
}

// newModelServer starts a model server answering with script; it is
// closed at the end of the test. Every request and answer is appended
// to logPath.
func newModelServer(t testing.TB, logPath string, script Script) *ModelServer {
	t.Helper()
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	m := &ModelServer{script: script, log: f, t: t}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	m.URL = m.srv.URL
	t.Cleanup(func() {
		m.srv.Close()
		f.Close()
	})
	return m
}

// LastAnswer is the turn the server last answered with, if it has
// answered any.
func (m *ModelServer) LastAnswer() (Turn, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.answers) == 0 {
		return Turn{}, false
	}
	return m.answers[len(m.answers)-1], true
}

// Requests returns the requests received so far.
func (m *ModelServer) Requests() []*Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*Request(nil), m.requests...)
}

func (m *ModelServer) logf(format string, args ...any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintf(m.log, format, args...)
}

func (m *ModelServer) nextCallID(prefix string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	return fmt.Sprintf("%s%04d", prefix, m.calls)
}

func (m *ModelServer) serve(w http.ResponseWriter, hr *http.Request) {
	body, _ := io.ReadAll(hr.Body)
	m.logf("=== %s %s\n%s\n", hr.Method, hr.URL.Path, body)
	path := strings.TrimSuffix(hr.URL.Path, "/")
	var (
		req *Request
		err error
	)
	switch {
	case hr.Method == http.MethodPost && strings.HasSuffix(path, "/messages/count_tokens"):
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"input_tokens":100}`)
		return
	case hr.Method == http.MethodPost && strings.HasSuffix(path, "/messages"):
		req, err = decodeAnthropic(body)
	case hr.Method == http.MethodPost && strings.HasSuffix(path, "/chat/completions"):
		req, err = decodeOpenAI(body)
	default:
		m.logf("--- 404\n")
		http.NotFound(w, hr)
		return
	}
	if err != nil {
		m.logf("--- 400 %v\n", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req.Path = hr.URL.Path
	req.Body = body
	m.mu.Lock()
	m.requests = append(m.requests, req)
	m.mu.Unlock()

	turn := m.script(req)
	for i := range turn.Calls {
		if turn.Calls[i].ID == "" {
			prefix := "call_"
			if req.API == "anthropic" {
				prefix = "toolu_"
			}
			turn.Calls[i].ID = m.nextCallID(prefix)
		}
		if turn.Calls[i].Input == nil {
			turn.Calls[i].Input = map[string]any{}
		}
	}
	answer, _ := json.Marshal(turn)
	m.logf("--- answer %s\n", answer)
	if req.API == "anthropic" {
		writeAnthropic(w, req, turn, m.nextCallID("msg_"))
	} else {
		writeOpenAI(w, req, turn, m.nextCallID("chatcmpl-"))
	}
	m.mu.Lock()
	m.answers = append(m.answers, turn)
	m.mu.Unlock()
}
