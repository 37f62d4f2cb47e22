package tasklog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/bgmux/bgmux/fileutil"
)

// CursorsDir is the directory, inside a task's directory, holding one
// cursor file per reader of the log (logs --new): where that reader
// stopped.
const CursorsDir = "cursors"

// cursorLockFile serialises the cursors of one task; its name cannot be a
// reader's (reader names start with a letter or digit).
const cursorLockFile = ".lock"

// cursorRecord is a reader's cursor file.
type cursorRecord struct {
	// Offset is the logical log offset up to which the reader has read.
	Offset    int64     `json:"offset"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CursorPath is the cursor file of reader.
func (l Log) CursorPath(reader string) string {
	return l.path(filepath.Join(CursorsDir, reader))
}

// ErrGone says the task's directory no longer exists.
var ErrGone = errors.New("the task's directory is gone")

// LockCursors takes the log's cursor lock (an flock, so it holds across
// processes) and returns its release function.
func (l Log) LockCursors() (func(), error) {
	dir := l.path(CursorsDir)
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrGone
		}
		return nil, err
	}
	return fileutil.LockFile(filepath.Join(dir, cursorLockFile))
}

// ReadCursor returns where reader stopped; a reader without a cursor
// starts at 0. Call it with the cursor lock held.
func (l Log) ReadCursor(reader string) (int64, error) {
	var rec cursorRecord
	err := readJSON(l.CursorPath(reader), &rec)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("the cursor of reader %q cannot be read: %w", reader, err)
	case rec.Offset < 0:
		return 0, nil
	}
	return rec.Offset, nil
}

// WriteCursor records where reader stopped (atomically). Call it with the
// cursor lock held.
func (l Log) WriteCursor(reader string, off int64) error {
	return fileutil.WriteJSON(l.CursorPath(reader), cursorRecord{Offset: off, UpdatedAt: time.Now().UTC()})
}
