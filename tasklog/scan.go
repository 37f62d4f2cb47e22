package tasklog

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"time"
)

// ScanResult describes one pass of Scan.
type ScanResult struct {
	Start   int64 // where reading began (the requested offset, clamped)
	Next    int64 // just past the last complete line passed on
	Skipped int64 // bytes between the requested offset and Start lost to rotation
	Dropped int64
	LogEnd  int64 // the log's end when the scan began
	Partial *Line // the bytes after the last newline, if any
}

// Scan reads the log from logical offset from up to its end as it is
// when the scan begins, in chunks, and calls fn for each complete line
// (fn returns false to stop). When the log has dropped output, lost is
// told first (and again if rotation overtakes the scan); it too returns
// false to stop. A line may span chunks; lines are split at
// newline bytes only, so a line never ends inside a UTF-8 sequence.
func (l Log) Scan(from int64, lost func(skipped, dropped int64) bool, fn func(Line) bool) (ScanResult, error) {
	seg, err := l.Segments()
	if err != nil {
		return ScanResult{}, err
	}
	kept, err := l.KeptStart(seg)
	if err != nil {
		return ScanResult{}, err
	}
	sc := ScanResult{Dropped: kept, LogEnd: seg.End()}
	pos := max(from, 0)
	if pos < sc.Dropped {
		sc.Skipped, pos = sc.Dropped-pos, sc.Dropped
	}
	pos = min(pos, sc.LogEnd)
	sc.Start, sc.Next = pos, pos
	if lost != nil && (sc.Skipped > 0 || sc.Dropped > 0) && !lost(sc.Skipped, sc.Dropped) {
		return sc, nil
	}
	var carry []byte
	carryOff := pos
	for pos < sc.LogEnd {
		c, err := l.Read(pos, min(ScanChunk, sc.LogEnd-pos))
		if err != nil {
			return sc, err
		}
		if c.Skipped > 0 {
			// Rotation overtook this scan: what lay between is gone,
			// and so is the line it cut short (the beginning read so
			// far counts as skipped too); the chunk begins at a line.
			skipped := c.Skipped + int64(len(carry))
			sc.Skipped += skipped
			sc.Dropped = c.Dropped
			if lost != nil && !lost(skipped, c.Dropped) {
				return sc, nil
			}
			carry, carryOff, sc.Next = nil, c.Start, c.Start
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
			ln := Line{Off: carryOff, Raw: raw}
			at += int64(i + 1)
			data, carryOff, sc.Next = data[i+1:], at, ln.End()
			if !fn(ln) {
				return sc, nil
			}
		}
		pos = c.End
	}
	if len(carry) > 0 {
		sc.Partial = &Line{Off: carryOff, Raw: carry}
	}
	return sc, nil
}

// TailStart returns the offset where the last n lines of the log begin
// (a last line without a newline counts as a line), reading backwards from
// the end only as far as needed.
func (l Log) TailStart(n int) (int64, error) {
	seg, err := l.Segments()
	if err != nil {
		return 0, err
	}
	lo, err := l.KeptStart(seg)
	if err != nil {
		return 0, err
	}
	end := seg.End()
	chunk := int64(64 << 10)
	for pos := end; pos > lo; {
		from := max(pos-chunk, lo)
		c, err := l.Read(from, pos-from)
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

// SinceOffset finds where the output written at or after cutoff begins,
// from the time index (lines "unix_millis logical_offset", one per second
// with output, oldest first): the offset of the first entry at or after
// cutoff, moved back to the start of its line. It reads the index
// backwards from its end, so a recent cutoff reads little. exact is false
// when there is no index (the whole log is returned) or the index begins
// after the log did.
func (l Log) SinceOffset(cutoff time.Time) (off int64, exact bool, err error) {
	f, err := os.Open(l.path(TimeIndexFile))
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
					seg, err := l.Segments()
					return seg.End(), true, err
				}
				start, err := l.LineStart(found)
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

// LineStart moves a logical offset back to the start of its line (an
// index entry marks where a write began, which may be mid-line), looking
// back at most 64 KiB.
func (l Log) LineStart(off int64) (int64, error) {
	from := max(off-64<<10, 0)
	c, err := l.Read(from, off-from)
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

// Line is one line of the log: its bytes (with the newline) and the
// logical offset of its first byte.
type Line struct {
	Off int64
	Raw []byte
}

// End is the logical offset just past the line.
func (l Line) End() int64 { return l.Off + int64(len(l.Raw)) }

// ScanChunk is how much of the log one read of a scan takes.
const ScanChunk = 1 << 20
