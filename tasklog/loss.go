package tasklog

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// LossFile is the sidecar in which the supervisor records output it
// could not write to the log (a full disk, say).
const LossFile = "logloss"

// Loss is the logloss sidecar: output the task wrote that is not in
// its log because writing the log failed. The log stays a faithful record
// of what it holds: every byte in it is a byte the task wrote, in order;
// after a gap it resumes at the start of a line. It counts over the
// task's whole life, like the log's logical offsets.
type Loss struct {
	// Bytes counts the output that is missing from the log. While
	// Dropping it is a lower bound (it is recorded when a gap opens and
	// when it closes, not at every write).
	Bytes int64 `json:"bytes"`
	// Offset is the logical log offset of the first gap: every byte
	// before it is in the log.
	Offset int64 `json:"offset"`
	// Gaps counts the places where output is missing.
	Gaps int `json:"gaps"`
	// Reason says why the log could not be written, e.g. "disk full (no
	// space left on device)".
	Reason string `json:"reason"`
	// At is when output was first lost.
	At time.Time `json:"at"`
	// Dropping reports that output was still being dropped when this was
	// recorded (the disk was still full).
	Dropping bool `json:"dropping"`
}

// LossReason says in words why a write to the log failed.
func LossReason(err error) string {
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
