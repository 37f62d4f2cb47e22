package fileutil

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// WriteFileAtomic writes data so that readers see either the old file or
// the whole new one: temp file, fsync, rename, fsync of the directory.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return SyncDir(dir)
}

// SyncDir makes the entries of directory dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// WriteJSON writes v as an indented JSON sidecar atomically.
func WriteJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(data, '\n'))
}

// ReadJSON reads a JSON sidecar into v; a missing file is reported with
// os.ErrNotExist, an unparsable one, or one that parses but that check
// finds is not a valid record, with a CorruptError. check (nil: none) is
// given the decoded value and the name of the file's directory.
func ReadJSON(path string, v any, check func(v any, dir string) error) error {
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	data, err := ReadSmallFileInto(path, (*bp)[:0])
	if cap(data) <= maxPooledRead {
		*bp = data[:0] // keep a grown buffer for the next read
	}
	if err != nil {
		return err
	}
	// encoding/json copies what it keeps, so the buffer can be reused.
	if err := json.Unmarshal(data, v); err != nil {
		return &CorruptError{Path: path, Err: err, Data: bytes.Clone(data)}
	}
	if check == nil {
		return nil
	}
	if err := check(v, dirOf(path)); err != nil {
		return &CorruptError{Path: path, Err: err, Data: bytes.Clone(data)}
	}
	return nil
}

// readBufs holds read buffers for ReadJSON: list reads thousands of
// sidecars, and a fresh buffer for each (zeroed, often on a fresh page)
// cost a fifth of its time.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooledRead bounds the buffers kept in readBufs.
const maxPooledRead = 64 << 10

// CorruptError reports a sidecar that exists but cannot be parsed, or
// parses but is not a valid record (Err is then an *InvalidRecord).
type CorruptError struct {
	Path string
	Err  error
	// Data is what the file held when it was read.
	Data []byte
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("sidecar %s %s; it is left as it is for inspection", e.Path, e.Problem())
}

// Problem says what is wrong with the file, in words.
func (e *CorruptError) Problem() string {
	var te *json.UnmarshalTypeError
	var ir *InvalidRecord
	switch {
	case errors.As(e.Err, &ir):
		return "is not a valid record: " + ir.msg
	case len(bytes.TrimSpace(e.Data)) == 0:
		return "is empty"
	case errors.As(e.Err, &te):
		return fmt.Sprintf("does not have the expected fields (%v)", e.Err)
	case strings.Contains(e.Err.Error(), "unexpected end of JSON input"):
		return "is truncated (its JSON ends early)"
	}
	return fmt.Sprintf("is not valid JSON (%v)", e.Err)
}

// ReadSmallFile reads a whole file with plain system calls. os.ReadFile
// would also register the descriptor with Go's network poller (three
// extra system calls per file), which dominates list at 1,000 tasks.
func ReadSmallFile(path string) ([]byte, error) {
	return ReadSmallFileInto(path, make([]byte, 0, 1024))
}

// ReadSmallFileInto is ReadSmallFile appending to buf (grown as needed).
func ReadSmallFileInto(path string, buf []byte) ([]byte, error) {
	var fd int
	var err error
	for {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return buf, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return buf, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}

// InvalidRecord is the error of a sidecar that parses but is not a valid
// record (what a ReadJSON check returns).
type InvalidRecord struct{ msg string }

func (e *InvalidRecord) Error() string { return e.msg }

// Invalidf makes an InvalidRecord.
func Invalidf(format string, args ...any) error {
	return &InvalidRecord{msg: fmt.Sprintf(format, args...)}
}

// SetAside renames a sidecar that cannot be parsed to
// <file>.corrupt-<UTC time>, so that the one written next does not
// overwrite it, and returns the new path ("" when it could not).
func SetAside(path string) string {
	dst := path + ".corrupt-" + time.Now().UTC().Format("20060102T150405.000000000Z")
	if os.Rename(path, dst) != nil {
		return ""
	}
	return dst
}

// ReadAt reads up to n bytes of path at off; a missing file or a short
// file gives what there is.
func ReadAt(path string, off, n int64) ([]byte, error) {
	if n <= 0 {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	k, err := f.ReadAt(buf, off)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return buf[:k], nil
}

// FileStat is the inode number and size of the file at p.
func FileStat(p string) (ino uint64, size int64, err error) {
	st, err := os.Stat(p)
	if err != nil {
		return 0, 0, err
	}
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		ino = uint64(s.Ino)
	}
	return ino, st.Size(), nil
}

// dirOf is the name of the directory holding path (its last element but
// one), without allocating: the name ReadJSON gives its check.
func dirOf(path string) string {
	end := len(path)
	for end > 0 && path[end-1] != '/' {
		end--
	}
	for end > 0 && path[end-1] == '/' {
		end--
	}
	start := end
	for start > 0 && path[start-1] != '/' {
		start--
	}
	return path[start:end]
}

// LockFile takes an exclusive flock on path (created if needed) and
// returns its release function.
func LockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return func() {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}
