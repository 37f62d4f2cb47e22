package cli

import (
	"context"
	"errors"
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

// rmOptions are the parsed flags and TASKs of rm.
type rmOptions struct {
	tasks       []string
	force, json bool
}

func rmCommand(stdio IO, runF func(*rmOptions) error) *ucli.Command {
	o := &rmOptions{}
	return &ucli.Command{
		Name:      "rm",
		Usage:     "remove finished tasks: window, state and log (--force: running ones too)",
		ArgsUsage: "TASK...",
		Flags: []ucli.Flag{
			&ucli.BoolFlag{Name: "force", Usage: "kill live tasks first", Destination: &o.force},
			jsonFlagTo(&o.json),
		},
		Action: func(c *ucli.Context) error {
			if c.NArg() == 0 {
				return &usageError{msg: "rm needs at least one TASK; use prune to remove every finished task"}
			}
			o.tasks = c.Args().Slice()
			if runF != nil {
				return runF(o)
			}
			return runRm(c.Context, stdio, lazyManager(c), o)
		},
	}
}

// runRm removes the tasks, each resolved before any is removed.
func runRm(ctx context.Context, stdio IO, getM managerFunc, o *rmOptions) error {
	m, err := getM()
	if err != nil {
		return err
	}
	ts, err := resolveAll(m, o.tasks)
	if err != nil {
		return err
	}
	if err := m.Remove(ctx, ts, o.force); err != nil {
		return partlyRemoved(stdio, o.json, err)
	}
	return printRemoved(stdio, o.json, ts)
}

// pruneOptions are the parsed flags of prune.
type pruneOptions struct {
	tasks.PruneOptions
	json      bool
	olderThan string // the raw --older-than, read into OlderThan
}

func pruneCommand(stdio IO, runF func(*pruneOptions) error) *ucli.Command {
	o := &pruneOptions{}
	return &ucli.Command{
		Name:  "prune",
		Usage: "remove finished tasks of the current group (--all: every group)",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "older-than", Usage: "only tasks that ended at least this long ago (e.g. 1h)", Destination: &o.olderThan},
			&ucli.StringFlag{Name: "group", Usage: "prune this group", Destination: &o.Group},
			&ucli.BoolFlag{Name: "all", Usage: "prune every group", Destination: &o.All},
			&ucli.BoolFlag{Name: "dry-run", Usage: "remove nothing: show what would be removed (JSON: {\"would_remove\": [...]})", Destination: &o.DryRun},
			jsonFlagTo(&o.json),
		},
		Action: func(c *ucli.Context) error {
			if c.NArg() > 0 {
				return &usageError{msg: "prune takes no TASK; use rm TASK..."}
			}
			older, err := parseTime(c.IsSet("older-than"), o.olderThan)
			if err != nil {
				return err
			}
			o.OlderThan = older.d
			if runF != nil {
				return runF(o)
			}
			return runPrune(c.Context, stdio, lazyManager(c), o)
		},
	}
}

// runPrune removes (or with --dry-run lists) the finished tasks.
func runPrune(ctx context.Context, stdio IO, getM managerFunc, o *pruneOptions) error {
	m, err := getM()
	if err != nil {
		return err
	}
	ts, warnings, err := m.Prune(ctx, o.PruneOptions)
	printWarnings(stdio.Err, warnings)
	if err != nil {
		return partlyRemoved(stdio, o.json, err)
	}
	if len(ts) == 0 && !o.json {
		fmt.Fprintln(stdio.Out, "nothing to prune: no finished task"+pruneScope(o, m))
		return nil
	}
	if o.DryRun {
		return printWouldRemove(stdio, o.json, ts)
	}
	return printRemoved(stdio, o.json, ts)
}

// partlyRemoved prints, in text, the tasks a failed removal did remove
// before it returns the error (which says the rest).
func partlyRemoved(stdio IO, asJSON bool, err error) error {
	var re *tasks.RemoveError
	if errors.As(err, &re) && !asJSON && len(re.Removed) > 0 {
		printRemoved(stdio, false, re.Removed)
	}
	return err
}

// pruneScope says, after "no finished task", where prune looked.
func pruneScope(o *pruneOptions, m *tasks.Manager) string {
	s := " in group " + m.CurrentGroup()
	switch {
	case o.All:
		s = ""
	case o.Group != "":
		s = " in group " + o.Group
	}
	if o.OlderThan > 0 {
		s += " that ended " + o.OlderThan.String() + " ago or earlier"
	}
	return s
}

// printWouldRemove shows what prune --dry-run found.
func printWouldRemove(stdio IO, asJSON bool, ts []*tasks.Task) error {
	if asJSON {
		if ts == nil {
			ts = []*tasks.Task{}
		}
		return writeJSON(stdio.Out, map[string]any{"would_remove": ts})
	}
	for _, t := range ts {
		fmt.Fprintf(stdio.Out, "would remove %s (%s, %s)\n", t.ID, t.Name, stateText(t))
	}
	return nil
}

func printRemoved(stdio IO, asJSON bool, ts []*tasks.Task) error {
	if asJSON {
		if ts == nil {
			ts = []*tasks.Task{}
		}
		return writeJSON(stdio.Out, map[string]any{"removed": ts})
	}
	for _, t := range ts {
		fmt.Fprintf(stdio.Out, "removed %s (%s)\n", t.ID, t.Name)
	}
	return nil
}
