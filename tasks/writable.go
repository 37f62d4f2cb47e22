package tasks

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"golang.org/x/sys/unix"
)

// checkWritable reports, before anything is created, a state directory
// that exists but cannot be written: on a read-only file system (which
// stops root too), or not writable by this user. The error is
// invalid_input (exit status 2) and says what to do. A directory that
// does not exist yet is left to Init to create.
func (s *Store) checkWritable() error {
	err := unix.Access(s.Dir, unix.W_OK|unix.X_OK)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if errors.Is(err, syscall.EROFS) {
		return &Error{Kind: KindInvalid, Msg: fmt.Sprintf("state directory %s is on a read-only file system, so no task can be started or changed (list, status and logs still work); remount it read-write or set BGMUX_STATE_DIR to a writable directory", s.Dir)}
	}
	return &Error{Kind: KindInvalid, Msg: fmt.Sprintf("state directory %s is not writable by this user (%v); fix its owner or permissions (chmod 700 it as its owner) or set BGMUX_STATE_DIR to a writable directory", s.Dir, err)}
}
