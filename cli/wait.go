package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"syscall"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

// Exit statuses of wait (and start --wait-for) beyond a task's own.
const (
	statusTimeout     = 124 // like timeout(1)
	statusInterrupted = 130 // the wait itself got SIGINT
)

// startTailLines is how many of the task's last lines start --wait-for
// shows when nothing matched.
const startTailLines = 20

// waitOptions are the parsed flags and TASKs of wait.
type waitOptions struct {
	anyOf, json bool
	// tasks is the TASK, or with --any the TASKs.
	tasks []string
	// The raw flags: --for, --timeout, --new, --reader, --since-offset.
	pattern, timeout string
	isNew            bool
	reader           string
	sinceOffset      int64
	// spec is the wait they ask for.
	spec *waitSpec
}

func waitCommand(stdio IO, runF func(*waitOptions) error) *ucli.Command {
	o := &waitOptions{}
	return &ucli.Command{
		Name:  "wait",
		Usage: "wait until the task's current run ends (exit status: the task's), or with --for until an output line matches",
		Description: "Without --for, wait returns when the task's current run ends; its exit status is the task's\n" +
			"(128+n for signal n; 1 for a lost task). With --for, it returns 0 and prints the first line of\n" +
			"the current run's output that matches REGEX (lines printed before the wait count too); a task\n" +
			"that ends first gives its own status, or 1 if that was 0. A timeout gives 124.\n" +
			"--new (with --for) looks only at output the reader (--reader, default \"default\") of\n" +
			"logs --new has not read yet, and --since-offset N only at output from log offset N on (an\n" +
			"offset from logs --json or wait --json): an earlier line never matches. wait does not move\n" +
			"the reader's cursor. To type a line and wait for its answer, use send TASK TEXT --wait-for.\n" +
			"With --any TASK..., it returns when the current run of the first of the tasks ends, with that\n" +
			"task's status, and prints (or with --json returns as \"task\") the task that ended.",
		ArgsUsage: "TASK | --any TASK...",
		Flags: []ucli.Flag{
			&ucli.BoolFlag{Name: "any", Usage: "wait until the first of several TASKs ends; print which (its status is wait's)", Destination: &o.anyOf},
			&ucli.StringFlag{Name: "for", Usage: "wait for an output line matching this regular expression (RE2 syntax)", Destination: &o.pattern},
			&ucli.StringFlag{Name: "timeout", Usage: "give up after this long (e.g. 30s, 2m): exit status 124", Destination: &o.timeout},
			&ucli.BoolFlag{Name: "new", Usage: "with --for: only output the reader of logs --new has not read yet (the cursor stays)", Destination: &o.isNew},
			&ucli.StringFlag{Name: "reader", Usage: "with --new: the reader whose cursor it starts from (default \"default\")", Destination: &o.reader},
			&ucli.Int64Flag{Name: "since-offset", Usage: "with --for: only output from this log offset on (from logs --json or wait --json)", Destination: &o.sinceOffset},
			jsonFlagTo(&o.json),
		},
		Action: func(c *ucli.Context) error {
			if err := o.check(c); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runWait(c.Context, stdio, lazyManager(c), o)
		},
	}
}

// check completes wait's options from the flags and arguments given.
func (o *waitOptions) check(c *ucli.Context) error {
	spec, err := parseWait(c, "for", o.pattern, o.timeout, o.json)
	if err != nil {
		return err
	}
	if err := spec.parseFrom(c, o); err != nil {
		return err
	}
	o.spec = spec
	if o.anyOf {
		if spec.fromSet {
			return &usageError{msg: "--new and --since-offset do not go with --any"}
		}
		if spec.re != nil {
			return &usageError{msg: "--any waits for a task to end; it does not go with --for"}
		}
		if c.NArg() == 0 {
			return &usageError{msg: "wait --any needs one or more TASKs (ids, names or id prefixes)"}
		}
		o.tasks = c.Args().Slice()
		return nil
	}
	ref, err := oneTaskArg(c)
	o.tasks = []string{ref}
	return err
}

// runWait waits for the task (or with --any the first of the tasks).
func runWait(ctx context.Context, stdio IO, getM managerFunc, o *waitOptions) error {
	spec := o.spec
	if o.anyOf {
		return spec.waitAny(ctx, stdio, getM, o.tasks)
	}
	m, t, err := getTask(getM, o.tasks[0])
	if err != nil {
		return err
	}
	if spec.newReader != "" {
		if spec.from, err = m.ReaderOffset(t, spec.newReader); err != nil {
			return err
		}
	}
	res, err := spec.wait(ctx, stdio, m, t, 0)
	if err != nil {
		return err
	}
	return spec.report(stdio, res, false)
}

// waitSpec is a parsed --for/--wait-for and --timeout.
type waitSpec struct {
	re      *regexp.Regexp
	pattern string
	timeout time.Duration
	asJSON  bool
	// from is the log offset output must begin at or after to count
	// (--since-offset, --new's cursor, send's log end); fromSet says one
	// of those flags was given, newReader is --new's reader.
	from      int64
	fromSet   bool
	newReader string
}

// parseFrom reads wait's --new, --reader and --since-offset, which need
// --for and exclude each other.
func (s *waitSpec) parseFrom(c *ucli.Context, o *waitOptions) error {
	isNew, since := o.isNew, c.IsSet("since-offset")
	if c.IsSet("reader") && !isNew {
		return &usageError{msg: "--reader goes with --new"}
	}
	if !isNew && !since {
		return nil
	}
	s.fromSet = true
	switch {
	case isNew && since:
		return &usageError{msg: "give --new or --since-offset, not both"}
	case s.re == nil:
		return &usageError{msg: "--new and --since-offset go with --for REGEX: they choose which output it looks at"}
	case since:
		s.from = o.sinceOffset
		if s.from < 0 {
			return &usageError{msg: "--since-offset must be 0 or more (a log offset from logs --json or wait --json)"}
		}
		return nil
	}
	s.newReader = tasks.DefaultReader
	if c.IsSet("reader") {
		s.newReader = o.reader
		if err := tasks.ValidateReader(s.newReader); err != nil {
			return err
		}
	}
	return nil
}

// parseWait validates the regex flag forFlag (its value pattern) and
// --timeout (its value timeout), before anything else happens.
func parseWait(c *ucli.Context, forFlag, pattern, timeout string, asJSON bool) (*waitSpec, error) {
	s := &waitSpec{asJSON: asJSON}
	if c.IsSet(forFlag) {
		s.pattern = pattern
		if s.pattern == "" {
			return nil, &usageError{msg: "--" + forFlag + " is empty; give it a regular expression"}
		}
		re, err := regexp.Compile(s.pattern)
		if err != nil {
			return nil, tasks.Errorf(tasks.KindInvalid, "bad --%s regular expression: %v", forFlag, err)
		}
		s.re = re
	}
	if c.IsSet("timeout") {
		d, err := tasks.ParseDuration(timeout)
		if err != nil {
			return nil, err
		}
		if d <= 0 {
			return nil, &usageError{msg: "--timeout must be more than 0; leave it out to wait without a limit"}
		}
		s.timeout = d
	}
	return s, nil
}

// wait runs tasks.Manager.Wait with a progress line on a terminal and
// SIGINT/SIGTERM ending the wait (not the task).
func (s *waitSpec) wait(parent context.Context, stdio IO, m *tasks.Manager, t *tasks.Task, tail int) (*tasks.WaitResult, error) {
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	p := newProgress(stdio, s.asJSON)
	// start --wait-for (which asks for a tail) is a ready check.
	opts := tasks.WaitOptions{For: s.re, From: s.from, Timeout: s.timeout, Tail: tail, Ready: tail > 0}
	if p != nil {
		opts.Progress = p.update
	}
	res, err := m.Wait(ctx, t, opts)
	p.clear()
	if err != nil && ctx.Err() != nil && parent.Err() == nil {
		fmt.Fprintln(stdio.Err, "bgmux: interrupted; the task goes on")
		return nil, exitStatus(statusInterrupted)
	}
	return res, err
}

// status is bgmux's exit status for a wait result: 0 for a match, 124 for
// a timeout, the task's status when it ended (with --for, 1 in place of 0:
// nothing matched).
func (s *waitSpec) status(res *tasks.WaitResult) int {
	switch {
	case res.Matched:
		return 0
	case res.TimedOut:
		return statusTimeout
	case s.re != nil && res.Status == 0:
		return 1
	}
	return res.Status
}

// report prints the result of a wait and returns the exit status as an
// error (nil for 0). forStart selects start --wait-for's output: the task
// id first, and the last lines of output when nothing matched.
func (s *waitSpec) report(stdio IO, res *tasks.WaitResult, forStart bool) error {
	t := res.Task
	v := res.Report()
	code := s.status(res)
	if forStart && code != 0 && res.Tail != nil {
		v.Tail = res.Tail
	}
	if msg := s.message(res); msg != "" {
		if len(v.Tail) > 0 {
			msg += fmt.Sprintf("; the last %d lines of its output:", len(v.Tail))
		}
		fmt.Fprintln(stdio.Err, "bgmux: "+msg)
		if !s.asJSON {
			for _, l := range v.Tail {
				fmt.Fprintln(stdio.Err, l)
			}
		}
	}
	switch {
	case s.asJSON:
		if err := writeJSON(stdio.Out, v); err != nil {
			return err
		}
	case forStart:
		fmt.Fprintln(stdio.Out, t.ID)
		if res.Matched {
			fmt.Fprintln(stdio.Out, res.Line)
		}
	case res.Matched:
		fmt.Fprintln(stdio.Out, res.Line)
	case res.Ended && s.re == nil:
		fmt.Fprintf(stdio.Out, "%s (%s) %s\n", t.Name, t.ID, stateText(t))
	}
	if code != 0 {
		return exitStatus(code)
	}
	return nil
}

// message explains on stderr a wait that did not succeed; empty when
// there is nothing to explain.
func (s *waitSpec) message(res *tasks.WaitResult) string {
	t := res.Task
	who := "task " + t.Name + " (" + t.ID + ")"
	switch {
	case res.Matched:
		return ""
	case res.TimedOut && s.re != nil:
		msg := fmt.Sprintf("timed out after %s: no output line of %s matched /%s/; the task is %s", s.timeout, who, s.pattern, t.State)
		if s.from > 0 {
			// Only output from s.from on counted (send's answer, --new):
			// a plain wait --for would match older lines.
			msg += fmt.Sprintf("; to keep waiting for a line from there on: bgmux wait %s --for %s --since-offset %d", t.ID, quoteWord(s.pattern), s.from)
		}
		return msg
	case res.TimedOut:
		return fmt.Sprintf("timed out after %s; %s is %s", s.timeout, who, t.State)
	case s.re != nil:
		return fmt.Sprintf("%s %s before any line matched /%s/", who, endedText(t), s.pattern)
	case t.State == tasks.Lost:
		return who + " was lost: its supervisor ended without an exit record (it was killed, the tmux server died, or the host rebooted)"
	}
	return ""
}

// endedText says how a task's run ended: "exited 3", "was killed by
// SIGTERM", "was lost".
func endedText(t *tasks.Task) string {
	switch {
	case t.ExitCode != nil && t.State != tasks.Lost:
		return fmt.Sprintf("exited %d", *t.ExitCode)
	case t.Signal != nil && t.State != tasks.Lost:
		return "was killed by " + *t.Signal
	case t.State == tasks.Lost:
		return "was lost (its supervisor ended without an exit record)"
	}
	return "ended"
}

// startWaitFlags are start's --wait-for and --timeout.
func startWaitFlags(waitFor, timeout *string) []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "wait-for", Usage: "after starting, wait for an output line matching this regular expression; print the task id and the line", Destination: waitFor},
		&ucli.StringFlag{Name: "timeout", Usage: "with --wait-for: give up after this long (exit status 124; the task keeps running)", Destination: timeout},
	}
}

// parseStartWait validates start's --wait-for and --timeout before
// anything is started; nil when --wait-for is not given.
func parseStartWait(c *ucli.Context, waitFor, timeout string, asJSON bool) (*waitSpec, error) {
	if !c.IsSet("wait-for") {
		if c.IsSet("timeout") {
			return nil, &usageError{msg: "--timeout goes with --wait-for; give both or neither"}
		}
		return nil, nil
	}
	return parseWait(c, "wait-for", waitFor, timeout, asJSON)
}

// startAndWait finishes start --wait-for once the task is started.
func (s *waitSpec) startAndWait(ctx context.Context, stdio IO, m *tasks.Manager, t *tasks.Task) error {
	res, err := s.wait(ctx, stdio, m, t, startTailLines)
	if err != nil {
		// The task exists: say which it is before the error.
		if !s.asJSON {
			fmt.Fprintln(stdio.Out, t.ID)
		}
		return err
	}
	return s.report(stdio, res, true)
}
