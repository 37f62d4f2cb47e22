package cli

import (
	"context"
	"fmt"
	"sync"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

// stopOptions are the parsed flags and TASKs of stop and kill.
type stopOptions struct {
	tasks     []string
	signal    string
	grace     time.Duration // -1: the configured stop_grace
	json      bool
	graceFlag string // the raw --grace
}

func stopCommand(stdio IO, runF func(*stopOptions) error) *ucli.Command {
	o := &stopOptions{}
	return &ucli.Command{
		Name:      "stop",
		Usage:     "signal each task's whole process group; SIGKILL after the grace period (several TASKs: stopped together)",
		ArgsUsage: "TASK...",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "signal", Value: "TERM", Usage: "first signal to send (name or number)", Destination: &o.signal},
			&ucli.StringFlag{Name: "grace", Usage: "wait this long before SIGKILL (default 5s, config stop_grace)", Destination: &o.graceFlag},
			jsonFlagTo(&o.json),
		},
		Action: func(c *ucli.Context) error { return o.run(c, stdio, runF) },
	}
}

func killCommand(stdio IO, runF func(*stopOptions) error) *ucli.Command {
	o := &stopOptions{signal: "KILL"}
	return &ucli.Command{
		Name:      "kill",
		Usage:     "stop --signal KILL",
		ArgsUsage: "TASK...",
		Flags:     []ucli.Flag{jsonFlagTo(&o.json)},
		Action:    func(c *ucli.Context) error { return o.run(c, stdio, runF) },
	}
}

// run is the Action of stop and kill: it checks the options, then runs
// runF or runStop.
func (o *stopOptions) run(c *ucli.Context, stdio IO, runF func(*stopOptions) error) error {
	if err := o.check(c); err != nil {
		return err
	}
	if runF != nil {
		return runF(o)
	}
	return runStop(c.Context, stdio, lazyManager(c), o)
}

// check completes the options from the flags and TASKs given.
func (o *stopOptions) check(c *ucli.Context) error {
	if _, _, err := tasks.ParseSignal(o.signal); err != nil {
		return err
	}
	o.grace = time.Duration(-1)
	if c.IsSet("grace") {
		d, err := tasks.ParseDuration(o.graceFlag)
		if err != nil {
			return err
		}
		o.grace = d
	}
	if c.NArg() == 0 {
		return &usageError{msg: c.Command.Name + " needs at least one TASK (an id, a name or an id prefix)"}
	}
	o.tasks = c.Args().Slice()
	return nil
}

// runStop stops the tasks together and prints how each ended.
func runStop(ctx context.Context, stdio IO, getM managerFunc, o *stopOptions) error {
	m, err := getM()
	if err != nil {
		return err
	}
	// Every TASK is resolved before any is signalled: a bad one stops
	// nothing.
	ts, err := resolveAll(m, o.tasks)
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
			res[i].t, res[i].err = m.Stop(ctx, t, tasks.StopOptions{Signal: o.signal, Grace: o.grace})
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
		if o.json {
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
	if o.json {
		// One TASK: its task object; several: an array of them.
		if len(ts) == 1 {
			return writeJSON(stdio.Out, done[0])
		}
		return writeJSON(stdio.Out, done)
	}
	return nil
}
