package tasklog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/bgmux/bgmux/fileutil"
)

// DefaultMaxLogSize bounds output.log (and output.log.1) per task.
const DefaultMaxLogSize = 64 << 20

// Writer appends the output of the task's terminal to the task's log,
// rotating it at maxSize into one older segment, keeping logmeta and the
// time index current. The log holds the task's output only.
//
// It never blocks the task: when the log cannot be written (the disk is
// full), the output is still read from the terminal and dropped, counted
// in the logloss sidecar, and writing is tried again at most once a
// second, resuming at the start of a line. So the log holds only bytes
// the task wrote, in order, and says where it has gaps.
type Writer struct {
	log     Log
	maxSize int64

	mu     sync.Mutex
	cond   *sync.Cond
	f      *os.File
	meta   Meta
	size   int64 // size of output.log
	last   byte  // the last byte in the log (0 when it is empty)
	lastIn time.Time
	idx    *os.File
	idxSec int64
	// idxCut says an index line may have been cut short: the next one
	// starts on a fresh line.
	idxCut bool

	// loss is the output that could not be written, over the task's
	// life; failing says a gap is open (output is being dropped) and
	// retryAt when writing is next tried. holdRetry keeps it from
	// trying while the supervisor writes its records.
	loss      Loss
	failing   bool
	retryAt   time.Time
	holdRetry bool
	told      bool // the pane has been told that output is dropped
	lossDirty bool // loss changed since it was last saved
	// SaveLoss persists the loss record (the supervisor's, which may use
	// its disk reserve); saveMu keeps saves in order.
	SaveLoss func(Loss) error
	saveMu   sync.Mutex
	// warn tells a person watching the task's panes (never the log).
	Warn func(string)
}

// lossRetry is how often writing a failing log is tried again.
const lossRetry = time.Second

// OpenWriter opens the log for appending, taking the current layout
// (after earlier runs or supervisors) as its starting point. It first
// repairs what a supervisor killed in the middle of its work may have
// left: a rotation half done, an unreadable logmeta (set aside). See also
// drainStale and endCutLine.
func OpenWriter(dir string, maxSize int64) (*Writer, error) {
	l := Log{Dir: dir}
	if maxSize <= 0 {
		maxSize = DefaultMaxLogSize
	}
	l.RepairRotation()
	seg, err := l.Segments()
	var ce *fileutil.CorruptError
	if errors.As(err, &ce) && fileutil.SetAside(ce.Path) != "" {
		// Where the segments began is unknown: count from the older
		// one's start, and record it, so that readers agree and both
		// segments stay readable.
		seg, err = l.Segments()
		if err == nil && seg.PrevSize > 0 {
			prevIno, _, _ := fileutil.FileStat(l.path(PrevLogFile))
			curIno, _, _ := fileutil.FileStat(l.path(LogFile))
			seg.Meta = Meta{Base: seg.PrevSize, CurIno: curIno, PrevIno: prevIno}
			err = fileutil.WriteJSON(l.path(MetaFile), seg.Meta)
		}
	}
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(l.path(LogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	idx, err := os.OpenFile(l.path(TimeIndexFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		f.Close()
		return nil, err
	}
	w := &Writer{log: l, maxSize: maxSize, f: f, meta: seg.Meta, size: seg.Size, idx: idx, lastIn: time.Now()}
	if fi, err := idx.Stat(); err == nil && fi.Size() > 0 {
		w.idxCut = lastByte(idx.Name(), fi.Size()) != '\n'
	}
	w.cond = sync.NewCond(&w.mu)
	w.last = lastByte(l.path(LogFile), seg.Size)
	if seg.Size == 0 {
		w.last = lastByte(l.path(PrevLogFile), seg.PrevSize)
	}
	if readJSON(l.path(LossFile), &w.loss) == nil && w.loss.Dropping {
		w.loss.Dropping = false
		w.lossDirty = true
	}
	return w, nil
}

// EndCutLine ends with a line break a log whose last line was cut short
// (its supervisor, or its pane, died in the middle of a line), so that
// the next run's output starts on a line of its own.
func (w *Writer) EndCutLine() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == 0 || w.last == '\n' || w.failing {
		return
	}
	if n, _ := w.f.Write([]byte("\r\n")); n > 0 {
		w.size += int64(n)
		w.last = "\r\n"[n-1]
	}
}

// lastByte is the last byte of the file at path, whose size is size (0
// when it is empty or unreadable).
func lastByte(path string, size int64) byte {
	if size <= 0 {
		return 0
	}
	b, err := fileutil.ReadAt(path, size-1, 1)
	if err != nil || len(b) != 1 {
		return 0
	}
	return b[0]
}

// RepairRotation finishes a rotation that its supervisor did not (killed
// between writing logmeta and the renames): logmeta already names the new
// file as output.log, so the renames are done now.
func (l Log) RepairRotation() {
	var meta Meta
	if readJSON(l.path(MetaFile), &meta) != nil || meta.CurIno == 0 {
		return
	}
	curIno, _, curErr := fileutil.FileStat(l.path(LogFile))
	if curErr == nil && curIno == meta.CurIno {
		return // consistent
	}
	newPath := l.path(LogFile + ".new")
	if ino, _, err := fileutil.FileStat(newPath); err != nil || ino != meta.CurIno {
		return // not a rotation this code can finish; readers cope
	}
	if curErr == nil && curIno == meta.PrevIno {
		if os.Rename(l.path(LogFile), l.path(PrevLogFile)) != nil {
			return
		}
	}
	os.Rename(newPath, l.path(LogFile))
}

// End is the logical offset just past the last byte written.
func (w *Writer) End() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.meta.Base + w.size
}

// EndsLine reports whether the log is empty or ends with a line break.
func (w *Writer) EndsLine() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last == 0 || w.last == '\n'
}

// Append appends p, output of the task's terminal, to the log.
func (w *Writer) Append(p []byte) {
	w.mu.Lock()
	now := time.Now()
	w.lastIn = now
	if sec := now.Unix(); sec != w.idxSec {
		w.idxSec = sec
		line := fmt.Sprintf("%d %d\n", now.UnixMilli(), w.meta.Base+w.size)
		if w.idxCut {
			line = "\n" + line
		}
		_, err := io.WriteString(w.idx, line)
		w.idxCut = err != nil
	}
	w.append(p, now)
	w.cond.Broadcast()
	dirty := w.lossDirty
	w.mu.Unlock()
	if dirty {
		w.FlushLoss(false)
	}
}

// append writes p to the log, or drops it while the log cannot be
// written. The caller holds w.mu.
func (w *Writer) append(p []byte, now time.Time) {
	rest := p
	if w.failing {
		if w.holdRetry || now.Before(w.retryAt) {
			w.drop(int64(len(rest)))
			return
		}
		// Resume at a line boundary: after the next newline when the
		// log ends with one, else at it (ending the cut line).
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			w.drop(int64(len(rest)))
			return
		}
		if w.last == '\n' || w.last == 0 {
			i++
		}
		w.drop(int64(i))
		rest = rest[i:]
	}
	for len(rest) > 0 {
		room := w.maxSize - w.size
		if room <= 0 {
			w.rotate()
			continue
		}
		chunk := rest
		if int64(len(chunk)) > room {
			chunk = chunk[:room]
		}
		n, err := w.f.Write(chunk)
		if n > 0 {
			w.size += int64(n)
			w.last = chunk[n-1]
			if w.failing {
				// Written again: the gap is closed.
				w.failing, w.loss.Dropping, w.lossDirty = false, false, true
			}
		}
		rest = rest[n:]
		if err != nil {
			w.fail(err, now)
			w.drop(int64(len(rest)))
			return
		}
	}
}

// fail notes that writing the log failed: a gap opens (unless one is open
// already) and writing is tried again after lossRetry. The caller holds
// w.mu.
func (w *Writer) fail(err error, now time.Time) {
	w.retryAt = now.Add(lossRetry)
	if w.failing {
		return
	}
	w.failing = true
	if w.loss.Gaps == 0 {
		w.loss.Offset, w.loss.At = w.meta.Base+w.size, now.UTC()
	}
	w.loss.Gaps++
	w.loss.Reason, w.loss.Dropping, w.lossDirty = LossReason(err), true, true
	if !w.told {
		// Tell a person watching the pane (not under the lock: the pane
		// is where the output comes from).
		w.told = true
		msg := fmt.Sprintf("\r\n[bgmux] cannot write the log: %s; output is dropped until there is room (bgmux status shows how much)\r\n", w.loss.Reason)
		if w.Warn != nil {
			w.Warn(msg)
		}
	}
}

// drop counts n bytes of output that did not reach the log. The caller
// holds w.mu.
func (w *Writer) drop(n int64) {
	if n > 0 {
		w.loss.Bytes += n
	}
}

// FlushLoss saves the loss record if it changed since the last save, or
// if there is one and force is set (its byte count grows while a gap is
// open without marking it changed).
func (w *Writer) FlushLoss(force bool) {
	w.saveMu.Lock()
	defer w.saveMu.Unlock()
	w.mu.Lock()
	l, dirty := w.loss, w.lossDirty || force
	w.lossDirty = false
	save := w.SaveLoss
	w.mu.Unlock()
	if !dirty || save == nil || l.Gaps == 0 {
		return
	}
	save(l)
}

// Hold stops (true) or allows again (false) attempts to write a failing
// log, so that the space the supervisor frees for its records is not
// taken by output first.
func (w *Writer) Hold(on bool) {
	w.mu.Lock()
	w.holdRetry = on
	w.mu.Unlock()
}

// rotate makes output.log the older segment and starts a new one. The
// new logmeta names both files' inodes and is written before the renames,
// so a reader can tell a half-done rotation from a finished one.
func (w *Writer) rotate() {
	newPath := w.log.path(LogFile + ".new")
	nf, err := os.OpenFile(newPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		// Cannot rotate: keep appending rather than lose output.
		w.maxSize += w.maxSize
		return
	}
	meta := Meta{Base: w.meta.Base + w.size, PrevBase: w.meta.Base, CurIno: inode(nf), PrevIno: inode(w.f),
		PrevLineStart: w.startsLine()}
	if err := fileutil.WriteJSON(w.log.path(MetaFile), meta); err != nil {
		nf.Close()
		os.Remove(newPath)
		w.maxSize += w.maxSize
		return
	}
	os.Rename(w.log.path(LogFile), w.log.path(PrevLogFile))
	os.Rename(newPath, w.log.path(LogFile))
	w.f.Close()
	w.f, w.meta, w.size = nf, meta, 0
}

// startsLine reports whether output.log begins at the start of a line:
// the log's first byte, or one after a newline (the last byte of
// output.log.1, which the rotation under way drops). Readers need it once
// output.log becomes the older segment and the byte before it is gone.
func (w *Writer) startsLine() bool {
	if w.meta.Base == 0 {
		return true
	}
	_, size, err := fileutil.FileStat(w.log.path(PrevLogFile))
	return err == nil && lastByte(w.log.path(PrevLogFile), size) == '\n'
}

func inode(f *os.File) uint64 {
	st, err := f.Stat()
	if err != nil {
		return 0
	}
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(s.Ino)
	}
	return 0
}

func (w *Writer) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.f.Close()
	w.idx.Close()
}
