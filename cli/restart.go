package cli

import (
	"fmt"

	ucli "github.com/urfave/cli/v2"
)

func restartCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:      "restart",
		Usage:     "run a task again: same spec, same id, next run number (stops it first if it runs)",
		ArgsUsage: "TASK",
		Flags:     []ucli.Flag{jsonFlag},
		Action: func(c *ucli.Context) error {
			m, t, err := oneTask(c)
			if err != nil {
				return err
			}
			t, err = m.Restart(c.Context, t)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return writeJSON(stdio.Out, t)
			}
			fmt.Fprintf(stdio.Out, "%s (%s) run %d: %s\n", t.Name, t.ID, t.Runs, stateText(t))
			return nil
		},
	}
}
