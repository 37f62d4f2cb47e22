package tasks

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"time"
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

// scanChunk is how much of the log one read takes.
const scanChunk = 1 << 20

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
		off, exact, err := s.sinceOffset(id, time.Now().Add(-q.Since))
		if err != nil {
			return res, err
		}
		from, res.sinceExact = off, &exact
	}
	if q.Tail > 0 && q.re == nil {
		start, err := s.tailStart(id, q.Tail)
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
	sc, err := s.scanLog(id, from, lost, func(l logLine) bool {
		if !f.push(l) {
			stopped = true
		}
		return !stopped
	})
	if err != nil {
		return res, err
	}
	res.start, res.end, res.skipped, res.dropped, res.logEnd = sc.start, sc.next, sc.skipped, sc.dropped, sc.logEnd
	if q.Since > 0 && sc.skipped > 0 {
		// Output older than the time asked for is not missed output.
		res.skipped = 0
	}
	switch {
	case stopped:
		res.end = max(f.lastEnd, sc.start)
		res.more = res.end < sc.logEnd
	case sc.partial != nil && (finished || !q.incremental()):
		f.push(*sc.partial)
		res.partial = f.emitted && f.lastEnd == sc.partial.end()
		if finished {
			res.end = sc.partial.end()
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

// scan describes one pass of scanLog.
type scan struct {
	start   int64 // where reading began (the requested offset, clamped)
	next    int64 // just past the last complete line passed on
	skipped int64 // bytes between the requested offset and start lost to rotation
	dropped int64
	logEnd  int64    // the log's end when the scan began
	partial *logLine // the bytes after the last newline, if any
}

// scanLog reads the log from logical offset from up to its end as it is
// when the scan begins, in chunks, and calls fn for each complete line
// (fn returns false to stop). When the log has dropped output, lost is
// told first (and again if rotation overtakes the scan); it too returns
// false to stop. A line may span chunks; lines are split at
// newline bytes only, so a line never ends inside a UTF-8 sequence.
func (s *Store) scanLog(id string, from int64, lost func(skipped, dropped int64) bool, fn func(logLine) bool) (scan, error) {
	seg, err := s.logSegments(id)
	if err != nil {
		return scan{}, err
	}
	kept, err := s.keptStart(id, seg)
	if err != nil {
		return scan{}, err
	}
	sc := scan{dropped: kept, logEnd: seg.end()}
	pos := max(from, 0)
	if pos < sc.dropped {
		sc.skipped, pos = sc.dropped-pos, sc.dropped
	}
	pos = min(pos, sc.logEnd)
	sc.start, sc.next = pos, pos
	if lost != nil && (sc.skipped > 0 || sc.dropped > 0) && !lost(sc.skipped, sc.dropped) {
		return sc, nil
	}
	var carry []byte
	carryOff := pos
	for pos < sc.logEnd {
		c, err := s.readLog(id, pos, min(scanChunk, sc.logEnd-pos))
		if err != nil {
			return sc, err
		}
		if c.Skipped > 0 {
			// Rotation overtook this scan: what lay between is gone,
			// and so is the line it cut short (the beginning read so
			// far counts as skipped too); the chunk begins at a line.
			skipped := c.Skipped + int64(len(carry))
			sc.skipped += skipped
			sc.dropped = c.Dropped
			if lost != nil && !lost(skipped, c.Dropped) {
				return sc, nil
			}
			carry, carryOff, sc.next = nil, c.Start, c.Start
		}
		if len(c.Data) == 0 {
			break
		}
		data, at := c.Data, c.Start
		for {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				carry = append(carry, data...)
				break
			}
			raw := data[:i+1]
			if len(carry) > 0 {
				raw = append(carry, raw...)
				carry = nil
			}
			l := logLine{off: carryOff, raw: raw}
			at += int64(i + 1)
			data, carryOff, sc.next = data[i+1:], at, l.end()
			if !fn(l) {
				return sc, nil
			}
		}
		pos = c.End
	}
	if len(carry) > 0 {
		sc.partial = &logLine{off: carryOff, raw: carry}
	}
	return sc, nil
}

// tailStart returns the offset where the last n lines of the log begin
// (a last line without a newline counts as a line), reading backwards from
// the end only as far as needed.
func (s *Store) tailStart(id string, n int) (int64, error) {
	seg, err := s.logSegments(id)
	if err != nil {
		return 0, err
	}
	lo, err := s.keptStart(id, seg)
	if err != nil {
		return 0, err
	}
	end := seg.end()
	chunk := int64(64 << 10)
	for pos := end; pos > lo; {
		from := max(pos-chunk, lo)
		c, err := s.readLog(id, from, pos-from)
		if err != nil {
			return 0, err
		}
		if c.Skipped > 0 || c.Start != from || c.End != pos {
			// Rotated while we looked: begin at what is kept.
			return c.Start, nil
		}
		for i := len(c.Data) - 1; i >= 0; i-- {
			if c.Data[i] != '\n' || from+int64(i) == end-1 {
				continue
			}
			if n--; n == 0 {
				return from + int64(i) + 1, nil
			}
		}
		pos = from
		chunk = min(chunk*2, 8<<20)
	}
	return lo, nil
}

// sinceOffset finds where the output written at or after cutoff begins,
// from the time index (lines "unix_millis logical_offset", one per second
// with output, oldest first): the offset of the first entry at or after
// cutoff, moved back to the start of its line. It reads the index
// backwards from its end, so a recent cutoff reads little. exact is false
// when there is no index (the whole log is returned) or the index begins
// after the log did.
func (s *Store) sinceOffset(id string, cutoff time.Time) (off int64, exact bool, err error) {
	f, err := os.Open(s.Path(id, TimeIndexFile))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, false, err
	}
	limit := cutoff.UnixMilli()
	found, first := int64(-1), int64(-1)
	var rest []byte // the start of a line that began before the chunk read last
	pos := st.Size()
	chunk := int64(64 << 10)
	for pos > 0 {
		from := max(pos-chunk, 0)
		buf := make([]byte, pos-from, pos-from+int64(len(rest)))
		if _, err := f.ReadAt(buf, from); err != nil {
			return 0, false, err
		}
		buf = append(buf, rest...)
		lines := bytes.Split(buf, []byte{'\n'})
		if from > 0 {
			rest, lines = lines[0], lines[1:]
		} else {
			rest = nil
		}
		for i := len(lines) - 1; i >= 0; i-- {
			ms, o, ok := parseIndexLine(lines[i])
			if !ok {
				continue // the unfinished last line, or damage
			}
			// An entry marks the first write in its second; writes
			// until the second ends may follow it.
			if (ms/1000+1)*1000 <= limit {
				if found < 0 {
					// Nothing was written since cutoff.
					seg, err := s.logSegments(id)
					return seg.end(), true, err
				}
				start, err := s.lineStart(id, found)
				return start, true, err
			}
			found, first = o, o
		}
		pos = from
		chunk = min(chunk*2, 8<<20)
	}
	if first < 0 {
		return 0, false, nil // an empty index
	}
	// Everything indexed is recent: the whole log, which is exact when
	// the index starts with the log.
	return 0, first == 0, nil
}

func parseIndexLine(b []byte) (ms, off int64, ok bool) {
	a, c, found := bytes.Cut(b, []byte{' '})
	if !found {
		return 0, 0, false
	}
	ms, err1 := strconv.ParseInt(string(a), 10, 64)
	off, err2 := strconv.ParseInt(string(c), 10, 64)
	return ms, off, err1 == nil && err2 == nil && off >= 0
}

// lineStart moves a logical offset back to the start of its line (an
// index entry marks where a write began, which may be mid-line), looking
// back at most 64 KiB.
func (s *Store) lineStart(id string, off int64) (int64, error) {
	from := max(off-64<<10, 0)
	c, err := s.readLog(id, from, off-from)
	if err != nil || len(c.Data) == 0 || c.End != off {
		return off, err
	}
	if i := bytes.LastIndexByte(c.Data, '\n'); i >= 0 {
		return c.Start + int64(i) + 1, nil
	}
	if from == 0 || c.Skipped > 0 || c.Start == c.Dropped {
		return c.Start, nil // the line is the first kept one
	}
	return off, nil
}
