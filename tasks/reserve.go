package tasks

import (
	"errors"
	"os"
	"sync"
	"syscall"
)

// ReserveFile is a file of real disk blocks that each supervisor keeps in
// its task directory while it runs, so that it can still record how the
// task ended when the disk has filled up (with the task's own output, or
// anything else): when writing a record fails for want of space, the
// reserve is shrunk to make room and the write is tried again. The
// supervisor deletes it when it ends.
const ReserveFile = "reserve"

// reserveSize is the reserve's size: room for the exit record, the run
// history (up to maxHistory entries) and the logloss record, each
// written to a temporary file before it replaces the old one.
const reserveSize = 64 << 10

// reserveStep is how much space one failed write gives back.
const reserveStep = 8 << 10

// diskReserve is a supervisor's reserve file.
type diskReserve struct {
	mu   sync.Mutex
	path string
	f    *os.File // nil once given back entirely (or never had)
	size int64
	// filled is closed once the background fill has ended.
	filled chan struct{}
}

// newDiskReserve creates (or takes over) the reserve file at path and
// fills it with zeros, so that its blocks are allocated. It does so in
// the background, not to delay the task's start; release and remove wait
// for it. When the disk is already too full it keeps what it could get.
func newDiskReserve(path string) *diskReserve {
	r := &diskReserve{path: path, filled: make(chan struct{})}
	r.mu.Lock()
	go func() {
		defer close(r.filled)
		defer r.mu.Unlock()
		r.fill()
	}()
	return r
}

// fill allocates the reserve; the caller holds r.mu.
func (r *diskReserve) fill() {
	path := r.path
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	zeros := make([]byte, reserveStep)
	var n int64
	for n < reserveSize {
		k, err := f.WriteAt(zeros, n)
		n += int64(k)
		if err != nil {
			break
		}
	}
	if n == 0 {
		f.Close()
		os.Remove(path)
		return
	}
	// A file left longer by an earlier supervisor keeps only what is
	// counted.
	f.Truncate(n)
	r.f, r.size = f, n
}

// release gives back up to reserveStep bytes of the reserve, keeping at
// least floor; it reports whether it freed anything.
func (r *diskReserve) release(floor int64) bool {
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
		r.f.Close()
		r.f, r.size = nil, 0
		return os.Remove(r.path) == nil
	}
	if err := r.f.Truncate(next); err != nil {
		return false
	}
	r.size = next
	return true
}

// remove deletes the reserve file.
func (r *diskReserve) remove() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
	r.size = 0
	os.Remove(r.path)
}

// noSpace reports whether err means the file system (or the user's
// quota) is full.
func noSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// writeJSONReserved writes a JSON sidecar like writeJSON; when that fails
// because the disk is full, it gives back part of the reserve (never
// going below floor) and tries again, until the write succeeds or the
// reserve is spent.
func writeJSONReserved(path string, v any, r *diskReserve, floor int64) error {
	err := writeJSON(path, v)
	for err != nil && noSpace(err) && r.release(floor) {
		err = writeJSON(path, v)
	}
	return err
}

// lossReason says in words why a write to the log failed.
func lossReason(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return "disk full (no space left on device)"
	case errors.Is(err, syscall.EDQUOT):
		return "disk quota exceeded"
	case errors.Is(err, syscall.EFBIG):
		return "file too large for the file system"
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
