package tasks

import (
	"bytes"
	"regexp"
	"time"

	"github.com/bgmux/bgmux/tasklog"
)

// LogOptions selects what Logs (and Follow) read of a task's output.
//
// Where reading begins: the start of the log, or the reader's cursor
// (New), a logical offset (SinceOffset) or a time (Since); at most one of
// these. Head and Tail then keep the first or last lines of what follows,
// and Grep keeps only matching lines (with Context lines around them).
type LogOptions struct {
	// Head keeps only the first Head lines; 0 means all.
	Head int
	// Tail keeps only the last Tail lines; 0 means all. Without Grep only
	// the end of the log is read.
	Tail int
	// Raw returns the bytes as written instead of cleaned lines.
	Raw bool
	// Grep is a regular expression (Go syntax) a line must match; it is
	// matched against the cleaned line, also in Raw mode.
	Grep string
	// Context is the number of lines shown before and after each match.
	Context int
	// New reads from where Reader's last New read stopped and moves that
	// reader's cursor to the end of what it returns.
	New bool
	// Reader names the cursor of New; empty means DefaultReader.
	Reader string
	// SinceOffset, when set, reads from that logical offset (an
	// end_offset returned earlier).
	SinceOffset *int64
	// Since, when above 0, reads what was written in the last Since, by
	// the time index output.idx.
	Since time.Duration
}

// LogResult is what Logs read: the selected lines and where they lie in
// the log's logical offsets (see logfile.go).
type LogResult struct {
	ID      string `json:"id"`
	LogPath string `json:"log_path"`
	// Size is the logical end of the log: every byte the task has written
	// so far, including what rotation dropped.
	Size int64 `json:"size"`
	// StartOffset is where the returned output begins.
	StartOffset int64 `json:"start_offset"`
	// EndOffset is where to continue (--since-offset) so that nothing is
	// read twice or missed. It never splits a line: a last line still
	// being written is left for the next read unless the task has
	// finished.
	EndOffset int64 `json:"end_offset"`
	// Skipped counts bytes between the requested start and StartOffset
	// that rotation dropped before they were read.
	Skipped int64 `json:"skipped"`
	// Dropped counts every byte the log has lost to rotation, the rest of
	// a line it cut included: the offset of the oldest line kept whole.
	Dropped int64 `json:"dropped"`
	// LogLoss, when set, says that output is missing from the log because
	// writing it failed (a full disk): the log is not complete.
	LogLoss *LogLoss `json:"log_loss"`
	// Reader is the cursor's reader with New, nil without.
	Reader *string `json:"reader"`
	// SinceExact is set with Since: false when the task has no time index
	// and the whole log was read instead; nil without Since.
	SinceExact *bool `json:"since_exact"`
	// Partial reports that the last line has no newline yet.
	Partial bool `json:"partial"`
	// More reports that Head stopped before the end of the output.
	More  bool     `json:"more"`
	Lines []string `json:"lines"`
	// Task is the task as it was just before the log was read (its state,
	// exit_code or signal, next_restart_at...): how its run ended is
	// reported here, never as a line of output. A finished task's log is
	// complete: its exit is recorded only once all its output is in the
	// log.
	Task *Task `json:"task"`
	// Offsets holds, with Grep, the logical offset of each line (to read
	// around a match later with SinceOffset); nil without Grep.
	Offsets []int64 `json:"offsets"`
	// Gaps lists the indexes of Lines that follow lines Grep left out
	// (where grep prints "--").
	Gaps []int `json:"-"`
	// Data is the raw bytes of the selected lines, newlines included
	// (Raw mode only). With New or SinceOffset and no filter it is exactly
	// the log's bytes from StartOffset to EndOffset.
	Data []byte `json:"-"`
}

// logQuery is a validated LogOptions.
type logQuery struct {
	LogOptions
	re     *regexp.Regexp
	follow bool
}

func (o LogOptions) compile(follow bool) (*logQuery, error) {
	q := &logQuery{LogOptions: o, follow: follow}
	switch {
	case o.Head < 0:
		return nil, Errorf(KindInvalid, "--head must be 0 or more, not %d", o.Head)
	case o.Tail < 0:
		return nil, Errorf(KindInvalid, "--tail must be 0 or more, not %d", o.Tail)
	case o.Context < 0:
		return nil, Errorf(KindInvalid, "--context (-C) must be 0 or more, not %d", o.Context)
	case o.Head > 0 && o.Tail > 0:
		return nil, Errorf(KindInvalid, "--head and --tail cannot be combined; use one")
	case o.Head > 0 && follow:
		return nil, Errorf(KindInvalid, "--head cannot be combined with --follow; use --tail to start following from the last lines")
	case o.Context > 0 && o.Grep == "":
		return nil, Errorf(KindInvalid, "--context (-C) needs --grep")
	case o.Reader != "" && !o.New:
		return nil, Errorf(KindInvalid, "--reader needs --new")
	case o.SinceOffset != nil && *o.SinceOffset < 0:
		return nil, Errorf(KindInvalid, "--since-offset must be 0 or more, not %d", *o.SinceOffset)
	case o.Since < 0:
		return nil, Errorf(KindInvalid, "--since must be a positive duration")
	}
	starts := 0
	for _, set := range []bool{o.New, o.SinceOffset != nil, o.Since > 0} {
		if set {
			starts++
		}
	}
	if starts > 1 {
		return nil, Errorf(KindInvalid, "--new, --since-offset and --since each say where to start reading; use only one")
	}
	if o.New {
		if q.Reader == "" {
			q.Reader = DefaultReader
		}
		if err := ValidateReader(q.Reader); err != nil {
			return nil, err
		}
	}
	if o.Grep != "" {
		re, err := regexp.Compile(o.Grep)
		if err != nil {
			return nil, Errorf(KindInvalid, "--grep %q is not a valid regular expression: %v", o.Grep, err)
		}
		q.re = re
	}
	return q, nil
}

// incremental reports whether the read continues an earlier one, so a
// line still being written is held back until it is complete.
func (q *logQuery) incremental() bool {
	return q.New || q.SinceOffset != nil || q.follow
}

// logLine is one line of the log as read.
type logLine struct {
	off  int64
	raw  []byte // as written, its newline included when it has one
	text string // what is shown: cleaned, or raw without the newline
}

func (l logLine) end() int64 { return l.off + int64(len(l.raw)) }

// lineText is the line without its newline, cleaned unless asRaw.
func lineText(raw []byte, asRaw bool) string {
	raw = bytes.TrimSuffix(raw, []byte{'\n'})
	if asRaw {
		return string(raw)
	}
	return cleanLine(raw)
}

// lineFilter applies --grep and its context lines, and passes what it
// keeps to emit (gap: lines were left out just before this one).
type lineFilter struct {
	re      *regexp.Regexp
	raw     bool
	context int
	before  []logLine
	after   int
	lastEnd int64
	emitted bool
	emit    func(l logLine, gap bool) bool
	// lost, when set, hears of output rotation dropped (see scanLog).
	lost func(skipped, dropped int64) bool
}

func newFilter(q *logQuery, emit func(logLine, bool) bool) *lineFilter {
	return &lineFilter{re: q.re, raw: q.Raw, context: q.Context, emit: emit}
}

// push offers a line; it returns false when the sink wants no more.
func (f *lineFilter) push(l logLine) bool {
	if f.re == nil {
		l.text = lineText(l.raw, f.raw)
		return f.out(l)
	}
	clean := lineText(l.raw, false)
	l.text = clean
	if f.raw {
		l.text = lineText(l.raw, true)
	}
	if f.re.MatchString(clean) {
		for _, b := range f.before {
			if !f.out(b) {
				return false
			}
		}
		f.before = f.before[:0]
		f.after = f.context
		return f.out(l)
	}
	if f.after > 0 {
		f.after--
		return f.out(l)
	}
	if f.context > 0 {
		if len(f.before) == f.context {
			copy(f.before, f.before[1:])
			f.before = f.before[:len(f.before)-1]
		}
		f.before = append(f.before, l)
	}
	return true
}

func (f *lineFilter) out(l logLine) bool {
	gap := f.re != nil && f.emitted && l.off != f.lastEnd
	f.lastEnd, f.emitted = l.end(), true
	return f.emit(l, gap)
}

// readResult describes one read of the log.
type readResult struct {
	start, end      int64
	skipped         int64
	dropped, logEnd int64
	partial, more   bool
	sinceExact      *bool
}

// read runs one read of the task's log for q: it finds where to begin,
// scans to the log's current end and pushes each line through f. For New
// it takes the cursor lock and moves the reader's cursor. finished says
// the task's current run has ended (checked before reading, so the log
// is complete): a last line without a newline is then final.
func (m *Manager) read(id string, q *logQuery, finished bool, f *lineFilter) (readResult, error) {
	s := m.Store
	var res readResult
	from := int64(0)
	switch {
	case q.New:
		unlock, err := s.lockCursors(id)
		if err != nil {
			return res, err
		}
		defer unlock()
		if from, err = s.readCursor(id, q.Reader); err != nil {
			return res, err
		}
	case q.SinceOffset != nil:
		from = *q.SinceOffset
	case q.Since > 0:
		off, exact, err := s.Log(id).SinceOffset(time.Now().Add(-q.Since))
		if err != nil {
			return res, err
		}
		from, res.sinceExact = off, &exact
	}
	if q.Tail > 0 && q.re == nil {
		start, err := s.Log(id).TailStart(q.Tail)
		if err != nil {
			return res, err
		}
		from = max(from, start)
	}
	stopped := false
	var lost func(int64, int64) bool
	if f.lost != nil {
		lost = func(skipped, dropped int64) bool {
			if !f.lost(skipped, dropped) {
				stopped = true
			}
			return !stopped
		}
	}
	sc, err := s.Log(id).Scan(from, lost, func(l tasklog.Line) bool {
		if !f.push(logLine{off: l.Off, raw: l.Raw}) {
			stopped = true
		}
		return !stopped
	})
	if err != nil {
		return res, err
	}
	res.start, res.end, res.skipped, res.dropped, res.logEnd = sc.Start, sc.Next, sc.Skipped, sc.Dropped, sc.LogEnd
	if q.Since > 0 && sc.Skipped > 0 {
		// Output older than the time asked for is not missed output.
		res.skipped = 0
	}
	switch {
	case stopped:
		res.end = max(f.lastEnd, sc.Start)
		res.more = res.end < sc.LogEnd
	case sc.Partial != nil && (finished || !q.incremental()):
		f.push(logLine{off: sc.Partial.Off, raw: sc.Partial.Raw})
		res.partial = f.emitted && f.lastEnd == sc.Partial.End()
		if finished {
			res.end = sc.Partial.End()
		}
	}
	if q.New && res.end != from {
		if err := s.writeCursor(id, q.Reader, res.end); err != nil {
			return res, wrap(err, "logs %s: save the cursor of reader %q", id, q.Reader)
		}
	}
	return res, nil
}

// Logs reads the task's output log as opts selects. The log is complete
// up to max_log_size: it holds every byte the task wrote, beyond tmux's
// scrollback, and says how much rotation dropped.
func (m *Manager) Logs(t *Task, opts LogOptions) (*LogResult, error) {
	q, err := opts.compile(false)
	if err != nil {
		return nil, err
	}
	res := &LogResult{ID: t.ID, LogPath: t.LogPath, Lines: []string{}, Task: t}
	if q.New {
		reader := q.Reader
		res.Reader = &reader
	}
	var data bytes.Buffer
	if q.re != nil {
		res.Offsets = []int64{}
	}
	var firstData []int // length of data before each line, for --tail with --grep
	f := newFilter(q, func(l logLine, gap bool) bool {
		if gap {
			res.Gaps = append(res.Gaps, len(res.Lines))
		}
		if q.Raw {
			firstData = append(firstData, data.Len())
			data.Write(l.raw)
		}
		res.Lines = append(res.Lines, l.text)
		if q.re != nil {
			res.Offsets = append(res.Offsets, l.off)
		}
		if q.Tail > 0 && len(res.Lines) >= 2*q.Tail+1024 {
			trimTail(res, &data, &firstData, q.Tail)
		}
		return q.Head == 0 || len(res.Lines) < q.Head
	})
	rr, err := m.read(t.ID, q, t.State.Finished(), f)
	if err != nil {
		return nil, wrap(err, "logs %s", t.ID)
	}
	if q.Tail > 0 && len(res.Lines) > q.Tail {
		trimTail(res, &data, &firstData, q.Tail)
	}
	res.Size, res.StartOffset, res.EndOffset = rr.logEnd, rr.start, rr.end
	res.Skipped, res.Dropped, res.SinceExact = rr.skipped, rr.dropped, rr.sinceExact
	res.Partial, res.More = rr.partial, rr.more
	res.LogLoss = m.Store.logLoss(t)
	if q.Raw {
		res.Data = data.Bytes()
	}
	return res, nil
}

// trimTail keeps the last n lines of res (and their raw bytes).
func trimTail(res *LogResult, data *bytes.Buffer, firstData *[]int, n int) {
	cut := len(res.Lines) - n
	if cut <= 0 {
		return
	}
	res.Lines = append(res.Lines[:0:0], res.Lines[cut:]...)
	if len(res.Offsets) > 0 {
		res.Offsets = append(res.Offsets[:0:0], res.Offsets[cut:]...)
	}
	var gaps []int
	for _, g := range res.Gaps {
		if g > cut {
			gaps = append(gaps, g-cut)
		}
	}
	res.Gaps = gaps
	if len(*firstData) > 0 {
		b := data.Bytes()[(*firstData)[cut]:]
		shift := (*firstData)[cut]
		kept := append([]byte(nil), b...)
		data.Reset()
		data.Write(kept)
		fd := append([]int(nil), (*firstData)[cut:]...)
		for i := range fd {
			fd[i] -= shift
		}
		*firstData = fd
	}
}
