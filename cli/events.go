package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/eventlog"
	"github.com/bgmux/bgmux/tasks"
)

// eventsOptions are the parsed flags of events.
type eventsOptions struct {
	// q is the query; its TaskID is filled from task by the run.
	q            tasks.EventQuery
	task         string
	follow, json bool
	since        string // the raw --since, read into q.Since
}

func eventsCommand(stdio IO, runF func(*eventsOptions) error) *ucli.Command {
	o := &eventsOptions{}
	return &ucli.Command{
		Name:  "events",
		Usage: "what happened to tasks: started, ready, exited, killed, lost, restarting, gave_up, stopped",
		Description: "Reads the durable event log of the state dir (the current group by default; --all every\n" +
			"group; --task one task). --new: only the events this reader has not been given yet (one cursor\n" +
			"per reader and selection; concurrent calls never get the same event). --follow: keep printing\n" +
			"events as they happen until interrupted (with --json one JSON object per line).",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "group", Usage: "events of this group", Destination: &o.q.Group},
			&ucli.BoolFlag{Name: "all", Usage: "events of every group", Destination: &o.q.All},
			&ucli.StringFlag{Name: "task", Usage: "events of this task only (an id, a name or an id prefix)", Destination: &o.task},
			&ucli.BoolFlag{Name: "new", Usage: "only events this reader has not been given yet (moves the reader's cursor)", Destination: &o.q.New},
			&ucli.StringFlag{Name: "reader", Usage: "the reader whose cursor --new uses (default \"default\")", Destination: &o.q.Reader},
			&ucli.StringFlag{Name: "since", Usage: "only events of the last DUR (e.g. 10m)", Destination: &o.since},
			&ucli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep printing events as they happen, until interrupted", Destination: &o.follow},
			jsonFlagTo(&o.json),
		},
		Action: func(c *ucli.Context) error {
			if err := o.check(c); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runEvents(c.Context, stdio, lazyManager(c), o)
		},
	}
}

// runEvents prints the events the options select, or follows them.
func runEvents(ctx context.Context, stdio IO, getM managerFunc, o *eventsOptions) error {
	m, err := getM()
	if err != nil {
		return err
	}
	q := o.q
	if o.task != "" {
		t, err := m.Get(o.task)
		if err != nil {
			return err
		}
		q.TaskID = t.ID
	}
	asJSON := o.json
	if o.follow {
		return followEvents(ctx, stdio, m, q, asJSON)
	}
	res, err := m.Events(q)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(stdio.Out, eventsDoc{Events: orEmpty(res.Events), Skipped: res.Skipped, Dropped: res.Dropped, LastSeq: res.Last})
	}
	eventNotice(stdio.Err, res.Skipped)
	w := bufio.NewWriter(stdio.Out)
	for i := range res.Events {
		writeEventText(w, &res.Events[i], q.All)
	}
	return w.Flush()
}

// eventsDoc is events --json.
type eventsDoc struct {
	Events  []eventlog.Event `json:"events"`
	Skipped int64            `json:"skipped"`
	Dropped int64            `json:"dropped"`
	LastSeq int64            `json:"last_seq"`
}

func orEmpty(v []eventlog.Event) []eventlog.Event {
	if v == nil {
		return []eventlog.Event{}
	}
	return v
}

// check checks events' flags before anything is read.
func (o *eventsOptions) check(c *ucli.Context) error {
	q := &o.q
	if c.NArg() > 0 {
		return &usageError{msg: "events takes no TASK argument; use --task TASK"}
	}
	if c.IsSet("task") && (c.IsSet("group") || q.All) {
		return &usageError{msg: "--task selects one task; leave out --group and --all"}
	}
	if c.IsSet("task") && o.task == "" {
		return &usageError{msg: "--task needs a task (an id, a name or an id prefix)"}
	}
	if c.IsSet("group") && q.All {
		return &usageError{msg: "--group and --all do not go together; give one"}
	}
	if c.IsSet("group") && q.Group == "" {
		return &usageError{msg: "--group needs a group name"}
	}
	if c.IsSet("reader") {
		if !q.New {
			return &usageError{msg: "--reader goes with --new"}
		}
		if q.Reader == "" {
			return &usageError{msg: "--reader needs a name"}
		}
	}
	since, err := parseTime(c.IsSet("since"), o.since)
	if err != nil {
		return err
	}
	if since.set && since.d <= 0 {
		return &usageError{msg: "--since needs a duration above 0, such as 30s or 5m"}
	}
	q.Since = since.d
	return nil
}

// followEvents is events --follow: until SIGINT or SIGTERM (exit 0).
func followEvents(parent context.Context, stdio IO, m *tasks.Manager, q tasks.EventQuery, asJSON bool) error {
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	w := bufio.NewWriter(stdio.Out)
	err := m.FollowEvents(ctx, q, func(e eventlog.Event) error {
		if asJSON {
			if err := writeJSON(w, e); err != nil {
				return err
			}
		} else {
			writeEventText(w, &e, q.All)
		}
		return w.Flush()
	}, func(n int64) error {
		if asJSON {
			if err := writeJSON(w, map[string]int64{"skipped": n}); err != nil {
				return err
			}
			return w.Flush()
		}
		eventNotice(stdio.Err, n)
		return nil
	})
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}

// writeEventText is one event as a line: "12:03:04 web (bg-3f9k2a) exited
// 3 after 2.1s", the group first with --all.
func writeEventText(w io.Writer, e *eventlog.Event, withGroup bool) {
	who := e.Name
	if withGroup {
		who = e.Group + "/" + e.Name
	}
	fmt.Fprintf(w, "%s %s (%s) %s\n", e.Time.Local().Format("15:04:05"), who, e.ID, e.Message)
}

// eventNotice tells on stderr of events rotation dropped unread.
func eventNotice(w io.Writer, skipped int64) {
	if skipped > 0 {
		fmt.Fprintf(w, "bgmux: %d events were dropped by event log rotation before they were read\n", skipped)
	}
}
