package mcp

import (
	"encoding/json"
	"slices"
	"sort"
	"testing"

	"github.com/bgmux/bgmux/tasks"
)

// fieldsOf is the sorted field names of v encoded as a JSON object.
func fieldsOf(t *testing.T, v any) []string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	var names []string
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// TestTrapMCPResultFields: each tool's structured result is the CLI's
// --json document plus hint, every field present (README: "The MCP tools
// return the same objects, plus one field hint"): start_task carries
// reused as start --json does, list_tasks always has warnings.
func TestTrapMCPResultFields(t *testing.T) {
	f := newFixture(t)
	withHint := func(names ...string) []string {
		names = append(slices.Clone(names), hintField)
		sort.Strings(names)
		return names
	}
	task := fieldsOf(t, &tasks.Task{})
	cases := []struct {
		tool string
		args map[string]any
		want []string
	}{
		{"start_task", map[string]any{"command": "echo hi; sleep 300", "name": "web"}, withHint(append(task, "reused")...)},
		{"start_task", map[string]any{"command": "echo hi; sleep 300", "name": "web", "reuse": true}, withHint(append(task, "reused")...)},
		{"get_task", map[string]any{"task": "web"}, withHint(task...)},
		{"list_tasks", nil, withHint("tasks", "warnings")},
		{"wait_task", map[string]any{"task": "web", "for": "hi"}, withHint(fieldsOf(t, &tasks.WaitReport{})...)},
		{"read_output", map[string]any{"task": "web"}, withHint(fieldsOf(t, &tasks.LogResult{})...)},
		{"send_input", map[string]any{"task": "web", "text": "x"}, withHint("sent", "task")},
		{"stop_task", map[string]any{"task": "web", "grace_s": 1}, withHint(task...)},
		{"restart_task", map[string]any{"task": "web"}, withHint(task...)},
		{"remove_task", map[string]any{"task": "web", "force": true}, withHint("removed")},
	}
	for _, c := range cases {
		var got map[string]json.RawMessage
		f.ok(c.tool, c.args, &got)
		var names []string
		for k := range got {
			names = append(names, k)
		}
		sort.Strings(names)
		if !slices.Equal(names, c.want) {
			t.Errorf("%s %v: structured result has fields\n  %v\nwant\n  %v", c.tool, c.args, names, c.want)
		}
	}
}
