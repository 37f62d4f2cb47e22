package cli

import (
	"fmt"

	"github.com/bgmux/bgmux/supervisor"
	"github.com/bgmux/bgmux/tasks"
)

// supervise is the hidden window command: __supervise --state-dir DIR
// [--launch TOKEN] ID (restart passes the token). It is parsed by hand to
// keep the supervisor's start-up small.
func supervise(args []string, stdio IO) int {
	launch := ""
	if len(args) == 5 && args[2] == "--launch" && args[3] != "" {
		launch = args[3]
		args = append(args[:2:2], args[4])
	}
	if len(args) != 3 || args[0] != "--state-dir" {
		fmt.Fprintln(stdio.Err, "bgmux: usage: bgmux "+tasks.SuperviseCommand+" --state-dir DIR [--launch TOKEN] TASK-ID (run by bgmux start, not by hand)")
		return 2
	}
	return supervisor.Supervise(args[1], args[2], launch)
}

// view is the hidden command of a window that shows a task whose own
// window went away: __view --state-dir DIR ID (see tasks.View).
func view(args []string, stdio IO) int {
	if len(args) != 3 || args[0] != "--state-dir" {
		fmt.Fprintln(stdio.Err, "bgmux: usage: bgmux "+tasks.ViewCommand+" --state-dir DIR TASK-ID (run by bgmux attach and restore, not by hand)")
		return 2
	}
	return supervisor.View(args[1], args[2])
}
