package eventlog

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// CursorsDir is the directory, inside the log's, of the readers' cursors.
const CursorsDir = "cursors"

// cursorRecord is one cursor file.
type cursorRecord struct {
	// Seq is the last event the reader has been given (or passed over).
	Seq       int64     `json:"seq"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CheckKey checks a cursor key: a file name that is not hidden.
func CheckKey(key string) error {
	if key == "" || strings.HasPrefix(key, ".") || strings.ContainsAny(key, "/\x00") || len(key) > 255 {
		return fmt.Errorf("bad cursor key %q", key)
	}
	return nil
}

// ReadNew returns the events after the cursor key for which match (nil:
// all) returns true, and moves the cursor past every event it examined,
// matched or not. The cursor lock is held from reading the cursor to
// writing it, so two concurrent calls with one key never return the same
// event, and each event is returned to a key once. A new key starts at
// the beginning of the log. A cursor beyond the newest event (the log
// was removed and began again) starts over.
func (l *Log) ReadNew(key string, match func(*Event) bool) (*ReadResult, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	dir := filepath.Join(l.Dir, CursorsDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := flock(f, unix.LOCK_EX); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, key)
	var cur cursorRecord
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &cur); err != nil {
			return nil, fmt.Errorf("the cursor %s cannot be read (%v); remove it to start that reader over", path, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	res, err := l.Read(max(cur.Seq, 0), match)
	if err != nil {
		return nil, err
	}
	if cur.Seq > res.Last {
		if res, err = l.Read(0, match); err != nil {
			return nil, err
		}
	}
	if res.Last != cur.Seq {
		if err := writeFileAtomic(path, cursorRecord{Seq: res.Last, UpdatedAt: time.Now().UTC()}); err != nil {
			return nil, fmt.Errorf("write the cursor %s: %w", path, err)
		}
	}
	return res, nil
}

// writeFileAtomic writes v as JSON to path through a temporary file,
// synced and renamed, so the cursor is the old one or the new one.
func writeFileAtomic(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}
