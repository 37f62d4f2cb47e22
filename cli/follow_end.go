package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/bgmux/bgmux/tasks"
)

// exitLine says how a followed run ended, as the supervisor's trailer
// in the pane does (the log does not hold that trailer):
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
