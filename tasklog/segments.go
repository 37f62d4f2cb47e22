package tasklog

import (
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/bgmux/bgmux/fileutil"
)

// The output log of a task is a stream of bytes addressed by logical
// offsets: the number of bytes the task had written before that byte,
// over its whole life (all runs). On disk it is at most two segments:
//
//	output.log    the newest bytes, starting at logical offset Base
//	output.log.1  the bytes before them, starting at PrevBase (optional)
//
// Bytes before PrevBase were dropped by rotation (max_log_size). The
// logmeta sidecar records Base and PrevBase; without it Base is 0 and
// there is no older segment. Only the supervisor writes these files.
const (
	PrevLogFile = "output.log.1"
	MetaFile    = "logmeta"
	// TimeIndexFile has one "unix_millis logical_offset" line per second
	// in which output arrived, for --since.
	TimeIndexFile = "output.idx"
)

// Meta is the logmeta sidecar: where each segment starts.
type Meta struct {
	Base     int64 `json:"base"`
	PrevBase int64 `json:"prev_base"`
	// CurIno and PrevIno are the inodes of output.log and output.log.1 this
	// meta describes; a reader that finds other inodes is looking at a
	// rotation in progress and looks again.
	CurIno  uint64 `json:"cur_ino,omitempty"`
	PrevIno uint64 `json:"prev_ino,omitempty"`
	// PrevLineStart says that PrevBase is the start of a line: the byte
	// before it, dropped, was a newline. When it is not (rotation cut a
	// line), the oldest kept line begins after the next newline (see
	// keptStart).
	PrevLineStart bool `json:"prev_line_start,omitempty"`
}

// Chunk is a slice of a task's output by logical offsets.
type Chunk struct {
	// Data holds the bytes from Start (inclusive) to End (exclusive).
	Data  []byte `json:"-"`
	Start int64  `json:"start_offset"`
	End   int64  `json:"end_offset"`
	// Skipped counts bytes between the requested offset and Start that
	// rotation dropped before they could be read.
	Skipped int64 `json:"skipped"`
	// Dropped is the total the log has lost to rotation: the offset of its
	// oldest kept line (the rest of a line rotation cut counts as dropped).
	Dropped int64 `json:"dropped"`
}

// Segments describes the files of a task's log as they are now.
type Segments struct {
	Meta     Meta
	PrevSize int64 // size of output.log.1 (0 when absent)
	Size     int64 // size of output.log
}

// Segments reads the log's layout: its logmeta and the sizes of its
// files (looking again while a rotation is half done).
func (l Log) Segments() (Segments, error) {
	for attempt := 0; ; attempt++ {
		var meta Meta
		if err := readJSON(l.path(MetaFile), &meta); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Segments{}, err
		}
		prevIno, prev, prevErr := fileutil.FileStat(l.path(PrevLogFile))
		curIno, cur, _ := fileutil.FileStat(l.path(LogFile))
		consistent := meta.CurIno == 0 || meta.CurIno == curIno && (meta.PrevIno == 0 || meta.PrevIno == prevIno)
		if consistent || attempt >= 50 {
			if prevErr == nil && meta.Base > 0 && meta.PrevBase+prev != meta.Base {
				// The older segment is what output.log was when it
				// rotated: it ends where the newer one begins.
				return Segments{}, l.metaContradicted(fmt.Sprintf("its older segment would end at %d (prev_base %d, output.log.1 holds %d bytes), not at its base %d", meta.PrevBase+prev, meta.PrevBase, prev, meta.Base))
			}
			return Segments{Meta: meta, PrevSize: prev, Size: cur}, nil
		}
		// The writer is between writing logmeta and its renames.
		time.Sleep(time.Millisecond)
	}
}

// Dropped is the logical offset of the oldest byte still on disk.
func (g Segments) Dropped() int64 {
	if g.PrevSize > 0 || g.Meta.PrevBase > 0 {
		return g.Meta.PrevBase
	}
	return g.Meta.Base
}

// End is the logical offset just past the newest byte.
func (g Segments) End() int64 { return g.Meta.Base + g.Size }

// Read returns the output from logical offset from (clamped to the
// oldest whole line still on disk) up to the current end, at most max
// bytes when max > 0 (the newest bytes are cut, not the oldest). from < 0
// counts back from the end.
func (l Log) Read(from, max int64) (*Chunk, error) {
	seg, err := l.Segments()
	if err != nil {
		return nil, err
	}
	end := seg.End()
	if from < 0 {
		from = end + from
		if from < 0 {
			from = 0
		}
	}
	c := &Chunk{Start: from, End: from}
	if c.Dropped, err = l.KeptStart(seg); err != nil {
		return nil, err
	}
	if from < c.Dropped {
		c.Skipped = c.Dropped - from
		c.Start, c.End = c.Dropped, c.Dropped
	}
	if c.Start >= end {
		c.Start, c.End = end, end
		return c, nil
	}
	to := end
	if max > 0 && to-c.Start > max {
		to = c.Start + max
	}
	buf, err := l.readSegments(seg, c.Start, to)
	if err != nil {
		return nil, err
	}
	c.Data = buf
	c.End = c.Start + int64(len(buf))
	return c, nil
}

// readSegments reads the logical bytes start..to of the log laid out as
// seg: the older segment first, then the current one.
func (l Log) readSegments(seg Segments, start, to int64) ([]byte, error) {
	buf := make([]byte, 0, max(to-start, 0))
	if start < seg.Meta.Base {
		part, err := fileutil.ReadAt(l.path(PrevLogFile), start-seg.Meta.PrevBase, min64(to, seg.Meta.Base)-start)
		if err != nil {
			return nil, err
		}
		buf = append(buf, part...)
	}
	if to > seg.Meta.Base {
		off := start - seg.Meta.Base
		if off < 0 {
			off = 0
		}
		part, err := fileutil.ReadAt(l.path(LogFile), off, to-seg.Meta.Base-off)
		if err != nil {
			return nil, err
		}
		buf = append(buf, part...)
	}
	return buf, nil
}

func min64(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}

// metaContradicted is the error of a logmeta that the log's files
// contradict: as damaged as one that does not parse.
func (l Log) metaContradicted(why string) error {
	path := l.path(MetaFile)
	data, _ := fileutil.ReadSmallFile(path)
	return &fileutil.CorruptError{Path: path, Err: fileutil.Invalidf("%s", why), Data: data}
}
