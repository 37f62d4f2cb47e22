package cli

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/bgmux/bgmux/tasks"
)

// trailerLine matches the supervisor's trailer, the line it prints in the
// pane (and so in the log) when a run ends: "[bgmux] exited 3 after 1.6s".
var trailerLine = regexp.MustCompile(`^\[bgmux\] (exited -?\d+ after |killed by |could not start: )`)

// followEnd holds back the lines that may be the end of a followed run's
// log: blank lines and lines starting "[bgmux] ". Any other line lets
// them through; when the run ends, the supervisor's trailer (and the
// blank line it prints before it) is dropped, so logs --follow ends with
// its own exit line only.
type followEnd struct {
	held  []tasks.LogLine
	write func(tasks.LogLine) error
}

func heldText(l tasks.LogLine) string { return strings.TrimRight(l.Text, "\r") }

// line passes l on, or holds it back.
func (f *followEnd) line(l tasks.LogLine) error {
	if t := heldText(l); t == "" || strings.HasPrefix(t, "[bgmux] ") {
		f.held = append(f.held, l)
		return nil
	}
	if err := f.flush(); err != nil {
		return err
	}
	return f.write(l)
}

func (f *followEnd) flush() error {
	for _, l := range f.held {
		if err := f.write(l); err != nil {
			return err
		}
	}
	f.held = f.held[:0]
	return nil
}

// end drops the trailer from what is held and passes on the rest.
func (f *followEnd) end() error {
	for i := len(f.held) - 1; i >= 0; i-- {
		if trailerLine.MatchString(heldText(f.held[i])) {
			from := i
			if i > 0 && heldText(f.held[i-1]) == "" {
				from = i - 1
			}
			f.held = append(f.held[:from], f.held[i+1:]...)
			break
		}
	}
	return f.flush()
}

// exitLine says how a followed run ended, as the trailer does:
// "exited 3 after 1.6s", "killed SIGTERM after 2m", "lost (supervisor
// gone)", with what the restart policy does next.
func exitLine(t *tasks.Task) string {
	s := stateText(t)
	if t.State != tasks.Lost && t.StartedAt != nil && t.EndedAt != nil {
		d := t.EndedAt.Sub(*t.StartedAt)
		after := d.Round(time.Second).String()
		if d < time.Minute {
			after = fmt.Sprintf("%.1fs", d.Seconds())
		}
		head, rest, _ := strings.Cut(s, ", ")
		s = head + " after " + after
		if rest != "" {
			s += ", " + rest
		}
	}
	return s
}
