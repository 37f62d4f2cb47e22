package cli

import (
	"context"
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

// statusOptions are the parsed flags and TASK of status.
type statusOptions struct {
	task string // empty: list the current group
	json bool
}

func statusCommand(stdio IO, runF func(*statusOptions) error) *ucli.Command {
	o := &statusOptions{}
	return &ucli.Command{
		Name:      "status",
		Usage:     "show one task (without TASK: the same as list)",
		ArgsUsage: "[TASK]",
		Flags:     []ucli.Flag{jsonFlagTo(&o.json)},
		Action: func(c *ucli.Context) error {
			if c.NArg() > 1 {
				return &usageError{msg: "status takes one TASK; use list for several"}
			}
			o.task = c.Args().First()
			if runF != nil {
				return runF(o)
			}
			return runStatus(c.Context, stdio, lazyManager(c), o)
		},
	}
}

// runStatus prints the task, or without one lists the current group.
func runStatus(ctx context.Context, stdio IO, getM managerFunc, o *statusOptions) error {
	if o.task == "" {
		return runList(ctx, stdio, getM, &listOptions{json: o.json})
	}
	_, t, err := getTask(getM, o.task)
	if err != nil {
		return err
	}
	if o.json {
		return writeJSON(stdio.Out, t)
	}
	printTask(stdio.Out, t, termOf(stdio))
	return nil
}

// listOptions are the parsed flags of list.
type listOptions struct {
	tasks.ListOptions
	json bool
}

func listCommand(stdio IO, runF func(*listOptions) error) *ucli.Command {
	o := &listOptions{}
	return &ucli.Command{
		Name:  "list",
		Usage: "list tasks of the current group (--all: every group)",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "group", Usage: "list this group", Destination: &o.Group},
			&ucli.BoolFlag{Name: "all", Usage: "list every group", Destination: &o.All},
			&ucli.StringFlag{Name: "tag", Usage: "only tasks with this tag", Destination: &o.Tag},
			&ucli.StringFlag{Name: "state", Usage: "only tasks in this state (starting, running, exited, killed, lost)", Destination: &o.State},
			jsonFlagTo(&o.json),
		},
		Action: func(c *ucli.Context) error {
			if c.NArg() > 0 {
				return &usageError{msg: "list takes no arguments; use status TASK for one task"}
			}
			if runF != nil {
				return runF(o)
			}
			return runList(c.Context, stdio, lazyManager(c), o)
		},
	}
}

// runList prints the tasks the options select.
func runList(_ context.Context, stdio IO, getM managerFunc, o *listOptions) error {
	m, err := getM()
	if err != nil {
		return err
	}
	opts := o.ListOptions
	ts, warnings, err := m.List(opts)
	if err != nil {
		return err
	}
	printWarnings(stdio.Err, warnings)
	if o.json {
		return writeJSON(stdio.Out, ts)
	}
	if len(ts) == 0 && !opts.All {
		return printNoTasks(stdio, m, opts)
	}
	printTable(stdio.Out, ts, termOf(stdio))
	return nil
}

// printNoTasks says that a list is empty, and where tasks are: a table
// with only its header reads as a failure.
func printNoTasks(stdio IO, m *tasks.Manager, opts tasks.ListOptions) error {
	group := opts.Group
	if group == "" {
		group = m.CurrentGroup()
	}
	if opts.Tag != "" || opts.State != "" {
		fmt.Fprintf(stdio.Out, "no tasks in group %s match\n", group)
		return nil
	}
	all, _, err := m.List(tasks.ListOptions{All: true})
	if err != nil {
		return err
	}
	if len(all) == 0 {
		fmt.Fprintf(stdio.Out, "no tasks in group %s\n", group)
		return nil
	}
	fmt.Fprintf(stdio.Out, "no tasks in group %s; %d in other groups: bgmux list --all\n", group, len(all))
	return nil
}
