package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// waitAny is wait --any TASK...: it returns when the current run of the
// first of the tasks ends, printing and exiting as wait does for that
// task.
func (s *waitSpec) waitAny(parent context.Context, stdio IO, getM managerFunc, refs []string) error {
	m, err := getM()
	if err != nil {
		return err
	}
	ts, err := resolveAll(m, refs)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := m.WaitAny(ctx, ts, s.timeout)
	if err != nil && ctx.Err() != nil && parent.Err() == nil {
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
