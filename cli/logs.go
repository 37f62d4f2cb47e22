package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

// logsOptions are the parsed flags of logs.
type logsOptions struct {
	tasks.LogOptions
	task         string
	follow, json bool
	// since and sinceOffset are the raw --since and --since-offset,
	// read into LogOptions when given.
	since       string
	sinceOffset int64
}

func logsCommand(stdio IO, runF func(*logsOptions) error) *ucli.Command {
	o := &logsOptions{}
	return &ucli.Command{
		Name:  "logs",
		Usage: "print a task's output from its log file, cleaned of terminal escapes",
		Description: "Without flags: the whole log, each line as a person saw it last (escape sequences removed,\n" +
			"carriage-return overwrites resolved). --new: only what this reader has not read yet.\n" +
			"--json: one document with the lines and end_offset, to pass back as --since-offset.\n" +
			"--follow --json: one JSON object per line ({\"line\",\"offset\"}; {\"skipped\",\"dropped\"} when rotation lost output), then {\"end\":true,\"exit_status\",\"end_offset\",\"task\"}.",
		ArgsUsage: "TASK",
		Flags: []ucli.Flag{
			&ucli.IntFlag{Name: "tail", Usage: "only the last N lines", Destination: &o.Tail},
			&ucli.IntFlag{Name: "head", Usage: "only the first N lines (with --new: the cursor moves past those only)", Destination: &o.Head},
			&ucli.StringFlag{Name: "grep", Usage: "only lines matching this regular expression (Go syntax); nothing is consumed or deleted", Destination: &o.Grep},
			&ucli.IntFlag{Name: "context", Aliases: []string{"C"}, Usage: "with --grep: N lines of context around each match", Destination: &o.Context},
			&ucli.BoolFlag{Name: "new", Usage: "only output this reader has not read yet (moves the reader's cursor)", Destination: &o.New},
			&ucli.StringFlag{Name: "reader", Usage: "the reader whose cursor --new uses (default \"default\")", Destination: &o.Reader},
			&ucli.Int64Flag{Name: "since-offset", Usage: "read from this logical byte offset (the end_offset of an earlier --json read)", Destination: &o.sinceOffset},
			&ucli.StringFlag{Name: "since", Usage: "only output written in the last DUR (e.g. 1m)", Destination: &o.since},
			&ucli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep printing new output until the task's current run ends, then one exit line; the exit status is the task's, as with wait", Destination: &o.follow},
			&ucli.BoolFlag{Name: "raw", Usage: "the bytes as the task wrote them (terminal line endings and escapes kept)", Destination: &o.Raw},
			jsonFlagTo(&o.json),
		},
		Action: func(c *ucli.Context) error {
			if err := o.check(c); err != nil {
				return err
			}
			var err error
			if o.task, err = oneTaskArg(c); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runLogs(c.Context, stdio, lazyManager(c), o)
		},
	}
}

// check completes logs' options from the flags given; the tasks package
// checks how they combine.
func (o *logsOptions) check(c *ucli.Context) error {
	if c.IsSet("grep") && o.Grep == "" {
		return &usageError{msg: "--grep needs a regular expression"}
	}
	if c.IsSet("reader") && o.Reader == "" {
		return &usageError{msg: "--reader needs a name"}
	}
	if c.IsSet("since-offset") {
		v := o.sinceOffset
		o.SinceOffset = &v
	}
	since, err := parseTime(c.IsSet("since"), o.since)
	if err != nil {
		return err
	}
	if since.set && since.d <= 0 {
		return &usageError{msg: "--since needs a duration above 0, such as 30s or 5m"}
	}
	o.Since = since.d
	return nil
}

// runLogs prints the task's log, or follows it.
func runLogs(ctx context.Context, stdio IO, getM managerFunc, opts *logsOptions) error {
	m, t, err := getTask(getM, opts.task)
	if err != nil {
		return err
	}
	if opts.follow {
		if l := t.LogLoss; l != nil && !opts.json {
			fmt.Fprintf(stdio.Err, "bgmux: warning: %s\n", logLossText(l))
		}
		return followLogs(ctx, stdio, m, t, opts)
	}
	res, err := m.Logs(t, opts.LogOptions)
	if err != nil {
		return err
	}
	if opts.json {
		return writeJSON(stdio.Out, res)
	}
	logNotices(stdio.Err, t, res)
	return writeLogText(stdio.Out, res, opts.Raw)
}

// logNotices tells, on stderr, what the text output alone would hide:
// output lost to rotation, and a --since that could not be exact.
func logNotices(w io.Writer, t *tasks.Task, res *tasks.LogResult) {
	if l := res.LogLoss; l != nil {
		fmt.Fprintf(w, "bgmux: warning: %s\n", logLossText(l))
	}
	dropNotice(w, 0, res.Dropped)
	dropNotice(w, res.Skipped, 0)
	if res.SinceExact != nil && !*res.SinceExact {
		fmt.Fprintf(w, "bgmux: task %s has no time index for all of its output; showing its whole log\n", t.ID)
	}
}

// dropNotice prints the stderr line for output rotation dropped: skipped
// bytes this read had not reached, or dropped bytes in all.
func dropNotice(w io.Writer, skipped, dropped int64) {
	if dropped > 0 {
		fmt.Fprintf(w, "bgmux: the log begins at byte %d: %d bytes of older output were dropped by log rotation (max_log_size)\n", dropped, dropped)
	}
	if skipped > 0 {
		fmt.Fprintf(w, "bgmux: %d bytes of output were dropped by log rotation before they were read\n", skipped)
	}
}

// writeLogText prints the lines (grep's "--" between groups that are not
// adjacent), or the raw bytes.
func writeLogText(w io.Writer, res *tasks.LogResult, raw bool) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if raw {
		bw.Write(res.Data)
		return bw.Flush()
	}
	gaps := res.Gaps
	for i, l := range res.Lines {
		if len(gaps) > 0 && gaps[0] == i {
			bw.WriteString("--\n")
			gaps = gaps[1:]
		}
		bw.WriteString(l)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// followLine is one JSON Lines object of logs --follow --json.
type followLine struct {
	Line   string `json:"line"`
	Offset int64  `json:"offset"`
}

// followLost is the JSON Lines object reporting output lost to rotation.
type followLost struct {
	Skipped int64 `json:"skipped"`
	Dropped int64 `json:"dropped"`
}

// followEndDoc is the last JSON Lines object of logs --follow --json:
// End is always true (what tells it from a line object), ExitStatus the
// run's status as wait gives it, EndOffset where to continue reading.
type followEndDoc struct {
	End        bool        `json:"end"`
	ExitStatus int         `json:"exit_status"`
	EndOffset  int64       `json:"end_offset"`
	Task       *tasks.Task `json:"task"`
}

// followLogs streams the task's output until its current run ends, then
// prints how it ended.
func followLogs(ctx context.Context, stdio IO, m *tasks.Manager, t *tasks.Task, o *logsOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	bw := bufio.NewWriterSize(stdio.Out, 64<<10)
	h := tasks.FollowHandler{Idle: bw.Flush}
	midLine := false // raw output so far ends without a newline
	if o.json {
		h.Line = func(l tasks.LogLine) error { return writeJSON(bw, followLine{Line: l.Text, Offset: l.Offset}) }
		h.Lost = func(skipped, dropped int64) error {
			return writeJSON(bw, followLost{Skipped: skipped, Dropped: dropped})
		}
	} else {
		h.Line = func(l tasks.LogLine) error {
			if o.Raw {
				_, err := bw.Write(l.Raw)
				midLine = len(l.Raw) > 0 && l.Raw[len(l.Raw)-1] != '\n'
				return err
			}
			if l.Gap {
				bw.WriteString("--\n")
			}
			bw.WriteString(l.Text)
			return bw.WriteByte('\n')
		}
		told := false
		h.Lost = func(skipped, dropped int64) error {
			bw.Flush()
			if told {
				dropped = 0 // the total was told at the start
			}
			told = true
			dropNotice(stdio.Err, skipped, dropped)
			return nil
		}
	}
	// Each line is printed as it comes: the log holds only the task's
	// output (the supervisor's trailer is not written to it), and how
	// the run ended is printed below, once.
	res, err := m.Follow(ctx, t, o.LogOptions, h)
	if err != nil {
		bw.Flush()
		return err
	}
	if o.json {
		writeJSON(bw, followEndDoc{End: true, ExitStatus: res.Task.ExitStatus(), EndOffset: res.EndOffset, Task: res.Task})
	} else {
		if midLine {
			bw.WriteByte('\n')
		}
		fmt.Fprintf(bw, "[bgmux] %s\n", exitLine(res.Task))
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	// The task's status, as wait gives it.
	if st := res.Task.ExitStatus(); st != 0 {
		return exitStatus(st)
	}
	return nil
}
