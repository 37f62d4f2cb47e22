package supervisor

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// gatedWriter takes nothing until its gate opens: a pane whose tmux
// server is stopped.
type gatedWriter struct {
	gate chan struct{}
	mu   sync.Mutex
	buf  bytes.Buffer
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	<-g.gate
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.Write(p)
}

// TestPaneSinkDropsOldestAndSays: a pane that takes nothing never holds
// up push; once it takes output again it shows whole lines from where it
// resumed, in order, then one line saying how much it did not show, and
// what it showed plus what it did not is all the output.
func TestPaneSinkDropsOldestAndSays(t *testing.T) {
	g := &gatedWriter{gate: make(chan struct{})}
	s := newPaneSink(g, "web")
	var all bytes.Buffer
	done := make(chan struct{})
	go func() {
		for i := 1; i <= 200000; i++ {
			line := fmt.Sprintf("line %d\r\n", i)
			all.WriteString(line)
			s.push([]byte(line))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("push waited for a pane that takes nothing")
	}
	close(g.gate)
	s.pushNote("[bgmux] exited 0 after 1.0s\r\n")
	s.close(10 * time.Second)
	out := g.buf.String()
	note := regexp.MustCompile(`\r\n\[bgmux\] ([0-9.]+) (B|kB|MB) not shown here; all of it is in: bgmux logs web\r\n`)
	m := note.FindStringSubmatchIndex(out)
	if m == nil {
		t.Fatalf("no note of what was not shown in %d bytes: %q...", len(out), out[:min(len(out), 200)])
	}
	if !strings.HasSuffix(out, "[bgmux] exited 0 after 1.0s\r\n") || m[0] > strings.LastIndex(out, "[bgmux] exited") {
		t.Fatalf("the trailer is not last, after the note: ...%q", out[max(0, len(out)-300):])
	}
	// Before the note: what the pane took before it stalled, from the
	// first line (its last line may be cut by the gap); after it: whole
	// lines up to the last one.
	consecutive := func(part string) (first, last int) {
		lines := strings.Split(strings.TrimSuffix(part, "\r\n"), "\r\n")
		if len(lines) > 1 && !strings.HasSuffix(part, "\r\n") {
			// The pane had begun a line when it stalled: the gap cuts it.
			lines = lines[:len(lines)-1]
		}
		first, err := strconv.Atoi(strings.TrimPrefix(lines[0], "line "))
		if err != nil {
			t.Fatalf("the pane shows a cut line: %q", lines[0])
		}
		for k, l := range lines {
			if l != "line "+strconv.Itoa(first+k) {
				t.Fatalf("shown line %d is %q, want line %d", k, l, first+k)
			}
		}
		return first, first + len(lines) - 1
	}
	before, after := out[:m[0]], out[m[1]:strings.LastIndex(out, "[bgmux] exited")]
	f1, l1 := consecutive(before)
	f2, l2 := consecutive(after)
	if f1 != 1 || l2 != 200000 || f2 <= l1+1 {
		t.Fatalf("shown lines %d..%d, then %d..%d; want from the first, a gap, and on to the last", f1, l1, f2, l2)
	}
	if n := int64(len(after)); n > paneBuffer || n < paneBuffer/2 {
		t.Fatalf("after the gap the pane shows %d bytes; want the most recent output up to the buffer (%d)", n, paneBuffer)
	}
	notShownBytes := int64(all.Len() - len(before) - len(after))
	if got := out[m[2]:m[3]] + " " + out[m[4]:m[5]]; got != humanBytes(notShownBytes) {
		t.Fatalf("the note says %s not shown; %d bytes (%s) were not", got, notShownBytes, humanBytes(notShownBytes))
	}
	var _ io.Writer = g
}
