package tasklog

import (
	"bytes"
	"sync"
)

// Rotation drops the older segment whole, and the segment boundary can
// fall inside a line: the oldest kept byte is then the tail of a line
// whose beginning is gone. No read shows such a tail: every read from a
// point where output was dropped begins at the next line start, and the
// tail's bytes count as dropped (Chunk.Dropped, the skipped and
// dropped of logs).

// KeptStart is the logical offset of the oldest line the log holds
// whole: the oldest kept byte when the byte before it (dropped) was a
// newline, as the writer records in logmeta (prev_line_start), else just
// past the first newline after it, or the log's end when no newline has
// come yet.
func (l Log) KeptStart(seg Segments) (int64, error) {
	d := seg.Dropped()
	if d == 0 || d == seg.Meta.PrevBase && seg.Meta.PrevLineStart {
		return d, nil
	}
	key := l.Dir
	pos := d
	if v, ok := keptCache.Load(key); ok {
		if k := v.(keptEntry); k.dropped == d {
			if k.found {
				return k.upTo, nil
			}
			pos = max(pos, k.upTo)
		}
	}
	end := seg.End()
	for chunk := int64(4 << 10); pos < end; chunk = min(chunk*4, ScanChunk) {
		to := min(pos+chunk, end)
		data, err := l.readSegments(seg, pos, to)
		if err != nil {
			return 0, err
		}
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			kept := pos + int64(i) + 1
			keptCache.Store(key, keptEntry{dropped: d, upTo: kept, found: true})
			return kept, nil
		}
		if len(data) == 0 {
			break
		}
		pos += int64(len(data))
	}
	keptCache.Store(key, keptEntry{dropped: d, upTo: pos})
	return end, nil
}

// keptEntry remembers, per task directory, where the first newline after
// the oldest kept byte (dropped) is (found) or how far the search got
// without one (upTo), so that a very long cut line is searched once.
// Bytes once written never change, so the entry holds until the next
// rotation moves dropped.
type keptEntry struct {
	dropped, upTo int64
	found         bool
}

var keptCache sync.Map // task directory -> keptEntry
