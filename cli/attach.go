package cli

import (
	ucli "github.com/urfave/cli/v2"
)

func attachCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:      "attach",
		Usage:     "open the task's window in tmux (switches client when already inside the same server)",
		ArgsUsage: "TASK",
		Flags: []ucli.Flag{
			&ucli.BoolFlag{Name: "print", Usage: "print the tmux command instead of running it"},
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
				_, err = stdio.Out.Write([]byte(plan.CommandLine() + "\n"))
				return err
			}
			return m.Attach(c.Context, t, stdio.Env, stdio.In, stdio.Out, stdio.Err)
		},
	}
}
