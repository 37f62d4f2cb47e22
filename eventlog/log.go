package eventlog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// File names inside the log's directory.
const (
	FileName = "events.jsonl"
	lockName = ".lock"
)

// DefaultMaxSize is the size at which events.jsonl is rotated.
const DefaultMaxSize = 4 << 20

// Log is the event log in one directory. Its methods may be called from
// any number of goroutines and processes at once.
type Log struct {
	// Dir holds the log's files; it is created on the first append.
	Dir string
	// MaxSize is the rotation bound of events.jsonl in bytes (at least
	// one line is always kept); 0 means DefaultMaxSize.
	MaxSize int64
	// now is the clock (tests).
	now func() time.Time
}

// New returns the log in dir.
func New(dir string) *Log { return &Log{Dir: dir} }

// Path is the file the newest events are appended to.
func (l *Log) Path() string { return filepath.Join(l.Dir, FileName) }

func (l *Log) oldPath() string { return l.Path() + ".1" }

func (l *Log) maxSize() int64 {
	if l.MaxSize > 0 {
		return l.MaxSize
	}
	return DefaultMaxSize
}

// lock takes the log's flock (exclusive or shared) and returns its
// release function. With create unset, a log that was never written
// returns a nil release and no error.
func (l *Log) lock(how int, create bool) (func(), error) {
	flags := os.O_RDWR
	if create {
		if err := os.MkdirAll(l.Dir, 0o700); err != nil {
			return nil, err
		}
		flags |= os.O_CREATE
	}
	f, err := os.OpenFile(filepath.Join(l.Dir, lockName), flags, 0o600)
	if err != nil {
		if !create && errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	if err := flock(f, how); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}

func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			if err != nil {
				return fmt.Errorf("lock %s: %w", f.Name(), err)
			}
			return nil
		}
	}
}

// Append writes e as the log's next event: it sets e.Seq (and e.Time when
// it is zero) and returns the event as written. The line goes out in one
// write under the log's exclusive lock, and is synced to disk.
func (l *Log) Append(e Event) (Event, error) {
	e, _, err := l.AppendUnless(e, nil)
	return e, err
}

// AppendUnless is Append, unless an event in the log for which seen
// returns true is already there (then it writes nothing and returns
// false): the look and the append are one step under the lock, so of
// several processes appending the same event once, one does.
func (l *Log) AppendUnless(e Event, seen func(*Event) bool) (Event, bool, error) {
	if e.Time.IsZero() {
		now := time.Now
		if l.now != nil {
			now = l.now
		}
		e.Time = now()
	}
	e.Time = e.Time.UTC()
	unlock, err := l.lock(unix.LOCK_EX, true)
	if err != nil {
		return e, false, fmt.Errorf("event log: %w", err)
	}
	defer unlock()
	if seen != nil {
		res, err := l.read(0, seen)
		if err != nil {
			return e, false, fmt.Errorf("event log: %w", err)
		}
		if len(res.Events) > 0 {
			return e, false, nil
		}
	}
	f, err := os.OpenFile(l.Path(), os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return e, false, fmt.Errorf("event log: %w", err)
	}
	defer func() { f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return e, false, fmt.Errorf("event log: %w", err)
	}
	size := st.Size()
	last, cut, err := lastSeq(f, size)
	if err != nil {
		return e, false, fmt.Errorf("event log: %w", err)
	}
	if last == 0 {
		if last, err = l.lastOld(); err != nil {
			return e, false, fmt.Errorf("event log: %w", err)
		}
	}
	e.Seq = last + 1
	line, err := encode(e)
	if err != nil {
		return e, false, fmt.Errorf("event log: %w", err)
	}
	if size > 0 && size+int64(len(line)) > l.maxSize() {
		// Rotate: the current segment becomes the older one. Readers
		// hold the lock shared, so none sees the rename half done.
		if err := os.Rename(l.Path(), l.oldPath()); err != nil {
			return e, false, fmt.Errorf("event log: rotate: %w", err)
		}
		f.Close()
		if f, err = os.OpenFile(l.Path(), os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
			return e, false, fmt.Errorf("event log: %w", err)
		}
		syncDir(l.Dir)
		cut = false
	}
	if cut {
		// A line left cut short (a full disk): end it, so ours is whole.
		line = append([]byte{'\n'}, line...)
	}
	n, err := f.Write(line)
	if err == nil && n < len(line) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return e, false, fmt.Errorf("event log: write: %w", err)
	}
	if err := f.Sync(); err != nil {
		return e, false, fmt.Errorf("event log: sync: %w", err)
	}
	return e, true, nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// lastOld is the seq of the last event in the older segment, 0 if none.
func (l *Log) lastOld() (int64, error) {
	f, err := os.Open(l.oldPath())
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	seq, _, err := lastSeq(f, st.Size())
	return seq, err
}

// lastSeq is the seq of the last whole event in f (of size bytes), 0 if
// none, and whether f ends with a line cut short. It reads the tail of
// the file, and the whole file only when the tail holds no event.
func lastSeq(f *os.File, size int64) (int64, bool, error) {
	if size == 0 {
		return 0, false, nil
	}
	from := max(size-2*MaxLine, 0)
	for {
		buf := make([]byte, size-from)
		if _, err := f.ReadAt(buf, from); err != nil && err != io.EOF {
			return 0, false, err
		}
		cut := buf[len(buf)-1] != '\n'
		var best int64
		found := false
		eachLine(buf, from > 0, func(line []byte) {
			if seq, ok := lineSeq(line); ok && seq > best {
				best, found = seq, true
			}
		})
		if found || from == 0 {
			return best, cut, nil
		}
		from = 0
	}
}

// eachLine calls fn with every newline-ended line of buf (without the
// newline); with skipFirst the bytes before the first newline are not a
// line (buf begins inside one).
func eachLine(buf []byte, skipFirst bool, fn func([]byte)) {
	if skipFirst {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			return
		}
		buf = buf[i+1:]
	}
	for len(buf) > 0 {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			return // cut short: not a line yet
		}
		fn(buf[:i])
		buf = buf[i+1:]
	}
}
