package tests

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// twReport is the part of a wait result these tests read.
type twReport struct {
	Matched bool    `json:"matched"`
	Line    *string `json:"line"`
	Offset  *int64  `json:"offset"`
}

func twDecode(t *testing.T, what, out string) twReport {
	t.Helper()
	var r twReport
	if err := json.Unmarshal([]byte(out), &r); err != nil || !r.Matched || r.Offset == nil || r.Line == nil {
		t.Fatalf("%s: not a matched wait result: %v\n%s", what, err, out)
	}
	return r
}

// TestTrapWaitNewOutputOnly: in a REPL, an answer printed before does not
// answer the next question: send --wait-for matches only output after
// the text was sent; wait --since-offset and wait --new only output after
// that offset or the reader's cursor (which wait leaves where it is).
func TestTrapWaitNewOutputOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start("--name", "py", "--env", "PYTHONSTARTUP=", "--wait-for", `^>>> $`, "--timeout", "20s", "--", "python3", "-q", "-i")
	first := twDecode(t, "first send --wait-for", e.must("send", "py", "print(6*7)", "--wait-for", "^42$", "--timeout", "20s", "--json"))
	// The answer comes late: a stale 42 would be returned at once.
	second := twDecode(t, "second send --wait-for", e.must("send", "py", "import time; time.sleep(0.5); print(6*7)", "--wait-for", "^42$", "--timeout", "20s", "--json"))
	if *second.Offset <= *first.Offset {
		t.Fatalf("the second send --wait-for matched the first answer again (offset %d, first at %d)", *second.Offset, *first.Offset)
	}
	if text := e.must("send", "py", "print(6*7)", "--wait-for", "^42$", "--timeout", "20s"); text != "42\n" {
		t.Fatalf("send --wait-for printed %q, want the matching line", text)
	}
	// --since-offset: only lines that begin after the last match.
	e.must("send", "py", "time.sleep(0.5); print(6*7)")
	third := twDecode(t, "wait --since-offset", e.must("wait", "py", "--for", "^42$", "--since-offset", strconv.FormatInt(*second.Offset+1, 10), "--timeout", "20s", "--json"))
	if *third.Offset <= *second.Offset {
		t.Fatalf("wait --since-offset %d matched an earlier line at %d", *second.Offset+1, *third.Offset)
	}
	// --new: only what logs --new has not returned; the cursor stays.
	e.must("wait", "py", "--for", `^>>> $`, "--since-offset", strconv.FormatInt(*third.Offset+1, 10), "--timeout", "20s")
	e.must("logs", "py", "--new")
	e.must("send", "py", "time.sleep(0.5); print(6*7)")
	fourth := twDecode(t, "wait --new", e.must("wait", "py", "--for", "^42$", "--new", "--timeout", "20s", "--json"))
	if *fourth.Offset <= *third.Offset {
		t.Fatalf("wait --new matched an earlier line at %d (last seen at %d)", *fourth.Offset, *third.Offset)
	}
	if unread := e.must("logs", "py", "--new"); !strings.Contains(unread, "\n42\n") {
		t.Fatalf("wait --new moved the reader's cursor: logs --new gave %q", unread)
	}
	// Misuse is a usage error.
	for _, args := range [][]string{
		{"wait", "py", "--new"},
		{"wait", "py", "--for", "x", "--new", "--since-offset", "3"},
		{"wait", "py", "--for", "x", "--since-offset", "-1"},
		{"wait", "py", "--for", "x", "--reader", "r"},
		{"send", "py", "x", "--timeout", "1s"},
	} {
		if r := e.run(args...); r.Code != 2 {
			t.Fatalf("bgmux %s: exit %d, want 2\n%s", strings.Join(args, " "), r.Code, r.Err)
		}
	}

	// MCP: send_input with wait_for, and wait_task with new.
	c := mcpConnect(t, e)
	var a, b twReport
	c.ok("send_input", map[string]any{"task": "py", "text": "print(6*7)", "wait_for": "^42$", "timeout_s": 20}, &a)
	c.ok("send_input", map[string]any{"task": "py", "text": "time.sleep(0.5); print(6*7)", "wait_for": "^42$", "timeout_s": 20}, &b)
	if !a.Matched || !b.Matched || *b.Offset <= *a.Offset || *a.Offset <= *fourth.Offset {
		t.Fatalf("send_input wait_for matched old output: offsets %v then %v (last before: %d)", a.Offset, b.Offset, *fourth.Offset)
	}
	c.ok("read_output", map[string]any{"task": "py", "new": true}, nil)
	c.ok("send_input", map[string]any{"task": "py", "text": "time.sleep(0.5); print(6*7)"}, nil)
	var n twReport
	c.ok("wait_task", map[string]any{"task": "py", "for": "^42$", "new": true, "timeout_s": 20}, &n)
	if !n.Matched || *n.Offset <= *b.Offset {
		t.Fatalf("wait_task new=true matched old output at %v (last seen at %d)", n.Offset, *b.Offset)
	}
	e.must("send", "py", "exit()")
}

// TestTrapWaitNewBackground: a wait_task with since_offset answered with
// a handle (the MCP Tasks extension) looks from the same offset: the line
// before it does not complete the handle, the next one does.
func TestTrapWaitNewBackground(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start("--name", "ticks", "--", "sh", "-c", "echo tick; read x; echo tick; sleep 30")
	first := twDecode(t, "wait", e.must("wait", "ticks", "--for", "^tick$", "--timeout", "20s", "--json"))
	c := rawConnect(t, e)
	h, _ := c.callTool("wait_task", map[string]any{"task": "ticks", "for": "^tick$", "since_offset": *first.Offset + 1, "timeout_s": 30}, true)
	if h.ResultType != "task" || h.Status != "working" {
		t.Fatalf("wait_task since_offset past the only tick: %+v, want a working handle", h)
	}
	e.must("send", "ticks", "go")
	done := c.pollHandle(h.TaskID, 20*time.Second)
	res := decode[toolResult](t, "result", done.Result)
	var r twReport
	mcpDecode(t, res.StructuredContent, &r)
	if !r.Matched || r.Offset == nil || *r.Offset <= *first.Offset {
		t.Fatalf("the background wait matched %+v, want the tick after offset %d", res.StructuredContent, *first.Offset)
	}
	e.must("kill", "ticks")
}
