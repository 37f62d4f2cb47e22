package cli

import (
	"context"
	"fmt"

	ucli "github.com/urfave/cli/v2"
)

// doctorOptions are the parsed flags of doctor.
type doctorOptions struct {
	json bool
}

func doctorCommand(stdio IO, runF func(*doctorOptions) error) *ucli.Command {
	o := &doctorOptions{}
	return &ucli.Command{
		Name:  "doctor",
		Usage: "check tmux, its version, the socket and the state directory; say how to fix what is wrong",
		Flags: []ucli.Flag{jsonFlagTo(&o.json)},
		Action: func(c *ucli.Context) error {
			if runF != nil {
				return runF(o)
			}
			return runDoctor(c.Context, stdio, lazyManager(c), o)
		},
	}
}

// runDoctor prints the checks; exit status 1 when one fails.
func runDoctor(ctx context.Context, stdio IO, getM managerFunc, o *doctorOptions) error {
	m, err := getM()
	if err != nil {
		return err
	}
	checks := m.Doctor(ctx)
	ok := true
	for _, ch := range checks {
		ok = ok && ch.OK
	}
	if o.json {
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
}
