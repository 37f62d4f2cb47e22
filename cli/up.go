package cli

import (
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

func upCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:      "up",
		Usage:     "start the tasks declared in the config file that are not running, dependencies first",
		ArgsUsage: "[NAME...]   (default: every declared task; named ones bring their dependencies)",
		Flags:     []ucli.Flag{jsonFlag},
		Action: func(c *ucli.Context) error {
			return runUpDown(c, stdio, true)
		},
	}
}

func downCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:      "down",
		Usage:     "stop the declared tasks, dependents first",
		ArgsUsage: "[NAME...]   (default: every declared task)",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "grace", Usage: "wait this long before SIGKILL (default 5s, config stop_grace)"},
			jsonFlag,
		},
		Action: func(c *ucli.Context) error {
			return runUpDown(c, stdio, false)
		},
	}
}

// upText is the text line for one task's outcome.
func upText(r tasks.UpResult) string {
	id := ""
	if r.ID != nil {
		id = *r.ID
	}
	switch r.Action {
	case tasks.ActionStarted:
		return fmt.Sprintf("started %s (%s)", r.Name, id)
	case tasks.ActionAlreadyRunning:
		return fmt.Sprintf("already running %s (%s)", r.Name, id)
	case tasks.ActionStopped:
		return fmt.Sprintf("stopped %s (%s) %s", r.Name, id, stateText(r.Task))
	}
	if r.Task != nil {
		return fmt.Sprintf("not running %s (%s) %s", r.Name, id, stateText(r.Task))
	}
	return fmt.Sprintf("not running %s", r.Name)
}

func runUpDown(c *ucli.Context, stdio IO, up bool) error {
	asJSON := c.Bool("json")
	opts := tasks.UpOptions{Names: c.Args().Slice(), Stop: tasks.StopOptions{Grace: -1}}
	if !up && c.IsSet("grace") {
		d, err := tasks.ParseDuration(c.String("grace"))
		if err != nil {
			return err
		}
		opts.Stop.Grace = d
	}
	m, err := manager(c)
	if err != nil {
		return err
	}
	if !asJSON {
		opts.OnTask = func(r tasks.UpResult) { fmt.Fprintln(stdio.Out, upText(r)) }
	}
	var res []tasks.UpResult
	if up {
		res, err = m.Up(c.Context, opts)
	} else {
		res, err = m.Down(c.Context, opts)
	}
	if err != nil {
		return err
	}
	if asJSON {
		if res == nil {
			res = []tasks.UpResult{}
		}
		return writeJSON(stdio.Out, map[string]any{"tasks": res})
	}
	changed := 0
	for _, r := range res {
		if r.Action == tasks.ActionStarted || r.Action == tasks.ActionStopped {
			changed++
		}
	}
	if changed == 0 {
		if up {
			fmt.Fprintf(stdio.Out, "nothing to start: the %d declared task(s) asked for are already running\n", len(res))
		} else {
			fmt.Fprintln(stdio.Out, "nothing to stop: no declared task is running")
		}
	}
	return nil
}
