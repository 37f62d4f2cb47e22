package tests

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// TestAuditRotationNeverCutsALine (issue 10, item 9): after max_log_size
// dropped the oldest segment, whose end fell in the middle of a line,
// every read that starts where output was dropped begins at the next
// line start, and the rest of the cut line counts as dropped (and as
// skipped for a reader that had not read it): logs from the start
// (--head, text and --json), --new of a reader that fell behind and of a
// new reader, --tail reaching back to the drop, --since, --follow (text
// and --json offsets), and wait --for scanning the run from its start.
func TestAuditRotationNeverCutsALine(t *testing.T) {
	e := newEnv(t)
	g := newGate(t, e.Dir, "gate")
	// 19 bytes a line through the terminal ("%06d:abcdefghij\r\n"); 4096
	// is no multiple of 19, so rotation cuts lines.
	const lineLen = 19
	line := func(k int64) string { return fmt.Sprintf("%06d:abcdefghij", k) }
	loop := `while [ $i -lt %d ]; do printf '%%06d:abcdefghij\n' $i; i=$((i+1)); done`
	script := "i=0; " + fmt.Sprintf(loop, 10) + fmt.Sprintf("; read x < %s; ", g) + fmt.Sprintf(loop, 2000)
	tk := e.start("--name", "cut", "--max-log-size", "4096", "--", script)
	waitLine(t, e, "cut", line(9))
	early := logsJSON(t, e, "--new", "--reader", "early", "cut")
	if early.EndOffset != 10*lineLen || len(early.Lines) != 10 {
		t.Fatalf("first read of reader early: end %d, %d lines; want 190, 10", early.EndOffset, len(early.Lines))
	}
	g.open(t)
	e.waitFinished(tk.ID)

	var meta struct {
		PrevBase int64 `json:"prev_base"`
	}
	scReadSidecar(t, e, tk.ID, "logmeta", &meta)
	p := meta.PrevBase
	if p <= 10*lineLen || p%lineLen == 0 || p%lineLen >= lineLen-2 {
		t.Fatalf("test setup: the oldest kept byte is at %d (%d into a line); want one inside a line's text", p, p%lineLen)
	}
	want := (p/lineLen + 1) * lineLen // the first whole line kept
	first := line(want / lineLen)
	partial := line(p / lineLen)[p%lineLen:]

	check := func(what string, d logsDoc, skipped int64) {
		t.Helper()
		if len(d.Lines) == 0 || d.Lines[0] != first || d.StartOffset != want || d.Dropped != want || d.Skipped != skipped {
			got := ""
			if len(d.Lines) > 0 {
				got = d.Lines[0]
			}
			t.Fatalf("%s: first line %q at %d, dropped %d, skipped %d; want %q at %d, dropped %d, skipped %d (the log's oldest byte is %d)",
				what, got, d.StartOffset, d.Dropped, d.Skipped, first, want, want, skipped, p)
		}
	}
	check("logs --head 1", logsJSON(t, e, "--head", "1", "cut"), want)
	check("logs --since 1h", logsJSON(t, e, "--since", "1h", "cut"), 0)
	check("logs --tail 100000", logsJSON(t, e, "--tail", "100000", "cut"), 0)
	d := logsJSON(t, e, "--new", "--reader", "early", "cut")
	check("logs --new of a reader that fell behind", d, want-early.EndOffset)
	body := bodyLines(d.Lines)
	for i, l := range body {
		if k := want/lineLen + int64(i); l != line(k) {
			t.Fatalf("logs --new: line %d is %q, want %q", i, l, line(k))
		}
	}
	if len(body) != int(2000-want/lineLen) || d.EndOffset != d.Size {
		t.Fatalf("logs --new: %d lines to %d of %d; want %d lines to the end", len(body), d.EndOffset, d.Size, 2000-want/lineLen)
	}
	check("logs --new of a new reader", logsJSON(t, e, "--new", "cut"), want)

	// Text: the first line printed is whole; stderr says where the log begins.
	r := e.run("logs", "--head", "1", "cut")
	if r.Code != 0 || r.Out != first+"\n" || !strings.Contains(r.Err, fmt.Sprintf("the log begins at byte %d:", want)) {
		t.Fatalf("logs --head 1: exit %d, stdout %q, stderr %q; want %q and the log beginning at %d", r.Code, r.Out, r.Err, first, want)
	}
	fol := startFollow(t, e, "cut").rest(t)
	if len(fol) == 0 || fol[0] != first {
		t.Fatalf("logs --follow: first line %q, want %q", fol[:min(len(fol), 1)], first)
	}
	objs := startFollow(t, e, "--json", "cut").rest(t)
	var lost struct {
		Skipped, Dropped int64
	}
	var l struct {
		Line   string `json:"line"`
		Offset int64  `json:"offset"`
	}
	if len(objs) < 2 {
		t.Fatalf("logs --follow --json: %q", objs)
	}
	edgeOneJSON(t, "follow --json lost", objs[0], &lost)
	edgeOneJSON(t, "follow --json first line", objs[1], &l)
	if lost.Skipped != want || lost.Dropped != want || l.Line != first || l.Offset != want {
		t.Fatalf("logs --follow --json begins %s %s; want skipped and dropped %d, then %q at %d", objs[0], objs[1], want, first, want)
	}
	// wait --for scans the run from its start: the cut line's tail is
	// not a line of output.
	re := "^" + regexp.QuoteMeta(partial) + "$"
	if r := e.run("wait", "cut", "--for", re, "--timeout", "20s"); r.Code == 0 {
		t.Fatalf("wait --for %q matched the tail of a cut line: %s", re, r.Out)
	}
}
