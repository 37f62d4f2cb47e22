package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

// jsonFlag is the --json flag most commands have; jsonFlagTo binds a
// copy of it to a command's options.
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

// printTable renders tasks as an aligned table. On a terminal (tm) the
// state is coloured and rows are fitted to its width by cutting COMMAND,
// so no row wraps.
func printTable(w io.Writer, ts []*tasks.Task, tm termInfo) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	now := time.Now()
	rows := [][]string{{"ID", "NAME", "GROUP", "STATE", "PID", "RESTARTS", "TIME", "COMMAND"}}
	states := []stateClass{""}
	for _, t := range ts {
		pid := "-"
		if t.PID != nil && t.State == tasks.Running {
			pid = fmt.Sprint(*t.PID)
		}
		rows = append(rows, []string{t.ID, t.Name, t.Group, stateText(t), pid, fmt.Sprint(t.Restarts), timeText(t, now), commandText(t)})
		states = append(states, classOf(t))
	}
	for _, line := range layoutTable(rows, tm.width) {
		if i := line.row; i > 0 && tm.color {
			text := strings.TrimRight(line.cells[3], " ")
			line.cells[3] = tm.paint(states[i], text) + line.cells[3][len(text):]
		}
		bw.WriteString(strings.TrimRight(strings.Join(line.cells, "  "), " ") + "\n")
	}
}

// tableLine is one laid-out row: its cells padded to their columns.
type tableLine struct {
	row   int
	cells []string
}

// layoutTable pads rows into columns two spaces apart; the last column
// (COMMAND) is cut with "…" so a row fits width columns (no limit when
// width is 0). Cells are shown as one line (control characters escaped).
// Cells are padded outside their text, so colouring a cell's text keeps
// the alignment.
func layoutTable(rows [][]string, width int) []tableLine {
	if len(rows) == 0 {
		return nil
	}
	n := len(rows[0])
	widths := make([]int, n)
	for _, r := range rows {
		for i := range r {
			r[i] = oneLine(r[i])
			if i < n-1 {
				widths[i] = max(widths[i], tasks.StringWidth(r[i]))
			}
		}
	}
	fixed := 0
	for _, w := range widths[:n-1] {
		fixed += w + 2
	}
	out := make([]tableLine, 0, len(rows))
	for ri, r := range rows {
		cells := make([]string, n)
		for i, c := range r {
			if i < n-1 {
				cells[i] = c + strings.Repeat(" ", widths[i]-tasks.StringWidth(c))
				continue
			}
			if width > 0 {
				// At least one column of COMMAND ("…") stays visible.
				c = tasks.TruncateWidth(c, max(1, width-fixed), "…")
			}
			cells[i] = c
		}
		out = append(out, tableLine{row: ri, cells: cells})
	}
	return out
}

// printTask renders one task for people.
func printTask(w io.Writer, t *tasks.Task, tm termInfo) {
	state := stateText(t)
	if tm.color {
		state = tm.paint(classOf(t), state)
	}
	fmt.Fprintf(w, "%s  %s  %s\n", t.ID, t.Name, state)
	row := func(k, v string) { fmt.Fprintf(w, "  %-8s %s\n", k, v) }
	cmd := oneLine(commandText(t))
	if tm.width > 11 {
		cmd = tasks.TruncateWidth(cmd, tm.width-11, "…")
	}
	row("command", cmd)
	row("group", t.Group)
	row("cwd", t.Cwd)
	if t.PID != nil {
		row("pid", fmt.Sprint(*t.PID))
	}
	if t.StartedAt != nil {
		row("started", t.StartedAt.Local().Format(time.RFC3339)+" ("+age(time.Since(*t.StartedAt))+" ago)")
	}
	if t.EndedAt != nil {
		row("ended", t.EndedAt.Local().Format(time.RFC3339)+" ("+age(time.Since(*t.EndedAt))+" ago)")
	}
	if t.Restarts > 0 || t.Restart != "never" && t.Restart != "" {
		row("restarts", fmt.Sprintf("%d (policy %s)", t.Restarts, t.Restart))
	}
	if t.Error != nil {
		row("error", *t.Error)
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

// timeText is the TIME column: how long a live task has been up ("up
// 5m"), how long ago a finished one ended ("5m ago").
func timeText(t *tasks.Task, now time.Time) string {
	if t.State.Finished() {
		ended := t.CreatedAt
		if t.EndedAt != nil {
			ended = *t.EndedAt
		} else if t.StartedAt != nil {
			ended = *t.StartedAt
		}
		return age(now.Sub(ended)) + " ago"
	}
	since := t.CreatedAt
	if t.StartedAt != nil {
		since = *t.StartedAt
	}
	return "up " + age(now.Sub(since))
}

// commandText is a task's command as shown to people: an argv with each
// word quoted as a shell needs it (so it can be copied and run), a shell
// string as typed, after "$ " (it is run by sh -c).
func commandText(t *tasks.Task) string {
	if t.Command != nil {
		return "$ " + *t.Command
	}
	words := make([]string, len(t.Argv))
	for i, a := range t.Argv {
		words[i] = quoteWord(a)
	}
	return strings.Join(words, " ")
}

// quoteWord quotes one argv word for a POSIX shell; a word with control
// characters or bytes that are not UTF-8 is written $'...' with escapes,
// so it stays on one line and still reads back as the same word.
func quoteWord(s string) string {
	if !needsEscapes(s) {
		return tasks.QuoteArgv([]string{s})
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case r == '\\' || r == '\'':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString("\\n")
		case r == '\t':
			b.WriteString("\\t")
		case r == '\r':
			b.WriteString("\\r")
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\x%02x", r)
		case unicode.IsControl(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	b.WriteByte('\'')
	return b.String()
}

func needsEscapes(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// oneLine keeps text on one line for a table: control characters and
// bytes that are not UTF-8 are shown escaped (\n, \x1b); everything else,
// quotes and backslashes included, is shown as it is.
func oneLine(s string) string {
	if !needsEscapes(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case unicode.IsControl(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
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

// printWarnings shows problems an operation met without failing.
func printWarnings(w io.Writer, warnings []string) {
	for _, msg := range warnings {
		fmt.Fprintln(w, "bgmux: warning: "+msg)
	}
}
