package mcp

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bgmux/bgmux/tasks"
)

// addIOTools registers the tools that read, wait on and type into tasks.
func (s *Server) addIOTools() {
	no := false
	addTool(s, &sdk.Tool{
		Name: "read_output",
		Description: "Read a task's output from its log file (complete, beyond the terminal's scrollback), as lines cleaned of terminal escape sequences. " +
			"With new=true you get only the output this session has not read yet, and it is marked read: call it again later to get just what was printed since, so checking on a task is cheap. " +
			"tail gives the last lines, grep filters lines by a regular expression. It returns at once; to wait for a particular line, use wait_task with for. " +
			"The lines are only what the task printed; how it is doing or how it ended is in the result's task (state, exit_code, signal), read before the output, so a finished task's lines are complete.",
		InputSchema:  inputSchema[ReadInput](nil),
		OutputSchema: outputSchema[tasks.LogResult](),
		Annotations:  &sdk.ToolAnnotations{Title: "Read a task's output", ReadOnlyHint: true, OpenWorldHint: &no},
	}, s.readOutput)
	addTool(s, &sdk.Tool{
		Name: "wait_task",
		Description: "Wait for a task instead of sleeping: with for, until a line of its current run's output matches a regular expression (e.g. 'Compiled successfully|ERROR'); without it, until the current run ends (exit_status holds its status). " +
			"Lines printed before the call count, so waiting after you trigger something cannot miss the line; with new=true only output read_output (new=true) has not returned yet counts, with since_offset only lines from that log offset on, so an earlier match cannot be returned again. It returns as soon as the condition holds. " +
			"timeout_s (default 30) bounds the wait: a timeout is an error result, the task keeps running, and calling again is safe. With for, the run ending before any line matched is also an error result.",
		InputSchema:  inputSchema[WaitInput](nil),
		OutputSchema: outputSchema[WaitResult](),
		Annotations:  &sdk.ToolAnnotations{Title: "Wait for a task", ReadOnlyHint: true, OpenWorldHint: &no},
	}, s.waitTask)
	addTool(s, &sdk.Tool{
		Name: "send_input",
		Description: "Type into a task's terminal as a person at the keyboard would: text (followed by Enter unless enter=false or key is given) for a prompt, REPL or interactive program, and/or named keys such as C-c to interrupt it. " +
			"Pass wait_for (a regular expression, e.g. '^42$') to wait in the same call for the answer: only output printed after the text was sent can match, so an earlier answer is never mistaken for it; the result is then wait_task's. " +
			"Otherwise use wait_task with for and new=true, or read_output with new=true, to see the response. A finished task cannot take input.",
		InputSchema:  inputSchema[SendInput](nil),
		OutputSchema: sendSchema(),
		Annotations:  &sdk.ToolAnnotations{Title: "Type into a task", OpenWorldHint: &no},
	}, s.sendInput)
}

// defaultLines bounds read_output when neither tail nor head is given, so
// a long log does not flood the model's context.
const defaultLines = 500

func (s *Server) readOutput(c *call, in ReadInput) (*reply, error) {
	opts := tasks.LogOptions{Tail: in.Tail, Head: in.Head, Grep: in.Grep, Raw: in.Raw, New: in.New, Reader: in.Reader}
	if opts.Tail == 0 && opts.Head == 0 {
		if opts.New {
			opts.Head = defaultLines
		} else {
			opts.Tail = defaultLines
		}
	}
	if opts.New && opts.Reader == "" {
		opts.Reader = s.readerFor(c.req.Session)
	}
	t, err := c.m.Get(in.Task)
	if err != nil {
		return nil, err
	}
	res, err := c.m.Logs(t, opts)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	who := t.Name + " (" + t.ID + ")"
	n := len(res.Lines)
	switch {
	case in.New && n == 0:
		fmt.Fprintf(&b, "No new output from %s since the last read.", who)
	case in.New:
		fmt.Fprintf(&b, "%d new %s of output from %s.", n, plural(n, "line", "lines"), who)
	case n == 0 && in.Grep != "":
		fmt.Fprintf(&b, "No line of output from %s matches /%s/.", who, in.Grep)
	case n == 0:
		fmt.Fprintf(&b, "No output from %s yet.", who)
	default:
		fmt.Fprintf(&b, "%d %s of output from %s.", n, plural(n, "line", "lines"), who)
	}
	if res.More {
		b.WriteString(" More output follows: call read_output again.")
	} else if opts.Tail > 0 && in.Tail == 0 && n == defaultLines {
		fmt.Fprintf(&b, " These are the last %d lines; earlier output is in the log (use grep to search it).", defaultLines)
	}
	if res.Skipped > 0 {
		fmt.Fprintf(&b, " %d bytes were dropped by log rotation (max_log_size) before they were read.", res.Skipped)
	}
	if res.Partial {
		b.WriteString(" The last line has no newline yet.")
	}
	b.WriteString(" Task: " + describe(t) + ".")
	return &reply{summary: b.String(), value: res}, nil
}

func (s *Server) waitTask(c *call, in WaitInput) (*reply, error) {
	w, err := parseWait("for", in.For, in.TimeoutS)
	if err != nil {
		return nil, err
	}
	if err := checkWaitFrom(in, w); err != nil {
		return nil, err
	}
	t, err := c.m.Get(in.Task)
	if err != nil {
		return nil, err
	}
	if w.from, err = s.waitFrom(c, t, in); err != nil {
		return nil, err
	}
	return w.wait(c, t, w.timeout)
}

// checkWaitFrom checks wait_task's new, reader and since_offset.
func checkWaitFrom(in WaitInput, w *waitArgs) error {
	switch {
	case in.Reader != "" && !in.New:
		return tasks.Errorf(tasks.KindInvalid, "reader goes with new=true")
	case (in.New || in.SinceOffset != nil) && w.re == nil:
		return tasks.Errorf(tasks.KindInvalid, "new and since_offset go with for: they choose which output it looks at")
	case in.New && in.SinceOffset != nil:
		return tasks.Errorf(tasks.KindInvalid, "give new or since_offset, not both")
	case in.SinceOffset != nil && *in.SinceOffset < 0:
		return tasks.Errorf(tasks.KindInvalid, "since_offset must be 0 or more (a log offset from read_output or a wait result)")
	}
	return nil
}

// waitFrom is the log offset wait_task's matching line must begin at or
// after: the reader's cursor with new (the session's own by default; it
// is not moved), since_offset, or 0.
func (s *Server) waitFrom(c *call, t *tasks.Task, in WaitInput) (int64, error) {
	switch {
	case in.New:
		reader := in.Reader
		if reader == "" {
			reader = s.readerFor(c.req.Session)
		}
		return c.m.ReaderOffset(t, reader)
	case in.SinceOffset != nil:
		return *in.SinceOffset, nil
	}
	return 0, nil
}

// wait is wait_task's wait on t for at most timeout (the wait's own
// timeout, or what is left of it when a wait is resumed).
func (w *waitArgs) wait(c *call, t *tasks.Task, timeout time.Duration) (*reply, error) {
	res, err := c.m.Wait(c.ctx, t, tasks.WaitOptions{For: w.re, From: w.from, Timeout: timeout, Progress: c.progress()})
	if err != nil {
		if c.ctx.Err() != nil {
			return nil, tasks.Errorf(tasks.KindFailed, "the wait on %s (%s) was cancelled; the task goes on", t.Name, t.ID)
		}
		return nil, err
	}
	return w.reply(res, newWaitResult(res)), nil
}

func (s *Server) sendInput(c *call, in SendInput) (*reply, error) {
	keys := strings.Fields(in.Key)
	if in.Text == "" && len(keys) == 0 {
		return nil, tasks.Errorf(tasks.KindInvalid, "nothing to send: give text to type, or key (e.g. \"C-c\", \"Enter\")")
	}
	for _, k := range keys {
		if err := tasks.ValidateKey(k); err != nil {
			return nil, err
		}
	}
	// Keys follow the text directly: Enter by default only without keys.
	enter := in.Text != "" && (in.Enter == nil && len(keys) == 0 || in.Enter != nil && *in.Enter)
	var w *waitArgs
	switch {
	case in.WaitFor != "":
		var err error
		if w, err = parseWait("wait_for", in.WaitFor, in.TimeoutS); err != nil {
			return nil, err
		}
	case in.TimeoutS != nil:
		return nil, tasks.Errorf(tasks.KindInvalid, "timeout_s goes with wait_for; give both, or leave timeout_s out")
	}
	t, err := c.m.Get(in.Task)
	if err != nil {
		return nil, err
	}
	if w != nil {
		// Only output after this point answers what is sent now.
		if w.from, err = c.m.LogEnd(t); err != nil {
			return nil, err
		}
	}
	if err := c.m.Send(c.ctx, t, tasks.SendOptions{Text: in.Text, Enter: enter, Keys: keys}); err != nil {
		return nil, err
	}
	var what []string
	if in.Text != "" {
		what = append(what, fmt.Sprintf("typed %q", in.Text))
	}
	if enter {
		what = append(what, "pressed Enter")
	}
	if len(keys) > 0 {
		what = append(what, "pressed "+strings.Join(keys, " "))
	}
	if w != nil {
		r, err := w.wait(c, t, w.timeout)
		if err != nil {
			return nil, err
		}
		r.summary = fmt.Sprintf("Sent to %s (%s): %s. ", t.Name, t.ID, strings.Join(what, ", ")) + r.summary
		return r, nil
	}
	return &reply{
		summary: fmt.Sprintf("Sent to %s (%s): %s. See the response with wait_task (for) or read_output (new=true), or pass wait_for next time.", t.Name, t.ID, strings.Join(what, ", ")),
		value:   &SendResult{Sent: true, Task: t},
	}, nil
}

// waitArgs are a checked regular expression and timeout of a wait.
type waitArgs struct {
	re      *regexp.Regexp
	pattern string
	timeout time.Duration
	// from is the log offset a matching line must begin at or after.
	from int64
}

// parseWait checks a wait's regular expression (named field; "" waits
// for the run to end) and timeout_s before anything happens.
func parseWait(field, pattern string, timeoutS *float64) (*waitArgs, error) {
	w := &waitArgs{pattern: pattern}
	if pattern != "" {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return nil, tasks.Errorf(tasks.KindInvalid, "%s %q is not a valid regular expression (RE2 syntax): %v", field, pattern, err)
		}
		w.re = re
	}
	d, err := seconds("timeout_s", timeoutS, defaultWait)
	if err != nil {
		return nil, err
	}
	w.timeout = d
	return w, nil
}

// reply renders the outcome of a wait. A timeout, and a run that ended
// before a line matched, are failures the result still describes.
func (w *waitArgs) reply(res *tasks.WaitResult, v *WaitResult) *reply {
	t := res.Task
	who := t.Name + " (" + t.ID + ")"
	r := &reply{value: v}
	switch {
	case res.Matched:
		r.summary = fmt.Sprintf("%s printed a line matching /%s/ after %.1fs: %q", who, w.pattern, res.Elapsed.Seconds(), res.Line)
		if len(res.Groups) > 0 {
			r.summary += fmt.Sprintf(" (groups: %q)", res.Groups)
		}
		r.summary += "."
	case res.TimedOut && w.re != nil:
		r.failed = true
		again := "Call wait_task again to keep waiting (earlier lines still count)"
		if w.from > 0 {
			// Only output from w.from on counted (send_input's wait_for,
			// new, since_offset): a plain wait_task would match older lines.
			again = fmt.Sprintf("To keep waiting, call wait_task with for and since_offset=%d (only lines from there on count, as in this wait)", w.from)
		}
		r.summary = fmt.Sprintf("Timed out after %s: no output line of %s matched /%s/; the task is %s. %s, pass a larger timeout_s, or look at its output with read_output.", w.timeout, who, w.pattern, t.State, again)
	case res.TimedOut:
		r.failed = true
		r.summary = fmt.Sprintf("Timed out after %s; %s is still %s. Call wait_task again to keep waiting, or pass a larger timeout_s.", w.timeout, who, t.State)
	case w.re != nil:
		r.failed = true
		r.summary = fmt.Sprintf("%s ended (exit status %d) before any line matched /%s/: %s. Look at its output with read_output (tail), fix the cause, then restart_task.", who, res.Status, w.pattern, describe(t))
	default:
		r.summary = fmt.Sprintf("The run ended: %s (exit status %d).", describe(t), res.Status)
	}
	return r
}

// progress reports a wait's progress to a client that asked for it (a
// progress token in the call), at most once a second: some clients extend
// a call's time limit on progress, and cancel a call without it.
func (c *call) progress() func(time.Duration, string) {
	if c.beat == nil {
		return nil
	}
	c.beat.mu.Lock()
	c.beat.own = true
	c.beat.mu.Unlock()
	return func(elapsed time.Duration, line string) {
		msg := fmt.Sprintf("waited %.0fs", elapsed.Seconds())
		if line != "" {
			msg += "; latest output: " + line
		}
		c.beat.send(c, msg, false)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
