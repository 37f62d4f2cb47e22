package cli

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	ucli "github.com/urfave/cli/v2"
)

// waitAny is wait --any TASK...: it returns when the current run of the
// first of the tasks ends, printing and exiting as wait does for that
// task.
func (s *waitSpec) waitAny(c *ucli.Context, stdio IO) error {
	if s.re != nil {
		return &usageError{msg: "--any waits for a task to end; it does not go with --for"}
	}
	if c.NArg() == 0 {
		return &usageError{msg: "wait --any needs one or more TASKs (ids, names or id prefixes)"}
	}
	m, err := manager(c)
	if err != nil {
		return err
	}
	ts, err := resolveAll(m, c.Args().Slice())
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := m.WaitAny(ctx, ts, s.timeout)
	if err != nil && ctx.Err() != nil && c.Context.Err() == nil {
		fmt.Fprintln(stdio.Err, "bgmux: interrupted; the tasks go on")
		return exitStatus(statusInterrupted)
	}
	if err != nil {
		return err
	}
	if res.TimedOut {
		names := make([]string, len(ts))
		for i, t := range ts {
			names[i] = t.Name + " (" + t.ID + ")"
		}
		fmt.Fprintf(stdio.Err, "bgmux: timed out after %s; none of %s ended\n", s.timeout, strings.Join(names, ", "))
		if s.asJSON {
			if err := writeJSON(stdio.Out, res.Report()); err != nil {
				return err
			}
		}
		return exitStatus(statusTimeout)
	}
	return s.report(stdio, res, false)
}
