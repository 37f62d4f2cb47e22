package cli

import (
	"fmt"

	ucli "github.com/urfave/cli/v2"
)

func doctorCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:  "doctor",
		Usage: "check tmux, its version, the socket and the state directory; say how to fix what is wrong",
		Flags: []ucli.Flag{jsonFlag},
		Action: func(c *ucli.Context) error {
			m, err := manager(c)
			if err != nil {
				return err
			}
			checks := m.Doctor(c.Context)
			ok := true
			for _, ch := range checks {
				ok = ok && ch.OK
			}
			if c.Bool("json") {
				if err := writeJSON(stdio.Out, map[string]any{"ok": ok, "checks": checks}); err != nil {
					return err
				}
			} else {
				for _, ch := range checks {
					mark := "ok  "
					if !ch.OK {
						mark = "FAIL"
					}
					fmt.Fprintf(stdio.Out, "%s %-9s %s\n", mark, ch.Name, ch.Detail)
					if ch.Fix != "" {
						fmt.Fprintf(stdio.Out, "     fix: %s\n", ch.Fix)
					}
				}
			}
			if !ok {
				return exitStatus(1)
			}
			return nil
		},
	}
}
