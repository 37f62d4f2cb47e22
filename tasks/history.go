package tasks

import (
	"fmt"
	"time"
)

// SuperviseCommand is the hidden subcommand that runs inside each task's
// window: bgmux __supervise --state-dir DIR [--launch TOKEN] ID.
const SuperviseCommand = "__supervise"

// ViewCommand is the hidden subcommand a window runs to show a live task
// whose own window went away (its tmux server was killed, its window
// closed): bgmux __view --state-dir DIR ID.
const ViewCommand = "__view"

// AppendHistory adds ex to the run history hist, replacing an entry of
// the same run (a run is recorded once) and keeping at most maxHistory.
func AppendHistory(hist []Exit, ex Exit) []Exit {
	if n := len(hist); n > 0 && hist[n-1].Run == ex.Run {
		hist = hist[:n-1]
	}
	hist = append(hist, ex)
	if len(hist) > maxHistory {
		hist = hist[len(hist)-maxHistory:]
	}
	return hist
}

// maxHistory bounds the run history kept per task.
const maxHistory = 100

// DescribeExit is the one-line summary shown in the pane and the log.
func DescribeExit(ex *Exit, d time.Duration) string {
	after := " after " + RoundDuration(d)
	switch {
	case ex.Error != "":
		return "could not start: " + ex.Error
	case ex.Signal != nil:
		return "killed by " + *ex.Signal + after
	default:
		return fmt.Sprintf("exited %d%s", *ex.ExitCode, after)
	}
}

// RoundDuration is d as the pane and events show it: tenths of a
// second below a minute, whole seconds above.
func RoundDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}
