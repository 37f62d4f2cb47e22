package mcp

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestTrapSendInputTimeoutHint: a send_input whose wait_for timed out
// says how to keep waiting without matching output from before the send
// (wait_task with since_offset, the log's end when the text was sent);
// "call wait_task again" alone would return the stale answer at once.
func TestTrapSendInputTimeoutHint(t *testing.T) {
	f := newFixture(t)
	f.ok("start_task", map[string]any{"name": "q", "command": "echo 42; while read l; do echo got; done", "wait_for": "^42$", "timeout_s": 20}, nil)
	var before struct {
		EndOffset int `json:"end_offset"`
	}
	f.ok("read_output", map[string]any{"task": "q"}, &before)
	res := f.call("send_input", map[string]any{"task": "q", "text": "x", "wait_for": "^42$", "timeout_s": 0.5})
	if !res.IsError {
		t.Fatalf("send_input wait_for of a line that never comes: %s", text(res))
	}
	var doc struct {
		Hint string `json:"hint"`
	}
	decode(t, res.StructuredContent, &doc)
	m := regexp.MustCompile(`since_offset=(\d+)`).FindStringSubmatch(doc.Hint)
	if m == nil || !strings.Contains(doc.Hint, "wait_task") {
		t.Fatalf("the timeout's hint does not say how to keep waiting for output after the send (wait_task with since_offset): %q", doc.Hint)
	}
	if off, _ := strconv.Atoi(m[1]); off != before.EndOffset || off == 0 {
		t.Fatalf("hint's since_offset %d, want %d (the log's end when the text was sent)", off, before.EndOffset)
	}
	// Following the hint does not return the stale 42.
	var n float64
	json.Unmarshal([]byte(m[1]), &n)
	res = f.call("wait_task", map[string]any{"task": "q", "for": "^42$", "since_offset": n, "timeout_s": 0.5})
	if !res.IsError {
		t.Fatalf("wait_task since_offset=%v matched output from before the send: %s", n, text(res))
	}
}
