package tasks

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"

	"github.com/bgmux/bgmux/fileutil"
	"github.com/bgmux/bgmux/tasklog"
	"github.com/bgmux/bgmux/tmuxctl"
)

// Sidecar file names inside a task's directory.
const (
	SpecFile   = "spec"
	RunFile    = "run"
	ExitFile   = "exit"
	WindowFile = "window"
	LogFile    = tasklog.LogFile
	// HistoryFile holds the exit records of past runs (JSON array).
	HistoryFile = "history"
	// StopFile marks a task stopped by bgmux stop: no restart follows.
	StopFile = "stopped"
)

// IDPrefix starts every task id.
const IDPrefix = "bg-"

// Store is the state directory: one directory per task under tasks/, and
// a lock file that serialises changes across concurrent bgmux processes.
type Store struct {
	Dir string
}

// DefaultStateDir is $BGMUX_STATE_DIR, else $XDG_STATE_HOME/bgmux, else
// ~/.local/state/bgmux.
func DefaultStateDir() (string, error) {
	if d := os.Getenv("BGMUX_STATE_DIR"); d != "" {
		return filepath.Abs(d)
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "bgmux"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", Errorf(KindInvalid, "cannot find the state directory: set BGMUX_STATE_DIR or HOME")
	}
	return filepath.Join(home, ".local", "state", "bgmux"), nil
}

// OpenStore returns the store at dir without creating anything.
func OpenStore(dir string) *Store { return &Store{Dir: dir} }

// Init creates the state directory (mode 0700) and its tasks directory.
// It refuses a state directory that another user owns or that group or
// others may write: whoever can rename entries there can swap a task's
// spec, which restore runs as you.
func (s *Store) Init() error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return s.unwritable(err)
	}
	if err := s.checkWritable(); err != nil {
		return err
	}
	if err := s.checkOwner(); err != nil {
		return err
	}
	if err := os.MkdirAll(s.tasksDir(), 0o700); err != nil {
		return s.unwritable(err)
	}
	return nil
}

// checkOwner fails unless the state directory belongs to this user and
// only this user may write to it.
func (s *Store) checkOwner() error {
	st, err := os.Stat(s.Dir)
	if err != nil {
		return s.unwritable(err)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Geteuid() {
		return &Error{Kind: KindInvalid, Msg: fmt.Sprintf("state directory %s belongs to uid %d, not to you (uid %d): its owner could change what bgmux runs as you; use a directory of your own (unset BGMUX_STATE_DIR for the default)", s.Dir, sys.Uid, os.Geteuid())}
	}
	if perm := st.Mode().Perm(); perm&0o022 != 0 {
		return &Error{Kind: KindInvalid, Msg: fmt.Sprintf("state directory %s has mode %04o: other users could change what bgmux runs as you; run chmod 700 %s", s.Dir, perm, tmuxctl.ShellQuote(s.Dir))}
	}
	return nil
}

// unwritable explains a failed write to the state directory: a full file
// system, or permissions.
func (s *Store) unwritable(err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return &Error{Kind: KindFailed, Msg: fmt.Sprintf("the file system of state directory %s is full (no space left on device); free some space and try again", s.Dir), Err: err}
	}
	return &Error{Kind: KindInvalid, Msg: fmt.Sprintf("state directory %s is not usable; fix its permissions or set BGMUX_STATE_DIR to a writable directory", s.Dir), Err: err}
}

func (s *Store) tasksDir() string { return filepath.Join(s.Dir, "tasks") }

// TaskDir is the directory holding one task's sidecars. An id that
// ValidID refuses names no directory (see noPath).
func (s *Store) TaskDir(id string) string { return s.taskFile(id, "") }

// Path is the path of one sidecar of a task, inside its directory. An
// invalid id, or a file name that would leave the directory, gives a path
// that no system call accepts (see noPath).
func (s *Store) Path(id, file string) string { return s.taskFile(id, file) }

// Lock takes the store's exclusive lock and returns its release function.
func (s *Store) Lock() (func(), error) {
	if err := s.Init(); err != nil {
		return nil, err
	}
	unlock, err := fileutil.LockFile(filepath.Join(s.Dir, "lock"))
	if err != nil && errors.Is(err, fs.ErrPermission) {
		return nil, s.unwritable(err)
	}
	return unlock, err
}

// idAlphabet avoids letters that read like digits (l, o) in a short id.
const idAlphabet = "0123456789abcdefghijkmnpqrstuvwxyz"

// NewID reserves a fresh task id by creating its directory.
func (s *Store) NewID() (string, error) {
	if err := s.Init(); err != nil {
		return "", err
	}
	for attempt := 0; attempt < 100; attempt++ {
		var b [6]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		id := IDPrefix
		for _, c := range b {
			id += string(idAlphabet[int(c)%len(idAlphabet)])
		}
		err := os.Mkdir(s.TaskDir(id), 0o700)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", s.unwritable(err)
		}
	}
	return "", errors.New("could not find a free task id")
}

// IDs lists every task id in the store, sorted.
func (s *Store) IDs() ([]string, error) {
	ents, err := os.ReadDir(s.tasksDir())
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	ids := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.IsDir() && ValidID(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// Exists reports whether a task directory with this exact id exists.
func (s *Store) Exists(id string) bool {
	if !ValidID(id) {
		return false
	}
	st, err := os.Stat(s.TaskDir(id))
	return err == nil && st.IsDir()
}

// Remove deletes a task's directory and everything in it, and its entry
// in the name index. The task goes at once or not at all: its directory
// is first renamed out of the way (.removing-ID, which no listing reads),
// so a deletion that fails midway never leaves half a task. It removes
// nothing but tasks/<id>/ for a valid id.
func (s *Store) Remove(id string) error {
	if !ValidID(id) {
		return fmt.Errorf("refusing to remove task %q: it is not a task id, so it names no directory of tasks/", id)
	}
	var sp Spec
	named := readJSON(s.Path(id, SpecFile), &sp) == nil
	trash := filepath.Join(s.tasksDir(), ".removing-"+id)
	os.RemoveAll(trash) // left by an earlier removal that failed
	if err := os.Rename(s.TaskDir(id), trash); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	if named {
		s.unindexName(sp.Group, sp.Name, id)
	}
	return os.RemoveAll(trash)
}
