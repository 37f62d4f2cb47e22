package mcp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bgmux/bgmux/tasks"
)

// reply is what a tool handler returns when it has a result: a summary
// for the text content and the structured value. failed marks a result
// that is still a failure for the caller (a wait that timed out): the
// tool result then has isError set and keeps its structured content.
type reply struct {
	summary string
	value   any
	failed  bool
}

// okResult is the tool result for r: a text content holding the summary
// and the JSON document (r.hinted), and the same document as structured
// content (set by the SDK from r.hinted, and checked against the output
// schema).
func okResult(r *reply) *sdk.CallToolResult {
	return &sdk.CallToolResult{
		IsError: r.failed,
		Content: []sdk.Content{&sdk.TextContent{Text: r.summary + "\n\n" + string(r.hinted())}},
	}
}

// hintField is the one field a tool's structured result adds to the
// CLI's --json document: the summary, with its advice on what to do next.
// Some clients (Claude Code) show the model only the structured result of
// a successful call, not its text.
const hintField = "hint"

// hinted is r's document with the summary added as hint, as the last
// field: the document the result carries.
func (r *reply) hinted() json.RawMessage {
	doc := jsonText(r.value)
	hint := jsonText(r.summary)
	if r.summary == "" || !strings.HasSuffix(doc, "}") {
		return json.RawMessage(doc)
	}
	body := strings.TrimSuffix(doc, "}")
	if strings.TrimSpace(body) != "{" {
		body += ","
	}
	return json.RawMessage(body + `"` + hintField + `":` + hint + "}")
}

// jsonText is v as one line of JSON. Invalid UTF-8 in strings becomes
// U+FFFD, so the text is always valid UTF-8.
func jsonText(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf(`{"error":{"kind":"failed","message":%q}}`, "cannot encode the result: "+err.Error())
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// errorDoc is the CLI's JSON error document.
type errorDoc struct {
	Error struct {
		Kind    tasks.Kind `json:"kind"`
		Message string     `json:"message"`
	} `json:"error"`
}

// errorResult is the tool result for a failure of tool: isError set, and a
// text content that says what went wrong and what to do next, followed by
// the CLI's JSON error document ({"error":{"kind","message"}}).
func errorResult(tool string, err error) *sdk.CallToolResult {
	kind := tasks.KindOf(err)
	msg := mcpWording.Replace(err.Error())
	if hint := nextStep(tool, kind); hint != "" {
		msg = strings.TrimRight(msg, ". ") + ". " + hint
	}
	var doc errorDoc
	doc.Error.Kind, doc.Error.Message = kind, msg
	return &sdk.CallToolResult{
		IsError: true,
		Content: []sdk.Content{&sdk.TextContent{Text: msg + "\n\n" + jsonText(doc)}},
	}
}

// nextStep is the advice added to an error of the given kind.
func nextStep(tool string, kind tasks.Kind) string {
	switch kind {
	case tasks.KindNotFound:
		return "Call list_tasks with all=true to see every task and its id, then call " + tool + " again with one of them."
	case tasks.KindAmbiguous:
		return "Call " + tool + " again with one of those ids as task."
	case tasks.KindInvalid:
		return "Fix the argument and call " + tool + " again."
	case tasks.KindTmux:
		return "Run `bgmux doctor` in a shell for what to fix."
	}
	return ""
}

// mcpWording turns the CLI's words in the tasks package's messages into
// the tools' argument names.
var mcpWording = strings.NewReplacer(
	"; see bgmux list --all", "",
	"bgmux list --all", "list_tasks with all=true",
	"see bgmux list", "see list_tasks",
	"pass --force", "pass force=true",
	"pass --reuse", "pass reuse=true",
	"--reuse", "reuse",
	"--max-restarts", "max_restarts",
	"another --name", "another name",
	"--reader", "reader",
	"--grep", "grep",
	"--head", "head",
	"--tail", "tail",
	"--new", "new",
	"--cwd", "cwd",
	"use --env KEY=VALUE", "use env {\"KEY\": \"VALUE\"}",
	"--env-file FILE", "env_file",
	"--env", "env",
	"--key KEY", "key",
	"put it after --, e.g. bgmux start -- npm run dev", "pass command, e.g. \"npm run dev\"",
	"(first word after --)", "(first element of command)",
)

// describe says in a few words what state t is in:
// "web (bg-3f9k2a) is running, pid 4242".
func describe(t *tasks.Task) string {
	who := t.Name + " (" + t.ID + ")"
	switch {
	case t.State == tasks.Running && t.PID != nil:
		return fmt.Sprintf("%s is running, pid %d", who, *t.PID)
	case t.State == tasks.Exited && t.ExitCode != nil:
		s := fmt.Sprintf("%s exited %d", who, *t.ExitCode)
		if t.NextRestartAt != nil {
			s += "; the restart policy runs it again at " + t.NextRestartAt.Local().Format("15:04:05")
		}
		if t.GaveUp {
			s += fmt.Sprintf("; the restart policy gave up after %d restarts", t.Restarts)
		}
		return s
	case t.State == tasks.Killed && t.Signal != nil:
		return who + " was killed by " + *t.Signal
	case t.State == tasks.Lost && t.LostReason != nil:
		return who + " was lost (" + *t.LostReason + "): its supervisor ended without recording an exit (the tmux server was killed or the host rebooted)"
	}
	return who + " is " + string(t.State)
}

// attach is the sentence telling how a person watches t.
func attach(t *tasks.Task) string {
	return "A person can watch or type into it with: " + t.Tmux.Attach
}
