package tasks

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// A task has two locks, both flocks on files it has from its creation on,
// so that taking them needs no disk space (a full disk must not stop a
// supervisor from recording how its run ended):
//
//   - the restart lock, on its spec (written once, when the task is
//     created, and never replaced): held by Restart from before it looks
//     at the task until the new run is recorded, so that restarts of one
//     task, from any number of processes, run one after the other;
//   - the record lock, on its directory: held for a moment by whoever
//     changes the run, exit or history records (a supervisor, restore),
//     so that a supervisor can check that the current run is still its
//     own and write its exit record without another supervisor claiming
//     a run in between.

// lockRestart takes the task's restart lock, waiting while another
// restart of the task holds it (until ctx ends). A task whose spec is
// gone is not found.
func (s *Store) lockRestart(ctx context.Context, id string) (func(), error) {
	f, err := os.Open(s.Path(id, SpecFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, Errorf(KindNotFound, "task %s is gone (removed meanwhile); see bgmux list", id)
		}
		return nil, wrap(err, "restart %s: lock", id)
	}
	fd := int(f.Fd())
	delay := time.Millisecond
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if err != unix.EWOULDBLOCK && err != unix.EINTR {
			f.Close()
			return nil, wrap(err, "restart %s: lock", id)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, Errorf(KindFailed, "restart %s: gave up waiting for another restart of it to finish: %v", id, ctx.Err())
		case <-t.C:
		}
		if delay < 50*time.Millisecond {
			delay *= 2
		}
	}
	return func() {
		unix.Flock(fd, unix.LOCK_UN)
		f.Close()
	}, nil
}

// RecordLock is a task's record lock (see above), opened once: a
// supervisor keeps it open for its whole life. Being an flock, it does
// not keep two goroutines of one process apart (they share its
// descriptor): a supervisor writes its records from one goroutine.
type RecordLock struct {
	f *os.File
}

// OpenRecordLock opens the record lock of task id.
func (s *Store) OpenRecordLock(id string) (*RecordLock, error) {
	f, err := os.Open(s.TaskDir(id))
	if err != nil {
		return nil, err
	}
	return &RecordLock{f: f}, nil
}

// Lock takes the lock and returns its release function. A lock that
// could not be opened locks nothing.
func (l *RecordLock) Lock() func() {
	if l == nil || l.f == nil {
		return func() {}
	}
	fd := int(l.f.Fd())
	for unix.Flock(fd, unix.LOCK_EX) == unix.EINTR {
	}
	return func() { unix.Flock(fd, unix.LOCK_UN) }
}

// Close closes the lock's file.
func (l *RecordLock) Close() {
	if l != nil && l.f != nil {
		l.f.Close()
	}
}

// withRecordLock runs fn holding task id's record lock.
func (s *Store) withRecordLock(id string, fn func() error) error {
	l, err := s.OpenRecordLock(id)
	if err != nil {
		return err
	}
	defer l.Close()
	unlock := l.Lock()
	defer unlock()
	return fn()
}
