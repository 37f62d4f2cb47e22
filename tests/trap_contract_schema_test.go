package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// jsonSchemas is the --json contract as README's "JSON contract" section
// lists it: each object once, with every field and its JSON type. A type
// is a primitive (string, int, number, bool, time), the name of another
// object, "[]T" for an array of T, or "T?" for T or null.
var jsonSchemas = map[string]map[string]string{
	"task": {
		"id": "string", "name": "string", "group": "string", "state": "string",
		"exit_code": "int?", "signal": "string?", "pid": "int?", "command": "string?",
		"argv": "[]string?", "cwd": "string", "tags": "[]string", "restart": "string",
		"runs": "int", "restarts": "int", "next_restart_at": "time?", "max_restarts": "int?",
		"gave_up": "bool", "lost_reason": "string?", "history": "[]past_run",
		"created_at": "time", "started_at": "time?", "ended_at": "time?", "log_path": "string",
		"tmux": "tmux", "error": "string?", "log_loss": "log_loss?",
	},
	"tmux": {"socket": "string", "session": "string", "window": "string", "pane": "string", "attach": "string"},
	"past_run": {
		"run": "int", "exit_code": "int?", "signal": "string?", "started_at": "time",
		"ended_at": "time", "error": "string?", "lost_reason": "string?",
	},
	"log_loss": {"bytes": "int", "offset": "int", "gaps": "int", "reason": "string", "at": "time", "dropping": "bool"},
	// start --json: the task object plus reused.
	"start_result": nil, // filled in init: task + reused
	"wait_result": {
		"matched": "bool", "timeout": "bool", "ended": "bool", "exit_status": "int?",
		"line": "string?", "offset": "int?", "groups": "[]string", "elapsed": "number",
		"tail": "[]string", "task": "task?", // null only for wait --any that timed out
	},
	"logs_result": {
		"id": "string", "log_path": "string", "size": "int", "start_offset": "int", "end_offset": "int",
		"skipped": "int", "dropped": "int", "log_loss": "log_loss?", "reader": "string?",
		"since_exact": "bool?", "partial": "bool", "more": "bool", "lines": "[]string", "offsets": "[]int?", "task": "task",
	},
	"follow_line": {"line": "string", "offset": "int"},
	"follow_lost": {"skipped": "int", "dropped": "int"},
	"follow_end":  {"end": "bool", "exit_status": "int", "end_offset": "int", "task": "task"},
	"event": {
		"seq": "int", "time": "time", "event": "string", "id": "string", "name": "string",
		"group": "string", "run": "int", "message": "string", "pid": "int?", "exit_code": "int?",
		"signal": "string?", "exit_status": "int?", "line": "string?", "lost_reason": "string?",
		"restart_at": "time?",
	},
	"events_result":  {"events": "[]event", "skipped": "int", "dropped": "int", "last_seq": "int"},
	"up_item":        {"name": "string", "id": "string?", "action": "string", "task": "task?"},
	"up_result":      {"tasks": "[]up_item"},
	"restore_item":   {"id": "string", "name": "string", "action": "string", "reason": "string", "task": "task?"},
	"restore_result": {"tasks": "[]restore_item"},
	"removed":        {"removed": "[]task"},
	"would_remove":   {"would_remove": "[]task"},
	"send_result":    {"sent": "bool", "task": "task"},
	"screen_result":  {"id": "string", "pane": "string", "text": "string"},
	"doctor_check":   {"name": "string", "ok": "bool", "detail": "string", "fix": "string?"},
	"doctor_result":  {"ok": "bool", "checks": "[]doctor_check"},
	"version":        {"version": "string", "go": "string", "tmux": "string"},
	"attach_plan":    {"command": "string", "argv": "[]string"},
	"error":          {"error": "error_body"},
	"error_body":     {"kind": "string", "message": "string"},
}

func init() {
	st := map[string]string{"reused": "bool"}
	for k, v := range jsonSchemas["task"] {
		st[k] = v
	}
	jsonSchemas["start_result"] = st
}

// checkJSON checks v against the type typ at path, appending problems.
func checkJSON(path string, v any, typ string, probs *[]string) {
	if strings.HasSuffix(typ, "?") {
		if v == nil {
			return
		}
		typ = strings.TrimSuffix(typ, "?")
	}
	bad := func(want string) { *probs = append(*probs, fmt.Sprintf("%s: want %s, got %s", path, want, compact(v))) }
	switch {
	case strings.HasPrefix(typ, "[]"):
		a, ok := v.([]any)
		if !ok {
			bad("array of " + typ[2:])
			return
		}
		for i, e := range a {
			checkJSON(fmt.Sprintf("%s[%d]", path, i), e, typ[2:], probs)
		}
	case typ == "string":
		if _, ok := v.(string); !ok {
			bad("string")
		}
	case typ == "time":
		if s, ok := v.(string); !ok || len(s) < 20 || s[4] != '-' || s[10] != 'T' {
			bad("RFC 3339 time")
		}
	case typ == "bool":
		if _, ok := v.(bool); !ok {
			bad("bool")
		}
	case typ == "int" || typ == "number":
		n, ok := v.(json.Number)
		if !ok {
			bad(typ)
			return
		}
		if _, err := n.Int64(); typ == "int" && err != nil {
			bad("int")
		}
	default:
		schema, known := jsonSchemas[typ]
		if !known {
			*probs = append(*probs, fmt.Sprintf("%s: the test's schema has no object %q", path, typ))
			return
		}
		o, ok := v.(map[string]any)
		if !ok {
			bad(typ + " object")
			return
		}
		var names []string
		for k := range schema {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fv, present := o[k]
			if !present {
				*probs = append(*probs, fmt.Sprintf("%s (%s): missing field %q", path, typ, k))
				continue
			}
			checkJSON(path+"."+k, fv, schema[k], probs)
		}
		for k := range o {
			if _, ok := schema[k]; !ok {
				*probs = append(*probs, fmt.Sprintf("%s (%s): extra field %q", path, typ, k))
			}
		}
	}
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 80 {
		return string(b[:80]) + "..."
	}
	return string(b)
}

// contract collects the checks of one test.
type contract struct {
	t     *testing.T
	e     *env
	seen  map[string]bool
	probs []string
}

// check decodes each JSON document (or JSON Lines line) of out: the
// documents must have the types of typs in order (the last type repeats
// for further documents).
func (c *contract) check(what, out string, typs ...string) {
	c.t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	n := 0
	for dec.More() {
		var v any
		if err := dec.Decode(&v); err != nil {
			c.probs = append(c.probs, fmt.Sprintf("%s: not JSON: %v\n%s", what, err, out))
			return
		}
		typ := typs[len(typs)-1]
		if n < len(typs) {
			typ = typs[n]
		}
		c.seen[strings.TrimPrefix(typ, "[]")] = true
		checkJSON(what, v, typ, &c.probs)
		n++
	}
	if n == 0 {
		c.probs = append(c.probs, fmt.Sprintf("%s: no JSON output", what))
	}
}

// run runs bgmux with args, wants exit status code, and checks its output.
func (c *contract) run(code int, args []string, typs ...string) string {
	c.t.Helper()
	r := c.e.run(args...)
	what := "bgmux " + strings.Join(args, " ")
	if r.Code != code {
		c.probs = append(c.probs, fmt.Sprintf("%s: exit %d, want %d; stderr: %s", what, r.Code, code, r.Err))
	}
	c.check(what, r.Out, typs...)
	return r.Out
}

// followKind tells the JSON Lines objects of logs --follow --json apart.
func followKinds(out string) []string {
	var typs []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		switch {
		case strings.HasPrefix(l, `{"end"`):
			typs = append(typs, "follow_end")
		case strings.HasPrefix(l, `{"skipped"`):
			typs = append(typs, "follow_lost")
		default:
			typs = append(typs, "follow_line")
		}
	}
	return typs
}

// TestTrapJSONContract runs every command with --json in realistic
// states and decodes each output against the one schema of its object:
// every field present, none extra, each of its documented type.
func TestTrapJSONContract(t *testing.T) {
	e := newEnv(t)
	c := &contract{t: t, e: e, seen: map[string]bool{}}
	args := func(a ...string) []string { return a }

	// A long-running task, matched by start --wait-for (groups, no tail).
	c.run(0, args("start", "--json", "--name", "srv", "--wait-for", `listening on (\d+)`, "--",
		"sh", "-c", "echo listening on 8080; sleep 600"), "wait_result")
	c.run(0, args("start", "--json", "--name", "srv", "--reuse", "--", "sh", "-c", "echo listening on 8080; sleep 600"), "start_result")
	c.run(0, args("status", "--json", "srv"), "task")
	c.run(0, args("list", "--json"), "[]task")
	c.run(0, args("logs", "--json", "srv"), "logs_result")
	// wait: a match without groups, a timeout.
	c.run(0, args("wait", "--json", "--for", "listening", "srv"), "wait_result")
	c.run(124, args("wait", "--json", "--for", "never-printed", "--timeout", "300ms", "srv"), "wait_result")
	c.run(0, args("send", "--json", "srv", "hello"), "send_result")
	c.run(124, args("send", "--json", "--wait-for", "never-printed", "--timeout", "300ms", "srv", "again"), "wait_result")
	c.run(0, args("send", "--json", "--wait-for", "typed-now", "--timeout", "20s", "srv", "typed-now"), "wait_result")
	c.run(0, args("screen", "--json", "srv"), "screen_result")
	// logs with --grep (offsets), --new (reader), --since (since_exact).
	c.run(0, args("logs", "--json", "--grep", "listening", "srv"), "logs_result")
	c.run(0, args("logs", "--json", "--new", "srv"), "logs_result")
	c.run(0, args("logs", "--json", "--since", "1h", "srv"), "logs_result")
	// stop of several: an array; wait --any that times out.
	e.start("--name", "p1", "--", "sleep", "600")
	e.start("--name", "p2", "--", "sleep", "600")
	c.run(124, args("wait", "--any", "--json", "--timeout", "300ms", "p1", "p2"), "wait_result")
	c.run(0, args("stop", "--json", "p1", "p2"), "[]task")
	// A lost task: restore reports it with its task.
	victim := e.start("--name", "victim", "--", "sleep", "600")
	sup := lpReadRun(t, e, victim.ID).SupervisorPID
	lpKill(t, sup, syscall.SIGKILL)
	poll(20e9, func() bool { return !pidAlive(sup) })
	c.run(0, args("restore", "--json"), "restore_result")
	c.run(0, args("rm", "--json", "victim"), "removed")
	c.run(0, args("attach", "--print", "--json", "srv"), "attach_plan")
	// start --wait-for: timeout (with tail) and an early exit.
	c.run(124, args("start", "--json", "--name", "slow", "--wait-for", "never", "--timeout", "300ms", "--",
		"sh", "-c", "echo one; sleep 600"), "wait_result")
	c.run(3, args("start", "--json", "--name", "early", "--wait-for", "never", "--", "sh", "-c", "echo bye; exit 3"), "wait_result")
	// A task with earlier runs: history non-empty in status and list.
	c.run(0, args("start", "--json", "--name", "twice", "--", "sh", "-c", "echo run; exit 3"), "start_result")
	e.waitFinished("twice")
	c.run(0, args("restart", "--json", "twice"), "task")
	poll(20e9, func() bool { return e.status("twice").Runs == 2 && e.waitFinished("twice").State == "exited" })
	c.run(3, args("wait", "--json", "twice"), "wait_result")
	c.run(0, args("status", "--json", "twice"), "task")
	c.run(0, args("list", "--json"), "[]task")
	fr := e.run("logs", "--follow", "--json", "twice")
	c.check("bgmux logs --follow --json twice", fr.Out, followKinds(fr.Out)...)
	c.run(0, args("events", "--json"), "events_result")
	c.run(0, args("stop", "--json", "slow"), "task")
	c.run(0, args("kill", "--json", "srv"), "task")
	c.run(0, args("rm", "--json", "early"), "removed")
	c.run(0, args("prune", "--dry-run", "--json"), "would_remove")
	c.run(0, args("prune", "--json"), "removed")
	c.run(0, args("restore", "--json"), "restore_result")
	c.run(0, args("version", "--json"), "version")
	r := e.run("doctor", "--json")
	c.check("bgmux doctor --json", r.Out, "doctor_result")
	// wait --any over a task that has ended.
	c.run(0, args("start", "--json", "--name", "quick", "--", "true"), "start_result")
	c.run(0, args("wait", "--any", "--json", "quick"), "wait_result")
	// Errors.
	c.run(2, args("status", "--json", "no-such-task"), "error")
	c.run(2, args("start", "--json", "--restart", "bogus", "--", "true"), "error")

	// up/down: one declared task running, one declared and stopped.
	e.useConfig("tasks:\n  api:\n    command: \"sleep 600\"\n  done:\n    command: \"true\"\n")
	c.run(0, args("up", "--json"), "up_result")
	poll(20e9, func() bool { return e.waitFinished("done").State == "exited" })
	down := c.run(0, args("down", "--json"), "up_result")
	// A declared task that exists but is not running is named by its id.
	var dd struct {
		Tasks []struct {
			Name   string  `json:"name"`
			ID     *string `json:"id"`
			Action string  `json:"action"`
			Task   *task   `json:"task"`
		} `json:"tasks"`
	}
	if err := json.Unmarshal([]byte(down), &dd); err != nil {
		c.probs = append(c.probs, fmt.Sprintf("bgmux down --json: %v", err))
	}
	doneID := e.status("done").ID
	found := false
	for _, it := range dd.Tasks {
		if it.Name != "done" {
			continue
		}
		found = true
		if it.Action != "not_running" || it.ID == nil || *it.ID != doneID || it.Task == nil || it.Task.ID != doneID {
			c.probs = append(c.probs, fmt.Sprintf("bgmux down --json: the declared task done (%s), which is not running, is reported as %s", doneID, compact(it)))
		}
	}
	if !found {
		c.probs = append(c.probs, "bgmux down --json: no item for the declared task done: "+down)
	}

	for name := range jsonSchemas {
		if !c.seen[name] && name != "tmux" && name != "past_run" && name != "log_loss" && name != "error_body" &&
			name != "doctor_check" && name != "follow_lost" && name != "event" && name != "up_item" && name != "restore_item" {
			c.probs = append(c.probs, fmt.Sprintf("no command's output was checked against %q", name))
		}
	}
	if len(c.probs) > 0 {
		var b bytes.Buffer
		for _, p := range c.probs {
			b.WriteString("\n  " + p)
		}
		t.Fatalf("the --json output breaks the contract:%s", b.String())
	}
}
