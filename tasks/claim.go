package tasks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/bgmux/bgmux/fileutil"

	"golang.org/x/sys/unix"
)

// LaunchFile holds the token of the latest restart's supervisor: written
// by restart before its tmux call, checked by that supervisor before it
// runs anything (--launch TOKEN), removed by a restart that gave up.
const LaunchFile = "launch"

// A tmux call that gives up (tmux did not answer in time) may still run
// when the server wakes up, and start a supervisor nobody waits for. The
// launcher (start, restart) and the supervisor settle who wins under the
// task's record lock (tasklock.go: a flock on the task's directory): the supervisor claims its task (the task
// exists, and for a restart its token is the latest) and holds the lock
// until its run record is written; a launcher that gave up takes the
// lock and, unless the run record shows the supervisor got there first,
// withdraws the launch (start removes the task, restart its token). A
// supervisor that finds its launch withdrawn runs nothing and closes a
// window that is not the task's recorded one.

// claimLockWait bounds how long a launcher that gave up waits for the
// lock a supervisor holds while it starts its first run.
const claimLockWait = 5 * time.Second

// lockDir takes an exclusive flock on directory dir; wait bounds how long
// (0: as long as it takes).
func lockDir(dir string, wait time.Duration) (func(), error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	how := unix.LOCK_EX
	if wait > 0 {
		how |= unix.LOCK_NB
	}
	deadline := time.Now().Add(wait)
	for {
		err = unix.Flock(fd, how)
		if err == nil {
			var once sync.Once
			return func() { once.Do(func() { unix.Flock(fd, unix.LOCK_UN); unix.Close(fd) }) }, nil
		}
		if err == unix.EINTR || err == unix.EWOULDBLOCK && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		unix.Close(fd)
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
}

// newLaunchToken writes a fresh launch token for task id and returns it.
func (s *Store) newLaunchToken(id string) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	token := hex.EncodeToString(b[:])
	write := func() error { return fileutil.WriteFileAtomic(s.Path(id, LaunchFile), []byte(token+"\n")) }
	err := write()
	if NoSpace(err) && s.shrinkNextReserve(id) {
		// A full disk: the token takes its block from the reserve made
		// sure of for this run, which keeps more than minReserve.
		err = write()
	}
	if err != nil {
		return "", err
	}
	return token, nil
}

// abandonStart undoes a start whose window could not be made (or
// recorded): the task is removed, so that a supervisor tmux starts later
// finds nothing and closes its window. A supervisor that already claimed
// the task (its run record exists) is killed first, and windows of the
// task that tmux shows are closed.
func (m *Manager) abandonStart(ctx context.Context, id string) {
	// The start may have given up because its caller went away (Ctrl-C):
	// the clean-up still runs, within its own bound.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), claimLockWait+exitRecordWait)
	defer cancel()
	unlock, err := lockDir(m.Store.TaskDir(id), claimLockWait)
	if err == nil {
		defer unlock()
	}
	if fileExists(m.Store.Path(id, RunFile)) {
		if t, err := m.Store.load(id); err == nil {
			m.Stop(ctx, t, StopOptions{Signal: "KILL"})
		}
		defer m.closeWindowsOf(ctx, id)
	}
	m.Store.Remove(id)
}

// abandonRestart withdraws a restart's launch (its token) unless its
// supervisor already began run prevRun+1; it reports whether it had.
func (m *Manager) abandonRestart(id string, prevRun int) (began bool) {
	unlock, err := lockDir(m.Store.TaskDir(id), claimLockWait)
	if err == nil {
		defer unlock()
	}
	var r Run
	if readJSON(m.Store.Path(id, RunFile), &r) == nil && r.Run > prevRun {
		return true
	}
	os.Remove(m.Store.Path(id, LaunchFile))
	return false
}

// closeWindowsOf closes the windows tmux shows for task id (by their
// @bgmux_id), best effort.
func (m *Manager) closeWindowsOf(ctx context.Context, id string) {
	panes, err := m.Tmux.ListPanes(ctx)
	if err != nil {
		return
	}
	var ws []string
	for _, p := range panes {
		if p.TaskID == id {
			ws = append(ws, p.Window)
		}
	}
	m.Tmux.KillWindows(ctx, ws)
}
