package cli

import (
	"fmt"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

func stopCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:      "stop",
		Usage:     "signal the task's whole process group; SIGKILL after the grace period",
		ArgsUsage: "TASK",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "signal", Value: "TERM", Usage: "first signal to send (name or number)"},
			&ucli.StringFlag{Name: "grace", Usage: "wait this long before SIGKILL (default 5s, config stop_grace)"},
			jsonFlag,
		},
		Action: func(c *ucli.Context) error { return runStop(c, stdio, c.String("signal")) },
	}
}

func killCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:      "kill",
		Usage:     "stop --signal KILL",
		ArgsUsage: "TASK",
		Flags:     []ucli.Flag{jsonFlag},
		Action:    func(c *ucli.Context) error { return runStop(c, stdio, "KILL") },
	}
}

func runStop(c *ucli.Context, stdio IO, signal string) error {
	if _, _, err := tasks.ParseSignal(signal); err != nil {
		return err
	}
	grace := time.Duration(-1)
	if c.IsSet("grace") {
		d, err := tasks.ParseDuration(c.String("grace"))
		if err != nil {
			return err
		}
		grace = d
	}
	m, t, err := oneTask(c)
	if err != nil {
		return err
	}
	wasLive := !t.State.Finished()
	pending := t.NextRestartAt != nil // between runs, waiting to restart
	t, err = m.Stop(c.Context, t, tasks.StopOptions{Signal: signal, Grace: grace})
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return writeJSON(stdio.Out, t)
	}
	if pending {
		fmt.Fprintf(stdio.Out, "ended the restart policy of %s (%s): it stays %s\n", t.Name, t.ID, stateText(t))
		return nil
	}
	if !wasLive {
		fmt.Fprintf(stdio.Out, "%s (%s) was already %s\n", t.Name, t.ID, stateText(t))
		return nil
	}
	fmt.Fprintf(stdio.Out, "%s (%s) %s\n", t.Name, t.ID, stateText(t))
	return nil
}
