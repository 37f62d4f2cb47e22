package mcp

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/bgmux/bgmux/tasks"
)

// taskFieldDocs describe the task object's fields in the output schemas.
var taskFieldDocs = map[string]string{
	"id":              "The task's id (bg-...): pass it as task to the other tools.",
	"name":            "The task's name, unique among the group's live tasks.",
	"group":           "The task's group: the tmux session its window is in.",
	"state":           "starting (its start is under way), running, exited (see exit_code), killed (see signal) or lost (its supervisor vanished without recording an exit: tmux server killed, host rebooted).",
	"exit_code":       "The exit code of the last run when state is exited; null otherwise.",
	"signal":          "The signal that ended the last run when state is killed (e.g. SIGTERM); null otherwise.",
	"pid":             "The process id of the task's command (also its process group).",
	"command":         "The shell command line, when the task was started with a string.",
	"argv":            "The argv, when the task was started with a list.",
	"cwd":             "The task's working directory.",
	"tags":            "The task's tags.",
	"restart":         "The restart policy: never, on-failure or always.",
	"runs":            "How many times the command has been run (restart_task and restart policies add runs).",
	"restarts":        "Automatic restarts by the restart policy.",
	"next_restart_at": "When the restart policy runs the command again; null when no restart is pending.",
	"max_restarts":    "The restart policy's bound on automatic restarts; null when there is none.",
	"gave_up":         "true when the restart policy stopped restarting after max_restarts restarts.",
	"lost_reason":     "Why the task is lost, as far as bgmux can tell (e.g. \"supervisor gone\", \"host rebooted\", \"tmux server gone\"); null unless state is lost.",
	"history":         "How the earlier runs ended, oldest first ([] when there were none): run, exit_code, signal, started_at, ended_at, error, lost_reason.",
	"created_at":      "When the task was created (RFC 3339).",
	"started_at":      "When the current or last run started.",
	"ended_at":        "When the last run ended; null while it runs.",
	"log_path":        "The file holding every byte of output (read it with read_output).",
	"tmux":            "Where the task's tmux window is; a person can watch it or type into it with the attach command.",
	"error":           "Why the command could not be started; null when it started.",
	"log_loss":        "Output missing from the log because writing it failed (a full disk); null when the log is complete.",
}

// nonNull turns the nullable types jsonschema-go gives Go pointers
// (["null","integer"]) into the plain type, recursively: an optional
// input is left out rather than sent as null, and some clients reject
// type lists in input schemas.
func nonNull(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	if len(s.Types) == 2 && s.Types[0] == "null" {
		s.Type, s.Types = s.Types[1], nil
	}
	for _, p := range s.Properties {
		nonNull(p)
	}
	nonNull(s.Items)
	nonNull(s.AdditionalProperties)
}

// commandSchema is the schema of Command: a string or a list of strings.
func commandSchema() *jsonschema.Schema {
	one := 1
	return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{
		{Type: "string", MinLength: &one},
		{Type: "array", Items: &jsonschema.Schema{Type: "string"}, MinItems: &one},
	}}
}

// inputSchema infers the input schema of a tool from T: descriptions
// from the jsonschema tags, no nulls, no negative numbers, and the enums
// given per property.
func inputSchema[T any](enums map[string][]any) *jsonschema.Schema {
	s, err := jsonschema.For[T](&jsonschema.ForOptions{TypeSchemas: map[reflect.Type]*jsonschema.Schema{
		reflect.TypeFor[Command](): commandSchema(),
	}})
	if err != nil {
		panic(fmt.Sprintf("mcp: input schema of %T: %v", *new(T), err))
	}
	nonNull(s)
	zero := 0.0
	for name, p := range s.Properties {
		if p.Type == "integer" || p.Type == "number" {
			p.Minimum = &zero
		}
		if e, ok := enums[name]; ok {
			p.Enum = e
		}
	}
	return s
}

// outputOptions make every task object in an output schema carry the
// described task schema.
func outputOptions() *jsonschema.ForOptions {
	return &jsonschema.ForOptions{TypeSchemas: map[reflect.Type]*jsonschema.Schema{
		reflect.TypeFor[tasks.Task](): taskSchema(),
	}}
}

// taskSchema is the schema of the task object, with descriptions.
func taskSchema() *jsonschema.Schema {
	s, err := jsonschema.For[tasks.Task](nil)
	if err != nil {
		panic("mcp: task schema: " + err.Error())
	}
	for name, p := range s.Properties {
		p.Description = taskFieldDocs[name]
	}
	return s
}

// outputSchema infers the output schema of a tool from T.
func outputSchema[T any]() *jsonschema.Schema {
	if reflect.TypeFor[T]() == reflect.TypeFor[tasks.Task]() {
		return taskSchema()
	}
	s, err := jsonschema.For[T](outputOptions())
	if err != nil {
		panic(fmt.Sprintf("mcp: output schema of %T: %v", *new(T), err))
	}
	return s
}

// startReportSchema is the schema of tasks.StartReport: the task object
// and reused.
func startReportSchema() *jsonschema.Schema {
	s := taskSchema()
	s.Properties["reused"] = &jsonschema.Schema{Type: "boolean",
		Description: "true when reuse gave back the live task of that name (it runs the same command) instead of starting one."}
	s.Required = append(s.Required, "reused")
	return s
}

// startSchema is start_task's output schema: the task object, or with
// wait_for the wait result (as bgmux start --json and start --wait-for
// --json print).
func startSchema() *jsonschema.Schema {
	return &jsonschema.Schema{
		Type:        "object",
		Description: "The task object and reused; with wait_for, the wait result whose task is the new task.",
		AnyOf:       []*jsonschema.Schema{startReportSchema(), outputSchema[WaitResult]()},
	}
}

// sendSchema is send_input's output schema: bgmux send --json, or with
// wait_for the wait result.
func sendSchema() *jsonschema.Schema {
	return &jsonschema.Schema{
		Type:        "object",
		Description: "sent and the task; with wait_for, the wait result (as wait_task's) for the answer to what was sent.",
		AnyOf:       []*jsonschema.Schema{outputSchema[SendResult](), outputSchema[WaitResult]()},
	}
}

// addHint declares the hint field (see hintField) in an output schema,
// in each of its alternatives.
func addHint(s *jsonschema.Schema) {
	for _, alt := range s.AnyOf {
		addHint(alt)
	}
	if s.Properties != nil {
		s.Properties[hintField] = &jsonschema.Schema{Type: "string",
			Description: "What the result means and what to do next, in words (the text content's summary). bgmux adds it to the CLI's --json document."}
	}
}

// expected describes a tool's arguments for a model that got them wrong:
// "task (string, required), tail (integer)".
func expected(s *jsonschema.Schema) string {
	if s == nil || len(s.Properties) == 0 {
		return "no arguments"
	}
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := slices.Contains(s.Required, names[i]), slices.Contains(s.Required, names[j])
		if ri != rj {
			return ri
		}
		return names[i] < names[j]
	})
	parts := make([]string, 0, len(names))
	for _, n := range names {
		p := s.Properties[n]
		typ := p.Type
		switch {
		case len(p.AnyOf) > 0:
			typ = "string or list of strings"
		case p.Type == "array" && p.Items != nil:
			typ = "list of " + p.Items.Type + "s"
		case p.Type == "object":
			typ = "object of strings"
		}
		if len(p.Enum) > 0 {
			var vals []string
			for _, v := range p.Enum {
				vals = append(vals, fmt.Sprint(v))
			}
			typ += ": " + strings.Join(vals, "|")
		}
		if slices.Contains(s.Required, n) {
			typ += ", required"
		}
		if p.Minimum != nil {
			typ += ", >= 0"
		}
		parts = append(parts, n+" ("+typ+")")
	}
	return strings.Join(parts, ", ")
}
