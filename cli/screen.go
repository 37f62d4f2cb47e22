package cli

import (
	"context"
	"io"

	ucli "github.com/urfave/cli/v2"
)

// screenOptions are the parsed flags and TASK of screen.
type screenOptions struct {
	task  string
	lines int
	json  bool
}

func screenCommand(stdio IO, runF func(*screenOptions) error) *ucli.Command {
	o := &screenOptions{}
	return &ucli.Command{
		Name:      "screen",
		Usage:     "print what the task's pane shows now (screen and scrollback)",
		ArgsUsage: "TASK",
		Flags: []ucli.Flag{
			&ucli.IntFlag{Name: "lines", Usage: "only the last N rows", Destination: &o.lines},
			jsonFlagTo(&o.json),
		},
		Action: func(c *ucli.Context) error {
			var err error
			if o.task, err = oneTaskArg(c); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runScreen(c.Context, stdio, lazyManager(c), o)
		},
	}
}

// runScreen prints what the task's pane shows.
func runScreen(ctx context.Context, stdio IO, getM managerFunc, o *screenOptions) error {
	m, t, err := getTask(getM, o.task)
	if err != nil {
		return err
	}
	text, err := m.Screen(ctx, t, o.lines)
	if err != nil {
		return err
	}
	if o.json {
		return writeJSON(stdio.Out, map[string]any{"id": t.ID, "pane": t.Tmux.Pane, "text": text})
	}
	_, err = io.WriteString(stdio.Out, text)
	return err
}
