package cli

import (
	"fmt"
	"strconv"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

func startCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:      "start",
		Usage:     "start a task in its own tmux window",
		ArgsUsage: "-- COMMAND [ARG...]   (one word: a shell command string; several: an argv)",
		Flags: append([]ucli.Flag{
			&ucli.StringFlag{Name: "name", Usage: "task name (default: derived from the command)"},
			&ucli.StringFlag{Name: "group", Usage: "group, i.e. tmux session (default: the git top-level's name)"},
			&ucli.StringFlag{Name: "cwd", Usage: "working directory (default: the current one)"},
			&ucli.StringSliceFlag{Name: "env", Usage: "KEY=VALUE for the task's environment, or KEY to pass KEY's value from bgmux's environment (repeatable; a KEY=VALUE is visible in ps while start runs: give secrets as KEY or in --env-file)"},
			&ucli.StringSliceFlag{Name: "env-file", Usage: "read the task's environment from FILE: KEY=VALUE lines, # comments, values taken literally (repeatable; --env wins)"},
			&ucli.StringSliceFlag{Name: "tag", Usage: "tag the task (repeatable)"},
			&ucli.StringFlag{Name: "restart", Value: "never", Usage: "restart policy: never, on-failure or always (backoff 1s doubling to 60s)"},
			&ucli.StringFlag{Name: "max-restarts", Usage: "stop restarting after N automatic restarts (default: no limit)"},
			&ucli.StringFlag{Name: "max-log-size", Usage: "keep at most this much output per log file, e.g. 8MiB (default 64MiB, config max_log_size)"},
			&ucli.BoolFlag{Name: "reuse", Usage: "with --name: if that task is already running in the group and runs the same command (same cwd, env keys), return it instead of failing (\"reused\": true); a task running something else is a conflict"},
			jsonFlag,
		}, startWaitFlags()...),
		Action: func(c *ucli.Context) error {
			// An empty value (--name "" from an unset shell variable, say)
			// is a mistake, not a request for the default.
			for _, f := range []string{"name", "group", "cwd"} {
				if c.IsSet(f) && c.String(f) == "" {
					return &usageError{msg: "--" + f + " is empty; give it a value or leave the flag out"}
				}
			}
			// --wait-for and --timeout are checked before anything starts.
			wait, err := parseStartWait(c)
			if err != nil {
				return err
			}
			m, err := manager(c)
			if err != nil {
				return err
			}
			var maxRestarts *int
			if c.IsSet("max-restarts") {
				n, err := strconv.Atoi(c.String("max-restarts"))
				if err != nil || n < 0 {
					return &usageError{msg: fmt.Sprintf("bad --max-restarts %q; give a whole number, 0 or more", c.String("max-restarts"))}
				}
				maxRestarts = &n
			}
			var maxLog int64
			if c.IsSet("max-log-size") {
				if maxLog, err = tasks.ParseSize(c.String("max-log-size")); err != nil {
					return err
				}
			}
			if c.Bool("reuse") && c.String("name") == "" {
				return &usageError{msg: "--reuse needs --name: it returns the running task of that name"}
			}
			t, err := m.Start(c.Context, tasks.StartOptions{
				MaxRestarts: maxRestarts, MaxLogSize: maxLog, Reuse: c.Bool("reuse"),
				Name: c.String("name"), Group: c.String("group"), Cwd: c.String("cwd"),
				Env: c.StringSlice("env"), EnvFiles: c.StringSlice("env-file"), Tags: c.StringSlice("tag"), Restart: c.String("restart"),
				Command: c.Args().Slice(),
			})
			if err != nil {
				return err
			}
			if wait != nil {
				return wait.startAndWait(c, stdio, m, t)
			}
			if c.Bool("json") {
				return writeJSON(stdio.Out, t.Report())
			}
			fmt.Fprintln(stdio.Out, t.ID)
			if t.Reused() {
				// stdout stays the id alone, for id=$(bgmux start ...).
				fmt.Fprintf(stdio.Err, "bgmux: reused the running task %s (%s): it runs what was asked\n", t.Name, t.ID)
			}
			return nil
		},
	}
}
