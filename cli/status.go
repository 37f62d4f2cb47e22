package cli

import (
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

func statusCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:      "status",
		Usage:     "show one task (without TASK: the same as list)",
		ArgsUsage: "[TASK]",
		Flags:     []ucli.Flag{jsonFlag},
		Action: func(c *ucli.Context) error {
			if c.NArg() == 0 {
				return runList(c, stdio)
			}
			if c.NArg() > 1 {
				return &usageError{msg: "status takes one TASK; use list for several"}
			}
			m, err := manager(c)
			if err != nil {
				return err
			}
			t, err := m.Get(c.Args().First())
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return writeJSON(stdio.Out, t)
			}
			printTask(stdio.Out, t, termOf(stdio))
			return nil
		},
	}
}

func listCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:  "list",
		Usage: "list tasks of the current group (--all: every group)",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "group", Usage: "list this group"},
			&ucli.BoolFlag{Name: "all", Usage: "list every group"},
			&ucli.StringFlag{Name: "tag", Usage: "only tasks with this tag"},
			&ucli.StringFlag{Name: "state", Usage: "only tasks in this state (starting, running, exited, killed, lost)"},
			jsonFlag,
		},
		Action: func(c *ucli.Context) error { return runList(c, stdio) },
	}
}

func runList(c *ucli.Context, stdio IO) error {
	if c.NArg() > 0 && c.Command.Name == "list" {
		return &usageError{msg: "list takes no arguments; use status TASK for one task"}
	}
	m, err := manager(c)
	if err != nil {
		return err
	}
	opts := tasks.ListOptions{}
	if c.Command.Name == "list" {
		opts = tasks.ListOptions{Group: c.String("group"), All: c.Bool("all"), Tag: c.String("tag"), State: c.String("state")}
	}
	ts, warnings, err := m.List(opts)
	if err != nil {
		return err
	}
	printWarnings(stdio.Err, warnings)
	if c.Bool("json") {
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
