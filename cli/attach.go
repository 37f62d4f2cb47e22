package cli

import (
	ucli "github.com/urfave/cli/v2"
)

// attachPlan is attach --print --json's answer: the tmux command as a
// shell line and as the words to exec.
type attachPlan struct {
	Command string   `json:"command"`
	Argv    []string `json:"argv"`
}

func attachCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:      "attach",
		Usage:     "open the task's window in tmux (switches client when already inside the same server)",
		ArgsUsage: "TASK",
		Flags: []ucli.Flag{
			&ucli.BoolFlag{Name: "print", Usage: "print the tmux command instead of running it"},
			&ucli.BoolFlag{Name: "json", Usage: "with --print: print {\"command\": LINE, \"argv\": [...]} (the line to paste, the words to exec)"},
		},
		Action: func(c *ucli.Context) error {
			m, t, err := oneTask(c)
			if err != nil {
				return err
			}
			if c.Bool("print") {
				plan, err := m.AttachCommand(c.Context, t, stdio.Env)
				if err != nil {
					return err
				}
				if c.Bool("json") {
					return writeJSON(stdio.Out, attachPlan{Command: plan.CommandLine(), Argv: plan.Argv})
				}
				_, err = stdio.Out.Write([]byte(plan.CommandLine() + "\n"))
				return err
			}
			if c.Bool("json") {
				return &usageError{msg: "attach --json needs --print: attach itself opens the window and prints nothing"}
			}
			return m.Attach(c.Context, t, stdio.Env, stdio.In, stdio.Out, stdio.Err)
		},
	}
}
