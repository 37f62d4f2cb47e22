package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bgmux/bgmux/tasks"

	"golang.org/x/term"
)

// progress shows a person at a terminal that a wait is alive: one line on
// stderr, "⏳ 3.2s  <latest output line>", redrawn in place at most ten
// times a second and cleared when the wait ends. Agents (no terminal) and
// --json never see it.
type progress struct {
	w     io.Writer
	width func() int
	// every is the least time between two draws.
	every time.Duration
	last  time.Time
	drawn bool
}

// fder is an output stream backed by a file descriptor (an *os.File).
type fder interface{ Fd() uintptr }

// progressFD decides whether to draw progress on w: only when w is a
// terminal, --json was not given and TERM is not "dumb". It returns the
// terminal's descriptor.
func progressFD(w io.Writer, asJSON bool, env []string, isTerminal func(int) bool) (int, bool) {
	if asJSON {
		return 0, false
	}
	f, ok := w.(fder)
	if !ok {
		return 0, false
	}
	for _, kv := range env {
		if kv == "TERM=dumb" {
			return 0, false
		}
	}
	fd := int(f.Fd())
	if !isTerminal(fd) {
		return 0, false
	}
	return fd, true
}

// newProgress returns the progress line for a wait, or nil when none is
// to be drawn (see progressFD).
func newProgress(stdio IO, asJSON bool) *progress {
	fd, ok := progressFD(stdio.Err, asJSON, stdio.Env, term.IsTerminal)
	if !ok {
		return nil
	}
	// Wait reports about every 100ms; a little slack keeps ticks that come
	// early from being skipped.
	return &progress{w: stdio.Err, every: 90 * time.Millisecond, width: func() int {
		w, _, err := term.GetSize(fd)
		if err != nil || w <= 0 {
			return 80
		}
		return w
	}}
}

// update redraws the line, unless it was drawn less than p.every ago. A
// nil progress does nothing, so callers need not check.
func (p *progress) update(elapsed time.Duration, line string) {
	if p == nil {
		return
	}
	now := time.Now()
	if p.drawn && now.Sub(p.last) < p.every {
		return
	}
	p.last, p.drawn = now, true
	fmt.Fprint(p.w, "\r\x1b[K"+progressText(elapsed, line, p.width()))
}

// clear removes the line, leaving the cursor at the start of it.
func (p *progress) clear() {
	if p == nil || !p.drawn {
		return
	}
	p.drawn = false
	fmt.Fprint(p.w, "\r\x1b[K")
}

// progressText is the progress line fitted to a terminal width columns
// wide (one column is left free so the terminal never wraps).
func progressText(elapsed time.Duration, line string, width int) string {
	head := fmt.Sprintf("⏳ %.1fs", elapsed.Seconds())
	line = strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			return -1
		}
		return r
	}, line)
	if strings.TrimSpace(line) != "" {
		head += "  " + line
	}
	return tasks.TruncateWidth(head, max(width-1, 1), "…")
}
