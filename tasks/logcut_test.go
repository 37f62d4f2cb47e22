package tasks

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/bgmux/bgmux/tasklog"
)

// cutLine is line k of the logcut tests: 19 bytes with its newline.
func cutLine(k int) string { return fmt.Sprintf("%06d:abcdefghij\n", k) }

// TestAuditRotationAtALineStartKeepsIt: when rotation's boundary falls
// between two lines, the writer records it (prev_line_start) and the
// oldest kept line is shown whole, not dropped as if it had been cut.
func TestAuditRotationAtALineStartKeepsIt(t *testing.T) {
	f := newLogFixture(t)
	w, err := tasklog.OpenWriter(f.m.Store.TaskDir(f.id), MinLogSize)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var b strings.Builder
	for k := 0; k < 600; k++ {
		fmt.Fprintf(&b, "%015d\n", k) // 16 bytes: 256 lines a segment
	}
	w.Append([]byte(b.String()))
	res := f.logs(LogOptions{Head: 1})
	if len(res.Lines) != 1 || res.Lines[0] != fmt.Sprintf("%015d", 256) || res.StartOffset != 4096 || res.Dropped != 4096 || res.Skipped != 4096 {
		t.Fatalf("logs --head 1 after rotation at a line start: %q at %d, dropped %d, skipped %d; want line 256 at 4096",
			res.Lines, res.StartOffset, res.Dropped, res.Skipped)
	}
}

// TestAuditRotationOvertakingAScan: rotation that drops bytes a scan has
// not reached yet, while the scan holds the beginning of a line read in
// the previous chunk, drops that beginning too: the scan passes on whole
// lines only, and what it read plus what it skipped adds up to where it
// stopped.
func TestAuditRotationOvertakingAScan(t *testing.T) {
	f := newLogFixture(t)
	w, err := tasklog.OpenWriter(f.m.Store.TaskDir(f.id), tasklog.ScanChunk)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	next := 0
	write := func(n int64) {
		var b strings.Builder
		for int64(b.Len()) < n {
			b.WriteString(cutLine(next))
			next++
		}
		w.Append([]byte(b.String()))
	}
	write(tasklog.ScanChunk * 3 / 2) // older segment [0, 1 MiB), the first chunk ends inside a line
	whole := regexp.MustCompile(`^[0-9]{6}:abcdefghij\n$`)
	var got int64
	var lost []int64
	first := true
	sc, err := f.m.Store.Log(f.id).Scan(0, func(skipped, dropped int64) bool {
		lost = append(lost, skipped)
		return true
	}, func(l tasklog.Line) bool {
		if !whole.Match(l.Raw) {
			t.Fatalf("scan passed on %q at %d: not a whole line", l.Raw, l.Off)
		}
		if first {
			first = false
			write(tasklog.ScanChunk * 2) // two rotations: the rest of the first chunk's last line is gone
		}
		got += int64(len(l.Raw))
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(lost) != 1 || sc.Skipped != lost[0] || sc.Skipped == 0 {
		t.Fatalf("rotation overtaking the scan: lost reports %v, skipped %d; want one report of what was skipped", lost, sc.Skipped)
	}
	if sc.Start+got+sc.Skipped != sc.Next {
		t.Fatalf("scan from %d: %d bytes of lines + %d skipped != next %d", sc.Start, got, sc.Skipped, sc.Next)
	}
}
