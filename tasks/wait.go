package tasks

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// WaitOptions says what Wait waits for.
type WaitOptions struct {
	// For makes Wait return at the first line of the current run's output
	// that matches it, lines printed before the wait began included. Nil
	// waits for the run to end.
	For *regexp.Regexp
	// From, with For, makes Wait look only at lines that begin at or
	// after this logical log offset (a reader's cursor, or the log's end
	// before text was typed): an older line, however well it matches, and
	// the rest of a line From falls inside, do not count. Output before
	// the current run's first byte never counts.
	From int64
	// Timeout bounds the wait; 0 means no limit.
	Timeout time.Duration
	// Tail is how many of the run's last output lines WaitResult.Tail
	// keeps (for a caller that shows why nothing matched).
	Tail int
	// Progress, when set, is called about ten times a second with the
	// time waited so far and the latest output line of the run.
	Progress func(elapsed time.Duration, line string)

	// Ready logs a ready event when a line matches For (start
	// --wait-for and up's ready checks).
	Ready bool

	// For tests: the fallback poll interval, and a hook run after each
	// look at the task.
	poll    time.Duration
	stepped func()
}

// WaitResult is how a wait ended: a match, the end of the run, or the
// timeout. Exactly one of Matched, Ended and TimedOut is set.
type WaitResult struct {
	// Task is the task as it was when the wait ended.
	Task *Task
	// Run is the run number waited on.
	Run int
	// Matched is set when a line matched WaitOptions.For: Line is its
	// text (terminal escapes stripped), Offset the logical log offset of
	// its first byte, Groups the regexp's submatches.
	Matched bool
	Line    string
	Offset  int64
	Groups  []string
	// Ended is set when the run ended (before any line matched, with
	// For); Status is then its shell-style status: the exit code, 128+n
	// for signal n, 1 for a lost task.
	Ended  bool
	Status int
	// TimedOut is set when the timeout passed first.
	TimedOut bool
	// Elapsed is how long the wait took.
	Elapsed time.Duration
	// Tail holds the run's last output lines (WaitOptions.Tail of them).
	Tail []string
}

// Tuning of Wait. File notifications make it react at once; the poll is
// the fallback for a missed notification and for a supervisor that dies
// without touching a file.
const (
	waitPoll         = 200 * time.Millisecond
	waitProgressPoll = 100 * time.Millisecond
	// waitMinGap keeps a task that writes constantly from making the
	// waiter re-read the log after every write.
	waitMinGap = 10 * time.Millisecond
	// waitChunk is the most Wait reads from the log at once, and
	// waitChunksPerStep how many chunks it reads before it looks at the
	// clock and its context again.
	waitChunk         = 1 << 20
	waitChunksPerStep = 8
	// maxWaitLine bounds the unfinished line kept in memory; a longer one
	// is matched on its end.
	maxWaitLine = 1 << 20
	// promptIdle is how long an unfinished line (a prompt such as ">>> "
	// or "Password: ") must stay unchanged before For is tried on it.
	promptIdle = 500 * time.Millisecond
	// progressWindow is how far back from the end of the log a wait
	// without For starts reading, for Progress and Tail.
	progressWindow = 64 << 10
)

// trailerLine matches the trailer a supervisor prints in its pane when a
// run ends. The log writer consumes it (it is not the task's output), but
// logs written by earlier versions, or by a supervisor of an earlier
// version still running, hold it as the last line of each run: For is
// not tried on such a line at the end of a run's output (see held).
var trailerLine = lazyRegexp(`^\[bgmux\] (exited -?\d+ after |killed by |could not start: |stopped; not restarting)`)

// Wait waits on the task's current run: until it ends, or with opts.For
// until a line of its output matches, or until opts.Timeout. It watches
// the task's directory for changes (output, run and exit records) and
// reads the log incrementally from where it left off. A cancelled ctx
// ends the wait with ctx's error.
func (m *Manager) Wait(ctx context.Context, t *Task, opts WaitOptions) (*WaitResult, error) {
	w := &waiter{m: m, id: t.ID, opts: opts, start: time.Now()}
	if opts.Tail > 0 {
		w.tail = make([]string, 0, opts.Tail)
	}
	if fw, err := fsnotify.NewWatcher(); err == nil {
		// Without notifications (inotify instances used up, say) the
		// poll alone drives the wait.
		defer fw.Close()
		if fw.Add(m.Store.TaskDir(t.ID)) == nil {
			w.events, w.watchErrs = fw.Events, fw.Errors
		}
	}
	poll := waitPoll
	if opts.Progress != nil {
		poll = waitProgressPoll
	}
	if opts.poll > 0 {
		poll = opts.poll
	}
	w.tick = time.NewTicker(poll)
	defer w.tick.Stop()
	if opts.Timeout > 0 {
		timer := time.NewTimer(opts.Timeout)
		defer timer.Stop()
		w.timeout = timer.C
	}
	for {
		if res, err := w.step(); res != nil || err != nil {
			return w.finish(res, err)
		}
		if opts.stepped != nil {
			opts.stepped()
		}
		timedOut, err := w.next(ctx)
		if err != nil {
			return nil, err
		}
		if timedOut {
			// One last look, so that what arrived just in time counts.
			if res, err := w.step(); res != nil || err != nil {
				return w.finish(res, err)
			}
			return w.finish(&WaitResult{TimedOut: true}, nil)
		}
	}
}

// next blocks until the next look at the task is due: a change in its
// directory (at most one look per waitMinGap), the poll, or at once while
// a long log is being caught up with. It reports the timeout and returns
// ctx's error when ctx ends.
func (w *waiter) next(ctx context.Context) (timedOut bool, err error) {
	if w.more {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-w.timeout:
			return true, nil
		default:
			return false, nil
		}
	}
	lastStep := time.Now()
	var pending <-chan time.Time // a look deferred by waitMinGap
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-w.timeout:
			return true, nil
		case <-w.tick.C:
			if w.opts.Progress != nil {
				w.opts.Progress(time.Since(w.start), w.latest)
			}
			return false, nil
		case <-pending:
			return false, nil
		case _, ok := <-w.watchErrs:
			// An overflowed queue: the poll catches up.
			if !ok {
				w.watchErrs = nil
			}
		case _, ok := <-w.events:
			switch {
			case !ok:
				w.events = nil
			case pending != nil:
			case time.Since(lastStep) < waitMinGap:
				pending = time.After(waitMinGap - time.Since(lastStep))
			default:
				return false, nil
			}
		}
	}
}

// waiter is the state of one Wait.
type waiter struct {
	m     *Manager
	id    string
	opts  WaitOptions
	start time.Time

	run     int   // the run waited on, 0 until it is known
	logFrom int64 // where the run's output begins
	limit   int64 // where the next run's output begins, -1 while unknown
	lines   lineScanner
	latest  string
	tail    []string
	// held are lines that look like the supervisor's trailer: they are
	// tried against For only if more output follows them.
	held []heldLine
	// more is set when the last step stopped reading before the end of
	// the log (a long backlog is read over several steps).
	more bool

	events    chan fsnotify.Event
	watchErrs chan error
	tick      *time.Ticker
	timeout   <-chan time.Time
}

type heldLine struct {
	text string
	off  int64
}

// step looks at the task once: it adopts the current run, reads the
// output that arrived, and returns a result when the wait is over.
func (w *waiter) step() (*WaitResult, error) {
	t, err := w.m.Store.load(w.id)
	if err == nil && t.State == Lost {
		// The supervisor writes the exit record just before it exits: a
		// second look tells a finished run from a lost one.
		t, err = w.m.Store.load(w.id)
	}
	if err != nil {
		return nil, err
	}
	if w.run == 0 {
		if t.run == nil {
			if t.State.Finished() {
				return w.ended(t), nil
			}
			return nil, nil // not started yet
		}
		if err := w.adopt(t); err != nil {
			return nil, err
		}
	}
	// Decide whether the run has ended before reading: an exit record is
	// written only once the run's output is all in the log.
	ended := t.State == Lost || t.exit != nil && t.exit.Run >= w.run || t.run != nil && t.run.Run > w.run
	if t.run != nil && t.run.Run > w.run {
		w.limit = t.run.LogOffset
	}
	if res, err := w.read(t, ended); res != nil || err != nil || w.more {
		return res, err
	}
	if ended {
		return w.ended(t), nil
	}
	return nil, nil
}

// adopt makes t's current run the one waited on.
func (w *waiter) adopt(t *Task) error {
	w.run, w.logFrom, w.limit = t.run.Run, t.run.LogOffset, -1
	from := w.logFrom
	if w.opts.For != nil && w.opts.From > from {
		from = w.opts.From
		// From inside a line: that line began before it.
		c, err := w.m.Store.Log(w.id).Read(from-1, 1)
		if err != nil {
			return err
		}
		if c.Start == from-1 && len(c.Data) == 1 && c.Data[0] != '\n' {
			w.lines.skipFirst = true
		}
	}
	if w.opts.For == nil {
		if w.opts.Progress == nil && w.opts.Tail == 0 {
			w.lines.off = -1 // output is not needed at all
			return nil
		}
		// Only the latest lines are wanted: skip most of a long log.
		c, err := w.m.Store.Log(w.id).Read(-progressWindow, 1)
		if err != nil {
			return err
		}
		if c.Start > from {
			from = c.Start
			w.lines.skipFirst = true
		}
	}
	w.lines.off = from
	return nil
}

// read consumes the output that arrived since the last step; with final
// set (the run has ended) the unfinished last line counts as a line.
func (w *waiter) read(t *Task, final bool) (*WaitResult, error) {
	w.more = false
	if w.lines.off < 0 {
		return nil, nil
	}
	for chunks := 0; ; chunks++ {
		if chunks == waitChunksPerStep {
			w.more = true
			return nil, nil
		}
		max := int64(waitChunk)
		if w.limit >= 0 {
			if w.lines.off >= w.limit {
				break
			}
			if w.limit-w.lines.off < max {
				max = w.limit - w.lines.off
			}
		}
		c, err := w.m.Store.Log(w.id).Read(w.lines.off, max)
		if err != nil {
			return nil, wrap(err, "wait %s: read the log", w.id)
		}
		if len(c.Data) == 0 {
			break
		}
		if res := w.feed(c); res != nil {
			return res, nil
		}
		if int64(len(c.Data)) < max {
			break
		}
	}
	if final {
		w.held = nil // the trailer of the run that ended
		if line, off, ok := w.lines.flush(); ok {
			if res := w.line(line, off, true); res != nil {
				return res, nil
			}
		}
		return nil, nil
	}
	// A prompt: an unfinished line that has stopped changing.
	if w.opts.For != nil && !w.lines.tried && len(w.lines.partial) > 0 && time.Since(w.lines.grown) >= promptIdle {
		w.lines.tried = true
		text := waitText(w.lines.partial)
		if res := w.match(text, w.lines.partialOff); res != nil {
			return res, nil
		}
	}
	return nil, nil
}

// feed splits a chunk of the log into lines and tries each.
func (w *waiter) feed(c *LogChunk) *WaitResult {
	var res *WaitResult
	w.lines.feed(c, func(line []byte, off int64) bool {
		res = w.line(line, off, false)
		return res == nil
	})
	if len(w.lines.partial) > 0 {
		if s := waitText(w.lines.partial); strings.TrimSpace(s) != "" {
			w.latest = s
		}
	}
	return res
}

// line takes one complete line of the run's output.
func (w *waiter) line(raw []byte, off int64, last bool) *WaitResult {
	text := waitText(raw)
	if strings.TrimSpace(text) != "" {
		w.latest = text
	}
	if w.tail != nil {
		if len(w.tail) == cap(w.tail) {
			copy(w.tail, w.tail[1:])
			w.tail = w.tail[:len(w.tail)-1]
		}
		w.tail = append(w.tail, text)
	}
	if w.opts.For == nil {
		return nil
	}
	if trailerLine().MatchString(text) && !last {
		w.held = append(w.held, heldLine{text, off})
		return nil
	}
	// Output after a trailer-like line: it was the task's own.
	for _, h := range w.held {
		if res := w.match(h.text, h.off); res != nil {
			return res
		}
	}
	w.held = nil
	return w.match(text, off)
}

func (w *waiter) match(text string, off int64) *WaitResult {
	sub := w.opts.For.FindStringSubmatch(text)
	if sub == nil {
		return nil
	}
	return &WaitResult{Matched: true, Line: text, Offset: off, Groups: sub[1:]}
}

// ended is the result for a run that is over.
func (w *waiter) ended(t *Task) *WaitResult {
	res := &WaitResult{Ended: true, Status: 1}
	if t.State == Lost {
		return res
	}
	switch {
	case t.exit != nil && (w.run == 0 || t.exit.Run == w.run):
		res.Status = t.exit.StatusCode()
	default:
		// A later run has replaced ours: find it in the history.
		var hist []Exit
		readJSON(w.m.Store.Path(w.id, HistoryFile), &hist)
		for i := len(hist) - 1; i >= 0; i-- {
			if hist[i].Run == w.run {
				res.Status = hist[i].StatusCode()
				break
			}
		}
	}
	return res
}

// finish completes a result with the task as it is now.
func (w *waiter) finish(res *WaitResult, err error) (*WaitResult, error) {
	if err != nil {
		return nil, err
	}
	t, err := w.m.Get(w.id)
	if err != nil {
		return nil, err
	}
	res.Task, res.Run, res.Elapsed = t, w.run, time.Since(w.start)
	if res.Matched && w.opts.Ready {
		w.m.eventReady(w.id, w.run, res.Line)
	}
	if res.Run == 0 {
		res.Run = t.Runs
	}
	if w.tail != nil {
		res.Tail = append([]string{}, w.tail...)
		if len(w.lines.partial) > 0 && !res.Ended {
			res.Tail = append(res.Tail, waitText(w.lines.partial))
			if len(res.Tail) > w.opts.Tail {
				res.Tail = res.Tail[1:]
			}
		}
	}
	return res, nil
}

// cleanLine is a raw log line as a person would have seen it: escapes
// stripped, carriage-return overwrites resolved, no line terminator.
func waitText(raw []byte) string {
	return strings.TrimRight(CleanText(bytes.TrimSuffix(raw, []byte("\n"))), "\r\n")
}

// lineScanner splits a stream of log chunks into lines, keeping an
// unfinished last line (and any UTF-8 sequence split across chunks)
// until its newline arrives.
type lineScanner struct {
	off        int64 // logical offset of the next byte; -1: not reading
	partial    []byte
	partialOff int64
	grown      time.Time // when partial last changed
	tried      bool      // partial was tried as a prompt
	skipFirst  bool      // drop bytes up to the first newline
}

// feed passes each complete line (with its newline) and its offset to
// fn until fn returns false.
func (s *lineScanner) feed(c *LogChunk, fn func(line []byte, off int64) bool) {
	data := c.Data
	if c.Start != s.off {
		// Rotation dropped bytes we had not read: the line is broken.
		s.partial = s.partial[:0]
	}
	s.off = c.End
	pos := c.Start
	if s.skipFirst {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return
		}
		s.skipFirst = false
		data, pos = data[i+1:], pos+int64(i+1)
	}
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			if len(s.partial) == 0 {
				s.partialOff = pos
			}
			s.partial = append(s.partial, data...)
			if len(s.partial) > maxWaitLine {
				s.partial = append(s.partial[:0], s.partial[len(s.partial)-maxWaitLine/2:]...)
			}
			s.grown, s.tried = time.Now(), false
			return
		}
		line, lineOff := data[:i+1], pos
		if len(s.partial) > 0 {
			line, lineOff = append(s.partial, line...), s.partialOff
		}
		data, pos = data[i+1:], pos+int64(i+1)
		s.partial = s.partial[:0]
		if !fn(line, lineOff) {
			s.off = pos
			return
		}
	}
}

// flush returns the unfinished last line, if any, as a final line.
func (s *lineScanner) flush() ([]byte, int64, bool) {
	if len(s.partial) == 0 {
		return nil, 0, false
	}
	line, off := s.partial, s.partialOff
	s.partial = nil
	return line, off, true
}

// WaitReport is the JSON document of a wait (bgmux wait --json, start
// --wait-for --json, and the MCP wait_task/start_task results): one shape
// for every front end.
type WaitReport struct {
	Matched bool `json:"matched"`
	Timeout bool `json:"timeout"`
	// Ended is set when the run ended first; ExitStatus is then its
	// status: the exit code, 128+n for signal n, 1 for a lost task.
	Ended      bool `json:"ended"`
	ExitStatus *int `json:"exit_status"`
	// Line and Offset are the matched line and where it starts, nil
	// without a match; Groups its submatches ([] when the regexp has
	// none or nothing matched).
	Line   *string  `json:"line"`
	Offset *int64   `json:"offset"`
	Groups []string `json:"groups"`
	// Elapsed is the time waited, in seconds.
	Elapsed float64 `json:"elapsed"`
	// Tail holds the last lines of output when a start's wait did not
	// match; [] otherwise.
	Tail []string `json:"tail"`
	Task *Task    `json:"task"`
}

// Report renders the result as a WaitReport (without Tail, which only
// start's failure report adds).
func (res *WaitResult) Report() *WaitReport {
	v := &WaitReport{Matched: res.Matched, Timeout: res.TimedOut, Ended: res.Ended, Groups: []string{},
		Elapsed: float64(res.Elapsed.Milliseconds()) / 1000, Tail: []string{}, Task: res.Task}
	if res.Groups != nil {
		v.Groups = res.Groups
	}
	if res.Matched {
		line, off := res.Line, res.Offset
		v.Line, v.Offset = &line, &off
	}
	if res.Ended {
		st := res.Status
		v.ExitStatus = &st
	}
	return v
}
