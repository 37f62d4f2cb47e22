package tasks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// writeFileAtomic writes data so that readers see either the old file or
// the whole new one: temp file, fsync, rename, fsync of the directory.
func writeFileAtomic(path string, data []byte) error {
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
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// writeJSON writes v as an indented JSON sidecar atomically.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(data, '\n'))
}

// readJSON reads a JSON sidecar; a missing file is reported with
// os.ErrNotExist, an unparsable one, or one that parses but is not a
// valid record (see validate.go), with a CorruptError.
func readJSON(path string, v any) error {
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	data, err := readSmallFileInto(path, (*bp)[:0])
	if cap(data) <= maxPooledRead {
		*bp = data[:0] // keep a grown buffer for the next read
	}
	if err != nil {
		return err
	}
	// encoding/json copies what it keeps, so the buffer can be reused.
	if err := json.Unmarshal(data, v); err != nil {
		return &CorruptError{Path: path, Err: err, data: bytes.Clone(data)}
	}
	if err := validateRecord(v, dirIDOf(path)); err != nil {
		return &CorruptError{Path: path, Err: err, data: bytes.Clone(data)}
	}
	return nil
}

// readBufs holds read buffers for readJSON: list reads thousands of
// sidecars, and a fresh buffer for each (zeroed, often on a fresh page)
// cost a fifth of its time.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooledRead bounds the buffers kept in readBufs.
const maxPooledRead = 64 << 10

// CorruptError reports a sidecar that exists but cannot be parsed, or
// parses but is not a valid record (Err is then an *invalidRecord).
type CorruptError struct {
	Path string
	Err  error
	// data is what the file held when it was read.
	data []byte
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("sidecar %s %s; it is left as it is for inspection", e.Path, e.problem())
}

// problem says what is wrong with the file, in words.
func (e *CorruptError) problem() string {
	var te *json.UnmarshalTypeError
	var ir *invalidRecord
	switch {
	case errors.As(e.Err, &ir):
		return "is not a valid record: " + ir.msg
	case len(bytes.TrimSpace(e.data)) == 0:
		return "is empty"
	case errors.As(e.Err, &te):
		return fmt.Sprintf("does not have the expected fields (%v)", e.Err)
	case strings.Contains(e.Err.Error(), "unexpected end of JSON input"):
		return "is truncated (its JSON ends early)"
	}
	return fmt.Sprintf("is not valid JSON (%v)", e.Err)
}

// readSmallFile reads a whole file with plain system calls. os.ReadFile
// would also register the descriptor with Go's network poller (three
// extra system calls per file), which dominates list at 1,000 tasks.
func readSmallFile(path string) ([]byte, error) {
	return readSmallFileInto(path, make([]byte, 0, 1024))
}

// readSmallFileInto is readSmallFile appending to buf (grown as needed).
func readSmallFileInto(path string, buf []byte) ([]byte, error) {
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
