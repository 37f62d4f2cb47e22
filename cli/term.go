package cli

import (
	"os"
	"strings"

	"github.com/fatih/color"
	"golang.org/x/term"

	"github.com/bgmux/bgmux/tasks"
)

// termInfo is what text output may assume about stdout: colour (only on a
// terminal, never with NO_COLOR set or TERM=dumb) and a width to fit rows
// to (0: none, as for a pipe or a file).
type termInfo struct {
	color bool
	width int
}

// termOf inspects stdio.Out and the caller's environment.
func termOf(stdio IO) termInfo {
	f, ok := stdio.Out.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return termInfo{}
	}
	var tm termInfo
	if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
		tm.width = w
	}
	tm.color = envValue(stdio.Env, "NO_COLOR") == "" && envValue(stdio.Env, "TERM") != "dumb"
	return tm
}

// envValue is KEY's value in env (KEY=VALUE entries), "" when unset.
func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v
		}
	}
	return ""
}

// stateClass is the kind of state a task is in, for its colour.
type stateClass string

const (
	classStarting   stateClass = "starting"
	classRunning    stateClass = "running"
	classRestarting stateClass = "restarting"
	classOK         stateClass = "ok"
	classFailed     stateClass = "failed"
	classKilled     stateClass = "killed"
	classLost       stateClass = "lost"
)

// classOf sorts a task's state into a stateClass: exited 0 is ok, any
// other exit failed, and a finished run waiting to restart restarting.
func classOf(t *tasks.Task) stateClass {
	switch {
	case t.NextRestartAt != nil && t.State.Finished() && t.State != tasks.Lost:
		return classRestarting
	case t.State == tasks.Running:
		return classRunning
	case t.State == tasks.Exited && t.ExitCode != nil && *t.ExitCode == 0:
		return classOK
	case t.State == tasks.Exited:
		return classFailed
	case t.State == tasks.Killed:
		return classKilled
	case t.State == tasks.Lost:
		return classLost
	}
	return classStarting
}

// stateColors are the colours of the state classes; a class not listed
// is printed plain.
var stateColors = map[stateClass][]color.Attribute{
	classRunning:    {color.FgGreen},
	classStarting:   {color.FgCyan},
	classRestarting: {color.FgYellow},
	classOK:         {color.Faint},
	classFailed:     {color.FgRed, color.Bold},
	classKilled:     {color.FgMagenta},
	classLost:       {color.FgYellow, color.Bold},
}

// paint colours s as class c when colour is on.
func (tm termInfo) paint(c stateClass, s string) string {
	attrs, ok := stateColors[c]
	if !tm.color || !ok {
		return s
	}
	col := color.New(attrs...)
	col.EnableColor() // the decision is termOf's, not the library's
	return col.Sprint(s)
}
