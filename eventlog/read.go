package eventlog

import (
	"encoding/json"
	"errors"
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

// read is Read with the lock held.
func (l *Log) read(after int64, match func(*Event) bool) (*ReadResult, error) {
	res := &ReadResult{}
	for _, p := range []string{l.oldPath(), l.Path()} {
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		eachLine(b, false, func(line []byte) {
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
