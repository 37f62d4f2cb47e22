package cli

import (
	"context"

	ucli "github.com/urfave/cli/v2"
)

// attachPlan is attach --print --json's answer: the tmux command as a
// shell line and as the words to exec.
type attachPlan struct {
	Command string   `json:"command"`
	Argv    []string `json:"argv"`
}

// attachOptions are the parsed flags and TASK of attach.
type attachOptions struct {
	task        string
	print, json bool
}

func attachCommand(stdio IO, runF func(*attachOptions) error) *ucli.Command {
	o := &attachOptions{}
	return &ucli.Command{
		Name:      "attach",
		Usage:     "open the task's window in tmux (switches client when already inside the same server)",
		ArgsUsage: "TASK",
		Flags: []ucli.Flag{
			&ucli.BoolFlag{Name: "print", Usage: "print the tmux command instead of running it", Destination: &o.print},
			&ucli.BoolFlag{Name: "json", Usage: "with --print: print {\"command\": LINE, \"argv\": [...]} (the line to paste, the words to exec)", Destination: &o.json},
		},
		Action: func(c *ucli.Context) error {
			var err error
			if o.task, err = oneTaskArg(c); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runAttach(c.Context, stdio, lazyManager(c), o)
		},
	}
}

// runAttach opens the task's window, or prints the tmux command that
// would.
func runAttach(ctx context.Context, stdio IO, getM managerFunc, o *attachOptions) error {
	m, t, err := getTask(getM, o.task)
	if err != nil {
		return err
	}
	if o.print {
		plan, err := m.AttachCommand(ctx, t, stdio.Env)
		if err != nil {
			return err
		}
		if o.json {
			return writeJSON(stdio.Out, attachPlan{Command: plan.CommandLine(), Argv: plan.Argv})
		}
		_, err = stdio.Out.Write([]byte(plan.CommandLine() + "\n"))
		return err
	}
	// Checked once the TASK is known, as before: an unknown TASK is
	// reported first.
	if o.json {
		return &usageError{msg: "attach --json needs --print: attach itself opens the window and prints nothing"}
	}
	return m.Attach(ctx, t, stdio.Env, stdio.In, stdio.Out, stdio.Err)
}
