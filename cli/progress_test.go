package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bgmux/bgmux/tasks"
	"golang.org/x/term"
)

func TestProgressOnlyOnATerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	yes := func(int) bool { return true }
	for _, tc := range []struct {
		name   string
		out    any
		json   bool
		env    []string
		isTerm func(int) bool
		want   bool
	}{
		{"buffer", &bytes.Buffer{}, false, nil, yes, false},
		{"pipe", w, false, nil, term.IsTerminal, false},
		{"terminal", w, false, []string{"TERM=xterm-256color"}, yes, true},
		{"terminal with --json", w, true, nil, yes, false},
		{"dumb terminal", w, false, []string{"TERM=dumb"}, yes, false},
	} {
		out := tc.out.(interface{ Write([]byte) (int, error) })
		if _, got := progressFD(out, tc.json, tc.env, tc.isTerm); got != tc.want {
			t.Errorf("%s: progress shown = %v, want %v", tc.name, got, tc.want)
		}
	}
	// The real decision for a pipe: no progress object at all.
	if p := newProgress(IO{Err: w}, false); p != nil {
		t.Fatal("newProgress on a pipe returned a progress line")
	}
	var nilP *progress
	nilP.update(time.Second, "x") // a nil progress is a no-op
	nilP.clear()
}

func TestProgressDraw(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, width: func() int { return 24 }, every: time.Hour}
	p.update(3240*time.Millisecond, "hello\tworld, a long line\x1b")
	got := buf.String()
	if !strings.HasPrefix(got, "\r\x1b[K⏳ 3.2s  hello world") {
		t.Fatalf("first draw %q", got)
	}
	if w := tasks.StringWidth(strings.TrimPrefix(got, "\r\x1b[K")); w > 23 {
		t.Fatalf("drawn %d columns on a 24-column terminal: %q", w, got)
	}
	if !strings.HasSuffix(got, "…") || strings.ContainsAny(strings.TrimPrefix(got, "\r\x1b[K"), "\t\x1b") {
		t.Fatalf("long line not cut or control characters kept: %q", got)
	}
	buf.Reset()
	p.update(3300*time.Millisecond, "next")
	if buf.Len() != 0 {
		t.Fatalf("redrawn within the minimum interval: %q", buf.String())
	}
	p.every = 0
	p.update(4*time.Second, "")
	if buf.String() != "\r\x1b[K⏳ 4.0s" {
		t.Fatalf("draw without a line %q", buf.String())
	}
	buf.Reset()
	p.clear()
	p.clear()
	if buf.String() != "\r\x1b[K" {
		t.Fatalf("clear wrote %q, want one erase", buf.String())
	}
}
