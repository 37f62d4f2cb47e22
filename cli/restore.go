package cli

import (
	"context"
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

// restoreOptions are the parsed flags of restore.
type restoreOptions struct {
	json bool
}

func restoreCommand(stdio IO, runF func(*restoreOptions) error) *ucli.Command {
	o := &restoreOptions{}
	return &ucli.Command{
		Name:  "restore",
		Usage: "after a reboot or a tmux server loss: record lost tasks and bring back those whose restart policy or autostart says so (safe to run at every login)",
		Flags: []ucli.Flag{jsonFlagTo(&o.json)},
		Action: func(c *ucli.Context) error {
			if c.NArg() > 0 {
				return &usageError{msg: "restore takes no arguments; see bgmux restore --help"}
			}
			if runF != nil {
				return runF(o)
			}
			return runRestore(c.Context, stdio, lazyManager(c), o)
		},
	}
}

// runRestore records lost tasks and brings back those that should run,
// printing what it did to each; exit status 1 when one failed.
func runRestore(ctx context.Context, stdio IO, getM managerFunc, o *restoreOptions) error {
	m, err := getM()
	if err != nil {
		return err
	}
	res, warnings, err := m.Restore(ctx)
	if err != nil {
		return err
	}
	printWarnings(stdio.Err, warnings)
	if o.json {
		return writeJSON(stdio.Out, map[string]any{"tasks": res})
	}
	for _, r := range res {
		switch r.Action {
		case tasks.RestoreRestarted:
			fmt.Fprintf(stdio.Out, "restarted %s (%s) run %d: %s\n", r.Name, r.ID, r.Task.Runs, r.Reason)
		case tasks.RestoreOK:
			fmt.Fprintf(stdio.Out, "ok %s (%s)\n", r.Name, r.ID)
		case tasks.RestoreFinished:
			fmt.Fprintf(stdio.Out, "finished %s (%s): %s\n", r.Name, r.ID, stateText(r.Task))
		default:
			fmt.Fprintf(stdio.Out, "%s %s (%s): %s\n", r.Action, r.Name, r.ID, r.Reason)
		}
	}
	for _, r := range res {
		if r.Action == tasks.RestoreFailed {
			return exitStatus(1)
		}
	}
	return nil
}
