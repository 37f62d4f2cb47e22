package cli

import (
	"context"
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

// upOptions are the parsed flags and NAMEs of up and down.
type upOptions struct {
	up bool // up, not down
	// opts is the tasks' selection and down's grace; OnTask is set by
	// the run.
	opts      tasks.UpOptions
	json      bool
	graceFlag string // down's raw --grace
}

func upCommand(stdio IO, runF func(*upOptions) error) *ucli.Command {
	o := &upOptions{up: true}
	return &ucli.Command{
		Name:      "up",
		Usage:     "start the tasks declared in the config file that are not running, dependencies first",
		ArgsUsage: "[NAME...]   (default: every declared task; named ones bring their dependencies)",
		Flags:     []ucli.Flag{jsonFlagTo(&o.json)},
		Action:    func(c *ucli.Context) error { return o.run(c, stdio, runF) },
	}
}

func downCommand(stdio IO, runF func(*upOptions) error) *ucli.Command {
	o := &upOptions{}
	return &ucli.Command{
		Name:      "down",
		Usage:     "stop the declared tasks, dependents first",
		ArgsUsage: "[NAME...]   (default: every declared task)",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "grace", Usage: "wait this long before SIGKILL (default 5s, config stop_grace)", Destination: &o.graceFlag},
			jsonFlagTo(&o.json),
		},
		Action: func(c *ucli.Context) error { return o.run(c, stdio, runF) },
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

// run is the Action of up and down: it checks the options, then runs
// runF or runUpDown.
func (o *upOptions) run(c *ucli.Context, stdio IO, runF func(*upOptions) error) error {
	o.opts = tasks.UpOptions{Names: c.Args().Slice(), Stop: tasks.StopOptions{Grace: -1}}
	if !o.up && c.IsSet("grace") {
		d, err := tasks.ParseDuration(o.graceFlag)
		if err != nil {
			return err
		}
		o.opts.Stop.Grace = d
	}
	if runF != nil {
		return runF(o)
	}
	return runUpDown(c.Context, stdio, lazyManager(c), o)
}

// runUpDown starts (up) or stops (down) the declared tasks, printing
// each as it is done.
func runUpDown(ctx context.Context, stdio IO, getM managerFunc, o *upOptions) error {
	asJSON, up, opts := o.json, o.up, o.opts
	m, err := getM()
	if err != nil {
		return err
	}
	if !asJSON {
		opts.OnTask = func(r tasks.UpResult) { fmt.Fprintln(stdio.Out, upText(r)) }
	}
	var res []tasks.UpResult
	if up {
		res, err = m.Up(ctx, opts)
	} else {
		res, err = m.Down(ctx, opts)
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
