package cli

import (
	"fmt"
	"sync"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

func stopCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:      "stop",
		Usage:     "signal each task's whole process group; SIGKILL after the grace period (several TASKs: stopped together)",
		ArgsUsage: "TASK...",
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
		ArgsUsage: "TASK...",
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
	if c.NArg() == 0 {
		return &usageError{msg: c.Command.Name + " needs at least one TASK (an id, a name or an id prefix)"}
	}
	m, err := manager(c)
	if err != nil {
		return err
	}
	// Every TASK is resolved before any is signalled: a bad one stops
	// nothing.
	ts, err := resolveAll(m, c.Args().Slice())
	if err != nil {
		return err
	}
	// Stopped together: the grace periods run at the same time.
	type result struct {
		t       *tasks.Task
		wasLive bool
		pending bool // between runs, waiting to restart
		err     error
	}
	res := make([]result, len(ts))
	var wg sync.WaitGroup
	for i, t := range ts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i].wasLive = !t.State.Finished()
			res[i].pending = t.NextRestartAt != nil
			res[i].t, res[i].err = m.Stop(c.Context, t, tasks.StopOptions{Signal: signal, Grace: grace})
		}()
	}
	wg.Wait()
	var firstErr error
	var done []*tasks.Task
	for _, r := range res {
		if r.err != nil {
			if firstErr == nil {
				firstErr = r.err
			}
			continue
		}
		done = append(done, r.t)
		if c.Bool("json") {
			continue
		}
		switch {
		case r.pending:
			fmt.Fprintf(stdio.Out, "ended the restart policy of %s (%s): it stays %s\n", r.t.Name, r.t.ID, stateText(r.t))
		case !r.wasLive:
			fmt.Fprintf(stdio.Out, "%s (%s) was already %s\n", r.t.Name, r.t.ID, stateText(r.t))
		default:
			fmt.Fprintf(stdio.Out, "%s (%s) %s\n", r.t.Name, r.t.ID, stateText(r.t))
		}
	}
	if firstErr != nil {
		return firstErr
	}
	if c.Bool("json") {
		// One TASK: its task object; several: an array of them.
		if len(ts) == 1 {
			return writeJSON(stdio.Out, done[0])
		}
		return writeJSON(stdio.Out, done)
	}
	return nil
}
