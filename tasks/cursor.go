package tasks

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
// cursor file per reader of `logs --new`: where that reader stopped.
const CursorsDir = "cursors"

// DefaultReader is the reader of `logs --new` when none is named.
const DefaultReader = "default"

// cursorLockFile serialises the cursors of one task; its name cannot be a
// reader's (reader names start with a letter or digit).
const cursorLockFile = ".lock"

// cursorRecord is a reader's cursor file.
type cursorRecord struct {
	// Offset is the logical log offset up to which the reader has read.
	Offset    int64     `json:"offset"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ValidateReader checks a reader name for `logs --new --reader`: the same
// alphabet as task names (letters, digits, "_" and "-").
func ValidateReader(name string) error {
	return checkWord("reader name", name)
}

func (s *Store) cursorPath(id, reader string) string {
	return s.Path(id, filepath.Join(CursorsDir, reader))
}

// lockCursors takes the task's cursor lock (an flock, so it holds across
// bgmux processes) and returns its release function.
func (s *Store) lockCursors(id string) (func(), error) {
	dir := s.Path(id, CursorsDir)
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, Errorf(KindNotFound, "task %s was removed", id)
		}
		return nil, err
	}
	return lockFile(filepath.Join(dir, cursorLockFile))
}

// readCursor returns where reader stopped; a reader without a cursor
// starts at 0. Call it with the cursor lock held.
func (s *Store) readCursor(id, reader string) (int64, error) {
	var rec cursorRecord
	err := readJSON(s.cursorPath(id, reader), &rec)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, nil
	case err != nil:
		return 0, &Error{Kind: KindFailed, Msg: fmt.Sprintf("the cursor of reader %q cannot be read; remove %s to start that reader over, or use another --reader", reader, s.cursorPath(id, reader)), Err: err}
	case rec.Offset < 0:
		return 0, nil
	}
	return rec.Offset, nil
}

// writeCursor records where reader stopped (atomically). Call it with the
// cursor lock held.
func (s *Store) writeCursor(id, reader string, off int64) error {
	return fileutil.WriteJSON(s.cursorPath(id, reader), cursorRecord{Offset: off, UpdatedAt: time.Now().UTC()})
}

// ReaderOffset returns where reader's cursor stands in t's log (0 for a
// reader that has read nothing): `wait --new` waits for output after it.
// It does not move the cursor.
func (m *Manager) ReaderOffset(t *Task, reader string) (int64, error) {
	if reader == "" {
		reader = DefaultReader
	}
	if err := ValidateReader(reader); err != nil {
		return 0, err
	}
	unlock, err := m.Store.lockCursors(t.ID)
	if err != nil {
		return 0, err
	}
	defer unlock()
	return m.Store.readCursor(t.ID, reader)
}
