package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

var jsonFlag = &ucli.BoolFlag{Name: "json", Usage: "print one JSON document instead of text"}

// writeJSON prints v as one JSON document. Invalid UTF-8 in strings is
// replaced (U+FFFD) by the encoder, so the output is always valid UTF-8.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// stateText is the state column: "exited 3", "killed SIGTERM", "running",
// with what the restart policy does next (policyText) or why the task
// is lost: "lost (supervisor gone)".
func stateText(t *tasks.Task) string {
	s := string(t.State)
	switch {
	case t.State == tasks.Exited && t.ExitCode != nil:
		s = fmt.Sprintf("exited %d", *t.ExitCode)
	case t.State == tasks.Killed && t.Signal != nil:
		s = "killed " + *t.Signal
	case t.State == tasks.Lost && t.LostReason != nil:
		s += " (" + *t.LostReason + ")"
	}
	if p := policyText(t, time.Now()); p != "" {
		s += ", " + p
	}
	return s
}

// policyText says what the restart policy of a finished run does:
// "restarting in 4s (3 of 5)", "gave up after 5 restarts", or "".
func policyText(t *tasks.Task, now time.Time) string {
	switch {
	case t.NextRestartAt != nil:
		in := t.NextRestartAt.Sub(now).Round(time.Second)
		if in < 0 {
			in = 0
		}
		n := fmt.Sprint(t.Restarts + 1)
		if t.MaxRestarts != nil {
			n += fmt.Sprintf(" of %d", *t.MaxRestarts)
		}
		return fmt.Sprintf("restarting in %s (%s)", in, n)
	case t.GaveUp:
		return fmt.Sprintf("gave up after %d restarts", t.Restarts)
	}
	return ""
}

// printTable renders tasks as an aligned table.
func printTable(w io.Writer, ts []*tasks.Task) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tGROUP\tSTATE\tPID\tAGE\tCOMMAND")
	now := time.Now()
	for _, t := range ts {
		pid := "-"
		if t.PID != nil && t.State == tasks.Running {
			pid = fmt.Sprint(*t.PID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Group, stateText(t), pid, age(now.Sub(t.CreatedAt)), oneLine(commandText(t), 60))
	}
	tw.Flush()
}

// printTask renders one task for people.
func printTask(w io.Writer, t *tasks.Task) {
	fmt.Fprintf(w, "%s  %s  %s\n", t.ID, t.Name, stateText(t))
	row := func(k, v string) { fmt.Fprintf(w, "  %-8s %s\n", k, v) }
	row("command", oneLine(commandText(t), 200))
	row("group", t.Group)
	row("cwd", t.Cwd)
	if t.PID != nil {
		row("pid", fmt.Sprint(*t.PID))
	}
	if t.StartedAt != nil {
		row("started", t.StartedAt.Local().Format(time.RFC3339)+" ("+age(time.Since(*t.StartedAt))+" ago)")
	}
	if t.EndedAt != nil {
		row("ended", t.EndedAt.Local().Format(time.RFC3339))
	}
	if t.Error != "" {
		row("error", t.Error)
	}
	if len(t.Tags) > 0 {
		row("tags", strings.Join(t.Tags, ","))
	}
	row("log", t.LogPath)
	if t.LogLoss != nil {
		row("warning", logLossText(t.LogLoss))
	}
	row("attach", t.Tmux.Attach)
}

func commandText(t *tasks.Task) string {
	if t.Command != nil {
		return *t.Command
	}
	return tasks.QuoteArgv(t.Argv)
}

// oneLine keeps a command readable in a table: control characters are
// shown escaped and long text is cut.
func oneLine(s string, max int) string {
	q := fmt.Sprintf("%q", s)
	q = q[1 : len(q)-1]
	if strings.ContainsAny(s, "\n\t\r\x1b") || q != s {
		s = q
	}
	if len([]rune(s)) > max {
		s = string([]rune(s)[:max-1]) + "…"
	}
	return s
}

func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// logLossText says what output is missing from a task's log and why.
func logLossText(l *tasks.LogLoss) string {
	what := fmt.Sprintf("%d bytes of output are missing from the log", l.Bytes)
	if l.Dropping {
		what = fmt.Sprintf("output is being dropped (%d bytes so far are missing from the log)", l.Bytes)
	}
	where := fmt.Sprintf("from byte %d on", l.Offset)
	if l.Gaps > 1 {
		where = fmt.Sprintf("in %d gaps from byte %d on (after each the log resumes at a line start)", l.Gaps, l.Offset)
	}
	return fmt.Sprintf("%s %s: writing it failed: %s; free space for the state directory", what, where, l.Reason)
}

// printWarnings shows problems the store met without failing.
func printWarnings(w io.Writer, m *tasks.Manager) {
	for _, msg := range m.Store.Warnings {
		fmt.Fprintln(w, "bgmux: warning: "+msg)
	}
}
