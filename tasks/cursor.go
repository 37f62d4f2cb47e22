package tasks

import (
	"errors"
	"fmt"

	"github.com/bgmux/bgmux/tasklog"
)

// CursorsDir is the directory, inside a task's directory, holding one
// cursor file per reader of `logs --new`: where that reader stopped.
const CursorsDir = tasklog.CursorsDir

// DefaultReader is the reader of `logs --new` when none is named.
const DefaultReader = "default"

// ValidateReader checks a reader name for `logs --new --reader`: the same
// alphabet as task names (letters, digits, "_" and "-").
func ValidateReader(name string) error {
	return checkWord("reader name", name)
}

// lockCursors takes the task's cursor lock (see tasklog.Log.LockCursors).
func (s *Store) lockCursors(id string) (func(), error) {
	unlock, err := s.Log(id).LockCursors()
	if errors.Is(err, tasklog.ErrGone) {
		return nil, Errorf(KindNotFound, "task %s was removed", id)
	}
	return unlock, err
}

// readCursor returns where reader stopped (0 for a new reader). Call it
// with the cursor lock held.
func (s *Store) readCursor(id, reader string) (int64, error) {
	off, err := s.Log(id).ReadCursor(reader)
	if err != nil {
		return 0, &Error{Kind: KindFailed, Msg: fmt.Sprintf("the cursor of reader %q cannot be read; remove %s to start that reader over, or use another --reader", reader, s.Log(id).CursorPath(reader)), Err: err}
	}
	return off, nil
}

// writeCursor records where reader stopped. Call it with the cursor lock
// held.
func (s *Store) writeCursor(id, reader string, off int64) error {
	return s.Log(id).WriteCursor(reader, off)
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
