package mcp

import (
	"strings"
	"testing"
)

// TestErrorResults checks that malformed arguments and task-level
// failures are isError results that say what to do, never protocol
// errors, and that the server serves the next call after each.
func TestErrorResults(t *testing.T) {
	f := newFixture(t)
	var live wtask
	f.ok("start_task", map[string]any{"command": "sleep 300", "name": "live"}, &live)
	f.ok("start_task", map[string]any{"command": "exit 0", "name": "done"}, nil)
	f.ok("wait_task", map[string]any{"task": "done"}, nil)
	cases := []struct {
		tool string
		args map[string]any
		want []string // substrings of the message
	}{
		// Wrong JSON types, missing or unknown arguments: the SDK rejects
		// them against the input schema; the result names the arguments.
		{"get_task", map[string]any{"task": 5}, []string{"invalid arguments for get_task", "task", "want \"string\"", "task (string, required)"}},
		{"get_task", nil, []string{"missing required arguments", "task"}},
		{"get_task", map[string]any{"task": nil}, []string{"invalid arguments"}},
		{"read_output", map[string]any{"task": "live", "tail": "ten"}, []string{"tail", "integer"}},
		{"read_output", map[string]any{"task": "live", "tail": -1}, []string{"tail must be 0 or more, not -1"}},
		{"wait_task", map[string]any{"task": "live", "timeout_s": -1}, []string{"timeout_s must be 0 or more, not -1", "timeout_s (number, >= 0)"}},
		{"wait_task", map[string]any{"task": "live", "timeout": 5}, []string{"invalid arguments for wait_task", "timeout_s"}},
		{"start_task", map[string]any{"name": "x"}, []string{"missing required arguments", "command"}},
		{"start_task", map[string]any{"command": 5}, []string{"invalid arguments for start_task", "command (string or list of strings, required)"}},
		{"start_task", map[string]any{"command": []any{"ls", 3}}, []string{"invalid arguments"}},
		{"start_task", map[string]any{"command": "true", "restart": "sometimes"}, []string{"never|on-failure|always"}},
		{"stop_task", map[string]any{"task": "live", "grace_s": -2}, []string{"grace_s must be 0 or more, not -2"}},
		{"send_input", map[string]any{"task": "live", "enter": "yes"}, []string{"enter", "boolean"}},
		{"list_tasks", map[string]any{"state": "sleeping"}, []string{"starting|running|exited|killed|lost"}},
		// Task-level failures.
		{"get_task", map[string]any{"task": "nope"}, []string{"no task \"nope\"", "Call list_tasks with all=true"}},
		{"wait_task", map[string]any{"task": "live", "for": "("}, []string{"not a valid regular expression", "Fix the argument"}},
		{"read_output", map[string]any{"task": "live", "grep": "["}, []string{"not a valid regular expression"}},
		{"read_output", map[string]any{"task": "live", "head": 1, "tail": 1}, []string{"head and tail cannot be combined"}},
		{"read_output", map[string]any{"task": "live", "reader": "r"}, []string{"reader needs new"}},
		{"start_task", map[string]any{"command": "true", "timeout_s": 5}, []string{"timeout_s goes with wait_for"}},
		{"start_task", map[string]any{"command": "true", "reuse": true}, []string{"reuse needs name"}},
		{"start_task", map[string]any{"command": "true", "wait_for": "(", "name": "never-started"}, []string{"wait_for", "not a valid regular expression"}},
		{"start_task", map[string]any{"command": "sleep 1", "name": "live"}, []string{"already running", "another name", "reuse=true"}},
		{"start_task", map[string]any{"command": "true", "cwd": "/does/not/exist"}, []string{"does not exist"}},
		{"start_task", map[string]any{"command": "true", "env": map[string]any{"BAD-NAME": "1"}}, []string{"BAD-NAME"}},
		{"start_task", map[string]any{"command": ""}, []string{"invalid arguments"}},
		{"stop_task", map[string]any{"task": "live", "signal": "NOPE"}, []string{"unknown signal"}},
		{"send_input", map[string]any{"task": "live"}, []string{"nothing to send"}},
		{"send_input", map[string]any{"task": "live", "key": "NoSuchKey"}, []string{"unknown key"}},
		{"send_input", map[string]any{"task": "done", "text": "x"}, []string{"nothing reads its input"}},
		{"remove_task", map[string]any{"task": "live"}, []string{"stop it first or pass force=true"}},
	}
	for _, c := range cases {
		msg := f.fail(c.tool, c.args)
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s %v: message does not contain %q:\n%s", c.tool, c.args, w, msg)
			}
		}
		if !strings.Contains(msg, `{"error":{"kind":"`) {
			t.Errorf("%s %v: no JSON error document in the text:\n%s", c.tool, c.args, msg)
		}
		// The server serves the next call.
		f.ok("get_task", map[string]any{"task": "live"}, nil)
	}
	var list struct{ Tasks []wtask }
	f.ok("list_tasks", nil, &list)
	if len(list.Tasks) != 2 {
		t.Errorf("failed starts left tasks behind: %+v", list.Tasks)
	}
}

// TestSchemaWording checks the rewording of jsonschema errors.
func TestSchemaWording(t *testing.T) {
	for in, want := range map[string]string{
		`validating "arguments": validating root: validating /properties/timeout_s: minimum: -3/2 is less than 0.000000`:  "timeout_s must be 0 or more, not -1.5",
		`validating "arguments": validating root: required: missing properties: ["task"]`:                                 `missing required arguments: ["task"]`,
		`validating "arguments": validating root: validating /properties/task: type: 5 has type "integer", want "string"`: `task: 5 has type "integer", want "string"`,
	} {
		if got := schemaWording(in); got != want {
			t.Errorf("schemaWording(%q) = %q, want %q", in, got, want)
		}
	}
}
