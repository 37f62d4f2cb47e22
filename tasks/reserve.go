package tasks

import (
	"errors"
	"os"
	"sync"
	"syscall"

	"github.com/bgmux/bgmux/fileutil"

	"golang.org/x/sys/unix"
)

// ReserveFile is a file of real disk blocks that each supervisor keeps in
// its task directory while it runs, so that it can still record how the
// task ended when the disk has filled up (with the task's own output, or
// anything else): when writing a record fails for want of space, the
// reserve is shrunk to make room and the write is tried again. The
// supervisor deletes it when it ends.
const ReserveFile = "reserve"

// ReserveSize is the reserve's size: room for the exit record, the run
// history (up to maxHistory entries) and the logloss record, each
// written to a temporary file before it replaces the old one.
const ReserveSize = 64 << 10

// reserveStep is how much space one failed write gives back.
const reserveStep = 8 << 10

// DiskReserve is a supervisor's reserve file.
type DiskReserve struct {
	mu   sync.Mutex
	path string
	f    *os.File // nil once given back entirely (or never had)
	size int64
	// filled is closed once the background fill has ended.
	filled chan struct{}
}

// NewDiskReserve creates (or takes over) the reserve file at path and
// fills it with zeros, so that its blocks are allocated. It does so in
// the background, not to delay the task's start; release and remove wait
// for it. When the disk is already too full it keeps what it could get.
func NewDiskReserve(path string) *DiskReserve {
	r := &DiskReserve{path: path, filled: make(chan struct{})}
	r.mu.Lock()
	go func() {
		defer close(r.filled)
		defer r.mu.Unlock()
		r.fill()
	}()
	return r
}

// fill allocates the reserve; the caller holds r.mu.
func (r *DiskReserve) fill() {
	path := r.path
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	n := allocReserve(f)
	if n == 0 {
		f.Close()
		os.Remove(path)
		return
	}
	r.f, r.size = f, n
}

// allocReserve makes f a reserve of up to ReserveSize bytes of real disk
// blocks, keeping the blocks it already has (a reserve taken over), and
// returns how many bytes it holds.
func allocReserve(f *os.File) int64 {
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) == nil && st.Size >= ReserveSize && st.Blocks*512 >= ReserveSize {
		f.Truncate(ReserveSize)
		return ReserveSize
	}
	zeros := make([]byte, reserveStep)
	var n int64
	for n < ReserveSize {
		k, err := f.WriteAt(zeros, n)
		n += int64(k)
		if err != nil {
			break
		}
	}
	// A file left longer by an earlier supervisor keeps only what is
	// counted.
	f.Truncate(n)
	return n
}

// held is how many bytes the reserve holds, once it is filled.
func (r *DiskReserve) Held() int64 {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.size
}

// release gives back up to reserveStep bytes of the reserve, keeping at
// least floor; it reports whether it freed anything.
func (r *DiskReserve) Release(floor int64) bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil || r.size <= floor {
		return false
	}
	next := max(r.size-reserveStep, floor)
	if next == 0 {
		err := r.f.Truncate(0)
		if sameFile(r.f, r.path) {
			os.Remove(r.path)
		}
		r.f.Close()
		r.f, r.size = nil, 0
		return err == nil
	}
	if err := r.f.Truncate(next); err != nil {
		return false
	}
	r.size = next
	return true
}

// remove deletes the reserve file, unless its name now belongs to
// another file (the reserve was handed over to the task's next run, see
// NextReserveFile, and the next supervisor already has its own).
func (r *DiskReserve) Remove() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f != nil {
		if sameFile(r.f, r.path) {
			os.Remove(r.path)
		}
		r.f.Close()
		r.f = nil
	}
	r.size = 0
}

// sameFile reports whether path names the file f has open.
func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// NextReserveFile is the disk reserve prepared for a task's next
// supervisor: start and restart make sure of it before they run the
// command (a run that could not be recorded must not start), taking over
// the reserve of the supervisor a restart replaces, and the supervisor
// takes it over as its ReserveFile when it begins.
const NextReserveFile = "reserve.next"

// minReserve is the least reserve a run may start with: enough for its
// run record, exit record and history.
const minReserve = ReserveSize / 2

// prepareReserve makes sure task id has a reserve for its next
// supervisor (NextReserveFile): the current supervisor's reserve when
// there is one (renamed, so that it is not deleted when that supervisor
// ends), topped up to ReserveSize, else a new one. It fails, leaving no
// new file, when the disk cannot give minReserve bytes; undo puts things
// back as they were when no supervisor is going to take the reserve over.
func (s *Store) prepareReserve(id string) (undo func(), err error) {
	next, cur := s.Path(id, NextReserveFile), s.Path(id, ReserveFile)
	renamed := false
	if _, err := os.Stat(next); errors.Is(err, os.ErrNotExist) {
		if err := os.Rename(cur, next); err == nil {
			renamed = true
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	undo = func() {
		if renamed {
			os.Rename(next, cur)
		} else {
			os.Remove(next)
		}
	}
	f, err := os.OpenFile(next, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		undo()
		return nil, err
	}
	n := allocReserve(f)
	f.Close()
	if n < minReserve {
		undo()
		return nil, &os.PathError{Op: "allocate the disk reserve", Path: next, Err: syscall.ENOSPC}
	}
	return undo, nil
}

// shrinkNextReserve gives back reserveStep bytes of task id's
// NextReserveFile, keeping at least minReserve; it reports whether it
// freed anything.
func (s *Store) shrinkNextReserve(id string) bool {
	path := s.Path(id, NextReserveFile)
	st, err := os.Stat(path)
	if err != nil || st.Size()-reserveStep < minReserve {
		return false
	}
	return os.Truncate(path, st.Size()-reserveStep) == nil
}

// TakeOverReserve gives the supervisor of task id the reserve prepared
// for it, when there is one.
func (s *Store) TakeOverReserve(id string) {
	os.Rename(s.Path(id, NextReserveFile), s.Path(id, ReserveFile))
}

// NoSpace reports whether err means the file system (or the user's
// quota) is full.
func NoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// WriteJSONReserved writes a JSON sidecar like writeJSON; when that fails
// because the disk is full, it gives back part of the reserve (never
// going below floor) and tries again, until the write succeeds or the
// reserve is spent.
func WriteJSONReserved(path string, v any, r *DiskReserve, floor int64) error {
	err := fileutil.WriteJSON(path, v)
	for err != nil && NoSpace(err) && r.Release(floor) {
		err = fileutil.WriteJSON(path, v)
	}
	return err
}

// diskFree is how many bytes of the file system holding dir this user
// may still write.
func diskFree(dir string) (uint64, bool) {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return 0, false
	}
	return uint64(st.Bavail) * uint64(st.Bsize), true
}
