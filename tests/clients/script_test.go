//go:build clients

package clients

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
)

// bgmuxTools are the tools `bgmux mcp` serves.
var bgmuxTools = []string{"start_task", "get_task", "list_tasks", "read_output", "wait_task", "send_input", "stop_task", "restart_task", "remove_task"}

// client is what a scenario needs to know of a client: how it names the
// tools the model calls, and how it shows a bgmux tool result to the model.
type client struct {
	Name string
	// Tool is the name the model calls bgmux tool tool by.
	Tool func(tool string) string
	// Shell is a call of the client's own shell tool running command.
	Shell func(command string) ToolCall
	// Prelude are calls the model must make before it can call the
	// bgmux tools (Claude Code: ToolSearch, to load their schemas).
	Prelude func(tools ...string) []ToolCall
	// Main tells the agent's own requests from side requests (a title).
	Main func(r *Request) bool
	// Run runs the client headless on prompt in w against m.
	Run func(w *world, m *ModelServer, prompt string, timeout time.Duration) clientRun
	// Doc decodes the JSON document of a successful bgmux tool result
	// as the client showed it to the model, failing unless it is
	// exactly what the client is known to show.
	Doc func(res ToolResult) (map[string]any, error)
}

// claudeCode is Claude Code: bgmux tools are mcp__bgmux__<tool> with
// deferred schemas, loaded by ToolSearch "select:...".
var claudeCode = client{
	Name: "claude",
	Tool: claudeTool,
	Shell: func(command string) ToolCall {
		return ToolCall{Name: "Bash", Input: map[string]any{"command": command, "description": "Run " + command}}
	},
	Prelude: func(tools ...string) []ToolCall {
		var names []string
		for _, t := range tools {
			names = append(names, claudeTool(t))
		}
		return []ToolCall{{Name: "ToolSearch", Input: map[string]any{"query": "select:" + strings.Join(names, ",")}}}
	},
	Main: func(r *Request) bool { return r.HasTool("ToolSearch") },
	Run:  (*world).runClaude,
	// Claude Code shows the model only structuredContent, as JSON, with
	// its own <system-reminder> (tokens left) appended to the last result.
	Doc: func(res ToolResult) (map[string]any, error) {
		return exactDoc(res, claudeReminder.ReplaceAllString(res.Text, ""))
	},
}

// claudeReminder is a <system-reminder> block Claude Code appends to a
// tool result.
var claudeReminder = regexp.MustCompile(`\s*<system-reminder>[\s\S]*?</system-reminder>\s*$`)

// openCode is OpenCode: bgmux tools are bgmux_<tool>.
var openCode = client{
	Name: "opencode",
	Tool: opencodeTool,
	Shell: func(command string) ToolCall {
		return ToolCall{Name: "bash", Input: map[string]any{"command": command, "description": "Run " + command}}
	},
	Prelude: func(...string) []ToolCall { return nil },
	Main:    func(r *Request) bool { return r.HasTool("bash") },
	Run:     (*world).runOpencode,
	// OpenCode shows the text content: a summary, a blank line, the JSON.
	Doc: func(res ToolResult) (map[string]any, error) {
		summary, doc, ok := strings.Cut(res.Text, "\n\n")
		if !ok || strings.TrimSpace(summary) == "" || strings.Contains(summary, "{") {
			return nil, fmt.Errorf("%s result is not a summary, a blank line and a JSON document: %q", res.Call.Name, res.Text)
		}
		return exactDoc(res, doc)
	},
}

// openCodeServe is OpenCode as `opencode serve`, prompted over its HTTP
// API: the same agent, tools and results as openCode.
var openCodeServe = func() client {
	c := openCode
	c.Name = "opencode-serve"
	c.Run = (*world).runOpencodeServe
	return c
}()

// claudeCodeTerm is interactive Claude Code in a terminal, prompted by
// typing: the same agent, tools and results as claudeCode.
var claudeCodeTerm = func() client {
	c := claudeCode
	c.Name = "claude-term"
	c.Run = (*world).runClaudeTerm
	return c
}()

// Step is one step of a plan: given the results of the steps before (in
// order, one per earlier step), the call to make next, or an error to
// give up with.
type Step func(prev []ToolResult) (ToolCall, error)

// Plan is a Script that makes one tool call per turn, step by step,
// then ends with Done. The step to take is the number of tool results in
// the conversation, so a retried request gets the same answer. A result
// marked as an error, or a step's error, ends the plan with a text that
// says so (and Failure records it). Side requests get SideText.
type Plan struct {
	Client   client
	Steps    []Step
	Done     string
	SideText string

	mu      sync.Mutex
	failure string
}

// Failure is why the plan gave up, or "".
func (p *Plan) Failure() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failure
}

func (p *Plan) fail(format string, args ...any) Turn {
	msg := fmt.Sprintf(format, args...)
	p.mu.Lock()
	if p.failure == "" {
		p.failure = msg
	}
	p.mu.Unlock()
	return Turn{Text: "Giving up: " + msg}
}

// Script is the plan as a model server script.
func (p *Plan) Script(r *Request) Turn {
	if !p.Client.Main(r) {
		return Turn{Text: p.SideText}
	}
	results := r.Results()
	n := len(results)
	if n > 0 && p.Client.Failed(results[n-1]) {
		last := results[n-1]
		return p.fail("step %d (%s) returned an error: %s", n, last.Call.Name, last.Text)
	}
	if n >= len(p.Steps) {
		return Turn{Text: p.Done}
	}
	call, err := p.Steps[n](results)
	if err != nil {
		return p.fail("step %d: %v", n+1, err)
	}
	return Turn{Calls: []ToolCall{call}}
}

// Failed reports whether res is a failure as the model can tell: marked
// as an error (the Anthropic API's is_error; the OpenAI API has no such
// flag, so OpenCode shows a failed MCP call as plain text), or a bgmux
// document whose top-level key is "error".
func (c client) Failed(res ToolResult) bool {
	if res.IsError {
		return true
	}
	doc, err := c.Doc(res)
	return err == nil && doc["error"] != nil
}

// describeResults renders results for a failure message.
func describeResults(results []ToolResult) string {
	var b strings.Builder
	for i, r := range results {
		fmt.Fprintf(&b, "\n%d. %s %v -> error=%v %q", i+1, r.Call.Name, r.Call.Input, r.IsError, r.Text)
	}
	return b.String()
}

// exactDoc decodes text as exactly one JSON object (of res's tool).
func exactDoc(res ToolResult, text string) (map[string]any, error) {
	var doc map[string]any
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return nil, fmt.Errorf("%s result is not one JSON object (%v): %q", res.Call.Name, err, res.Text)
	}
	return doc, nil
}

// str reads a string at path (keys) in doc, or "".
func str(doc map[string]any, path ...string) string {
	v := any(doc)
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	s, _ := v.(string)
	return s
}
