package eventlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// ReadResult is what one read of the log found.
type ReadResult struct {
	// Events are the selected events after the position read from, oldest
	// first.
	Events []Event
	// First and Last are the seqs of the oldest and newest events the log
	// holds (0 when it holds none). Events before First were dropped by
	// rotation.
	First, Last int64
	// Skipped counts the events after the position read from that
	// rotation dropped before this read reached them (of any task: the
	// selection of a dropped event is unknown).
	Skipped int64
	// Bad counts lines that could not be read (cut short or damaged);
	// they are left out.
	Bad int
}

// Dropped is how many events rotation has dropped in all.
func (r *ReadResult) Dropped() int64 { return max(r.First-1, 0) }

// Read returns the events with a seq above after for which match (nil:
// all) returns true, from both segments, under the log's shared lock so
// that no rotation happens meanwhile. A log never written reads as empty.
func (l *Log) Read(after int64, match func(*Event) bool) (*ReadResult, error) {
	unlock, err := l.lock(unix.LOCK_SH, false)
	if err != nil {
		return nil, err
	}
	if unlock == nil {
		return &ReadResult{}, nil
	}
	defer unlock()
	return l.read(after, match)
}

// read is Read with the lock held. Seqs grow through the segments, so
// each is read backwards from its end only as far as the position after:
// a read of what is new costs what is new, not the size of the log.
func (l *Log) read(after int64, match func(*Event) bool) (*ReadResult, error) {
	res := &ReadResult{}
	for _, p := range []string{l.oldPath(), l.Path()} {
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		data, skipFirst, first, last, err := readSegment(f, after)
		f.Close()
		if err != nil {
			return nil, err
		}
		if first > 0 && (res.First == 0 || first < res.First) {
			res.First = first
		}
		res.Last = max(res.Last, last)
		eachLine(data, skipFirst, func(line []byte) {
			seq, ok := lineSeq(line)
			if !ok || len(line) > MaxLine {
				res.Bad++
				return
			}
			if res.First == 0 || seq < res.First {
				res.First = seq
			}
			res.Last = max(res.Last, seq)
			if seq <= after {
				return
			}
			var e Event
			if err := json.Unmarshal(line, &e); err != nil {
				res.Bad++
				return
			}
			if match == nil || match(&e) {
				res.Events = append(res.Events, e)
			}
		})
	}
	if res.First > 0 && res.First-1 > after {
		res.Skipped = res.First - 1 - after
	}
	return res, nil
}

// readChunk is how far readSegment reads backwards at a time.
const readChunk = 64 << 10

// readSegment returns the part of segment f that may hold events after
// seq after: from its end back to a whole line with a seq at or below
// after (or to its start). skipFirst says the data begins inside a line.
// first and last are the segment's oldest and newest seqs (0 if unknown).
func readSegment(f *os.File, after int64) (data []byte, skipFirst bool, first, last int64, err error) {
	st, err := f.Stat()
	if err != nil {
		return nil, false, 0, 0, err
	}
	size := st.Size()
	if size == 0 {
		return nil, false, 0, 0, nil
	}
	if last, _, err = lastSeq(f, size); err != nil {
		return nil, false, 0, 0, err
	}
	if first, err = firstSeq(f, size); err != nil {
		return nil, false, 0, 0, err
	}
	if last > 0 && last <= after {
		return nil, false, first, last, nil // nothing new here
	}
	from := size
	for from > 0 {
		next := max(from-readChunk, 0)
		chunk := make([]byte, from-next)
		if _, err := f.ReadAt(chunk, next); err != nil && err != io.EOF {
			return nil, false, 0, 0, err
		}
		data = append(chunk, data...)
		from = next
		if from == 0 {
			break
		}
		// The first whole line of what was read: at or before after,
		// everything before it is too.
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			rest := data[i+1:]
			if j := bytes.IndexByte(rest, '\n'); j >= 0 {
				if seq, ok := lineSeq(rest[:j]); ok && seq <= after {
					break
				}
			}
		}
	}
	return data, from > 0, first, last, nil
}

// firstSeq is the seq of the first whole event at the start of f, 0 if
// its head holds none.
func firstSeq(f *os.File, size int64) (int64, error) {
	buf := make([]byte, min(size, 2*MaxLine))
	if _, err := f.ReadAt(buf, 0); err != nil && err != io.EOF {
		return 0, err
	}
	var first int64
	eachLine(buf, false, func(line []byte) {
		if seq, ok := lineSeq(line); ok && first == 0 {
			first = seq
		}
	})
	return first, nil
}
