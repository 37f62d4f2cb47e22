package tasks

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
)

// PipeFile is the FIFO through which the pane's output (tmux pipe-pane)
// reaches the supervisor, which writes the log.
const PipeFile = "output.pipe"

// DefaultMaxLogSize bounds output.log (and output.log.1) per task.
const DefaultMaxLogSize = 64 << 20

// logWriter appends the pane's output to the task's log, rotating it at
// maxSize into one older segment, keeping logmeta and the time index
// current, and noticing when an awaited line (the supervisor's trailer)
// has gone through.
type logWriter struct {
	store   *Store
	id      string
	maxSize int64

	mu      sync.Mutex
	cond    *sync.Cond
	f       *os.File
	meta    LogMeta
	size    int64 // size of output.log
	tail    []byte
	want    []byte
	seen    bool
	lastIn  time.Time
	idx     *os.File
	idxSec  int64
	errOnce bool
}

// openLogWriter opens the log for appending, taking the current layout
// (after earlier runs or supervisors) as its starting point.
func openLogWriter(st *Store, id string, maxSize int64) (*logWriter, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxLogSize
	}
	seg, err := st.logSegments(id)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(st.Path(id, LogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	idx, err := os.OpenFile(st.Path(id, TimeIndexFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		f.Close()
		return nil, err
	}
	w := &logWriter{store: st, id: id, maxSize: maxSize, f: f, meta: seg.meta, size: seg.size, idx: idx, lastIn: time.Now()}
	w.cond = sync.NewCond(&w.mu)
	return w, nil
}

// end is the logical offset just past the last byte written.
func (w *logWriter) end() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.meta.Base + w.size
}

// copyFrom writes everything read from r until it fails (the supervisor
// closes r at exit).
func (w *logWriter) copyFrom(r io.Reader) {
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			w.write(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

func (w *logWriter) write(p []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	w.lastIn = now
	if sec := now.Unix(); sec != w.idxSec {
		w.idxSec = sec
		fmt.Fprintf(w.idx, "%d %d\n", now.UnixMilli(), w.meta.Base+w.size)
	}
	rest := p
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
		w.size += int64(n)
		if err != nil {
			// A full disk: the bytes that did not fit are lost, and the
			// offsets stay true to what is on disk.
			if !w.errOnce {
				w.errOnce = true
				fmt.Fprintf(os.Stderr, "[bgmux] writing the log failed: %v\n", err)
			}
			break
		}
		rest = rest[n:]
	}
	w.tail = append(w.tail, p...)
	if keep := 4096; len(w.tail) > keep {
		w.tail = append(w.tail[:0], w.tail[len(w.tail)-keep:]...)
	}
	if w.want != nil && bytes.Contains(w.tail, w.want) {
		w.seen = true
	}
	w.cond.Broadcast()
}

// rotate makes output.log the older segment and starts a new one. The
// new logmeta names both files' inodes and is written before the renames,
// so a reader can tell a half-done rotation from a finished one.
func (w *logWriter) rotate() {
	newPath := w.store.Path(w.id, LogFile+".new")
	nf, err := os.OpenFile(newPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		// Cannot rotate: keep appending rather than lose output.
		w.maxSize += w.maxSize
		return
	}
	meta := LogMeta{Base: w.meta.Base + w.size, PrevBase: w.meta.Base, CurIno: inode(nf), PrevIno: inode(w.f)}
	if err := writeJSON(w.store.Path(w.id, LogMetaFile), meta); err != nil {
		nf.Close()
		os.Remove(newPath)
		w.maxSize += w.maxSize
		return
	}
	os.Rename(w.store.Path(w.id, LogFile), w.store.Path(w.id, PrevLogFile))
	os.Rename(newPath, w.store.Path(w.id, LogFile))
	w.f.Close()
	w.f, w.meta, w.size = nf, meta, 0
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

// expect arms the writer to watch for line (call before printing it).
func (w *logWriter) expect(line string) {
	w.mu.Lock()
	w.want, w.seen, w.lastIn = []byte(line), false, time.Now()
	w.mu.Unlock()
}

// waitSeen waits until the expected line has been written to the log, or
// until no output has arrived for idle, or gone reports that the pane
// itself is gone (its tmux server died), so nothing more can come.
func (w *logWriter) waitSeen(idle time.Duration, gone func() bool) bool {
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				w.cond.Broadcast()
			}
		}
	}()
	w.mu.Lock()
	defer w.mu.Unlock()
	for !w.seen && time.Since(w.lastIn) < idle {
		w.cond.Wait()
		if !w.seen && gone != nil {
			w.mu.Unlock()
			g := gone()
			w.mu.Lock()
			if g {
				break
			}
		}
	}
	seen := w.seen
	w.want = nil
	return seen
}

func (w *logWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.f.Close()
	w.idx.Close()
}
