package cli

import (
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

func startCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:      "start",
		Usage:     "start a task in its own tmux window",
		ArgsUsage: "-- COMMAND [ARG...]   (one word: a shell command string; several: an argv)",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "name", Usage: "task name (default: derived from the command)"},
			&ucli.StringFlag{Name: "group", Usage: "group, i.e. tmux session (default: the git top-level's name)"},
			&ucli.StringFlag{Name: "cwd", Usage: "working directory (default: the current one)"},
			&ucli.StringSliceFlag{Name: "env", Usage: "KEY=VALUE for the task's environment (repeatable)"},
			&ucli.StringSliceFlag{Name: "tag", Usage: "tag the task (repeatable)"},
			&ucli.StringFlag{Name: "restart", Value: "never", Usage: "restart policy"},
			jsonFlag,
		},
		Action: func(c *ucli.Context) error {
			// An empty value (--name "" from an unset shell variable, say)
			// is a mistake, not a request for the default.
			for _, f := range []string{"name", "group", "cwd"} {
				if c.IsSet(f) && c.String(f) == "" {
					return &usageError{msg: "--" + f + " is empty; give it a value or leave the flag out"}
				}
			}
			m, err := manager(c)
			if err != nil {
				return err
			}
			t, err := m.Start(c.Context, tasks.StartOptions{
				Name: c.String("name"), Group: c.String("group"), Cwd: c.String("cwd"),
				Env: c.StringSlice("env"), Tags: c.StringSlice("tag"), Restart: c.String("restart"),
				Command: c.Args().Slice(),
			})
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return writeJSON(stdio.Out, t)
			}
			fmt.Fprintln(stdio.Out, t.ID)
			return nil
		},
	}
}
