package cli

import (
	"context"
	"fmt"
	"strconv"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

// startOptions are the parsed flags and command of start.
type startOptions struct {
	tasks.StartOptions
	json bool
	// The raw flags, read into StartOptions when given.
	env, envFile, tag       ucli.StringSlice
	maxRestarts, maxLogSize string
	waitFor, timeout        string
	// wait is --wait-for and --timeout; nil without --wait-for.
	wait *waitSpec
}

func startCommand(stdio IO, runF func(*startOptions) error) *ucli.Command {
	o := &startOptions{}
	return &ucli.Command{
		Name:      "start",
		Usage:     "start a task in its own tmux window",
		ArgsUsage: "-- COMMAND [ARG...]   (one word: a shell command string; several: an argv)",
		Flags: append([]ucli.Flag{
			&ucli.StringFlag{Name: "name", Usage: "task name (default: derived from the command)", Destination: &o.Name},
			&ucli.StringFlag{Name: "group", Usage: "group, i.e. tmux session (default: the git top-level's name)", Destination: &o.Group},
			&ucli.StringFlag{Name: "cwd", Usage: "working directory (default: the current one)", Destination: &o.Cwd},
			&ucli.StringSliceFlag{Name: "env", Usage: "KEY=VALUE for the task's environment, or KEY to pass KEY's value from bgmux's environment (repeatable; a KEY=VALUE is visible in ps while start runs: give secrets as KEY or in --env-file)", Destination: &o.env},
			&ucli.StringSliceFlag{Name: "env-file", Usage: "read the task's environment from FILE: KEY=VALUE lines, # comments, values taken literally (repeatable; --env wins)", Destination: &o.envFile},
			&ucli.StringSliceFlag{Name: "tag", Usage: "tag the task (repeatable)", Destination: &o.tag},
			&ucli.StringFlag{Name: "restart", Value: "never", Usage: "restart policy: never, on-failure or always (backoff 1s doubling to 60s)", Destination: &o.Restart},
			&ucli.StringFlag{Name: "max-restarts", Usage: "stop restarting after N automatic restarts (default: no limit)", Destination: &o.maxRestarts},
			&ucli.StringFlag{Name: "max-log-size", Usage: "keep at most this much output per log file, e.g. 8MiB (default 64MiB, config max_log_size)", Destination: &o.maxLogSize},
			&ucli.BoolFlag{Name: "reuse", Usage: "with --name: if that task is already running in the group and runs the same command (same cwd, env keys), return it instead of failing (\"reused\": true); a task running something else is a conflict", Destination: &o.Reuse},
			jsonFlagTo(&o.json),
		}, startWaitFlags(&o.waitFor, &o.timeout)...),
		Action: func(c *ucli.Context) error {
			if err := o.check(c); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runStart(c.Context, stdio, lazyManager(c), o)
		},
	}
}

// check completes start's options from the flags and arguments given,
// before anything is started.
func (o *startOptions) check(c *ucli.Context) error {
	// An empty value (--name "" from an unset shell variable, say)
	// is a mistake, not a request for the default.
	for _, f := range []string{"name", "group", "cwd"} {
		if c.IsSet(f) && c.String(f) == "" {
			return &usageError{msg: "--" + f + " is empty; give it a value or leave the flag out"}
		}
	}
	// --wait-for and --timeout are checked before anything starts.
	var err error
	if o.wait, err = parseStartWait(c, o.waitFor, o.timeout, o.json); err != nil {
		return err
	}
	if c.IsSet("max-restarts") {
		n, err := strconv.Atoi(o.maxRestarts)
		if err != nil || n < 0 {
			return &usageError{msg: fmt.Sprintf("bad --max-restarts %q; give a whole number, 0 or more", o.maxRestarts)}
		}
		o.MaxRestarts = &n
	}
	if c.IsSet("max-log-size") {
		if o.MaxLogSize, err = tasks.ParseSize(o.maxLogSize); err != nil {
			return err
		}
	}
	if o.Reuse && o.Name == "" {
		return &usageError{msg: "--reuse needs --name: it returns the running task of that name"}
	}
	o.Env, o.EnvFiles, o.Tags = o.env.Value(), o.envFile.Value(), o.tag.Value()
	o.Command = c.Args().Slice()
	return nil
}

// runStart starts the task, and with --wait-for waits for its line.
func runStart(ctx context.Context, stdio IO, getM managerFunc, o *startOptions) error {
	m, err := getM()
	if err != nil {
		return err
	}
	t, err := m.Start(ctx, o.StartOptions)
	if err != nil {
		return err
	}
	if o.wait != nil {
		return o.wait.startAndWait(ctx, stdio, m, t)
	}
	if o.json {
		return writeJSON(stdio.Out, t.Report())
	}
	fmt.Fprintln(stdio.Out, t.ID)
	if t.Reused() {
		// stdout stays the id alone, for id=$(bgmux start ...).
		fmt.Fprintf(stdio.Err, "bgmux: reused the running task %s (%s): it runs what was asked\n", t.Name, t.ID)
	}
	return nil
}
