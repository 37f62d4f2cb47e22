package cli

import (
	"io"

	ucli "github.com/urfave/cli/v2"
)

func screenCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:      "screen",
		Usage:     "print what the task's pane shows now (screen and scrollback)",
		ArgsUsage: "TASK",
		Flags: []ucli.Flag{
			&ucli.IntFlag{Name: "lines", Usage: "only the last N rows"},
			jsonFlag,
		},
		Action: func(c *ucli.Context) error {
			m, t, err := oneTask(c)
			if err != nil {
				return err
			}
			text, err := m.Screen(c.Context, t, c.Int("lines"))
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return writeJSON(stdio.Out, map[string]any{"id": t.ID, "pane": t.Tmux.Pane, "text": text})
			}
			_, err = io.WriteString(stdio.Out, text)
			return err
		},
	}
}
