package cli

import (
	"context"
	"fmt"

	ucli "github.com/urfave/cli/v2"
)

// restartOptions are the parsed flags and TASK of restart.
type restartOptions struct {
	task string
	json bool
}

func restartCommand(stdio IO, runF func(*restartOptions) error) *ucli.Command {
	o := &restartOptions{}
	return &ucli.Command{
		Name:      "restart",
		Usage:     "run a task again: same spec, same id, next run number (stops it first if it runs)",
		ArgsUsage: "TASK",
		Flags:     []ucli.Flag{jsonFlagTo(&o.json)},
		Action: func(c *ucli.Context) error {
			var err error
			if o.task, err = oneTaskArg(c); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runRestart(c.Context, stdio, lazyManager(c), o)
		},
	}
}

// runRestart runs the task again and prints its new run.
func runRestart(ctx context.Context, stdio IO, getM managerFunc, o *restartOptions) error {
	m, t, err := getTask(getM, o.task)
	if err != nil {
		return err
	}
	t, err = m.Restart(ctx, t)
	if err != nil {
		return err
	}
	if o.json {
		return writeJSON(stdio.Out, t)
	}
	fmt.Fprintf(stdio.Out, "%s (%s) run %d: %s\n", t.Name, t.ID, t.Runs, stateText(t))
	return nil
}
