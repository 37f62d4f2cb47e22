package cli

import (
	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

func logsCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:      "logs",
		Usage:     "print a task's complete output from its log file",
		ArgsUsage: "TASK",
		Flags: []ucli.Flag{
			&ucli.IntFlag{Name: "tail", Usage: "only the last N lines"},
			&ucli.BoolFlag{Name: "raw", Usage: "the bytes as the task wrote them (terminal line endings and escapes kept)"},
			jsonFlag,
		},
		Action: func(c *ucli.Context) error {
			m, t, err := oneTask(c)
			if err != nil {
				return err
			}
			res, err := m.Logs(t, tasks.LogOptions{Tail: c.Int("tail"), Raw: c.Bool("raw")})
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return writeJSON(stdio.Out, res)
			}
			_, err = stdio.Out.Write(res.Data)
			return err
		},
	}
}

// oneTask builds the manager and resolves the command's single TASK.
func oneTask(c *ucli.Context) (*tasks.Manager, *tasks.Task, error) {
	if c.NArg() != 1 {
		return nil, nil, &usageError{msg: c.Command.Name + " takes exactly one TASK (an id, a name or an id prefix)"}
	}
	m, err := manager(c)
	if err != nil {
		return nil, nil, err
	}
	t, err := m.Get(c.Args().First())
	return m, t, err
}
