// Package tasklog owns the format of a task's output log: the bytes its
// terminal produced, addressed by logical offsets over the task's whole
// life, on disk as at most two segments (output.log and output.log.1)
// with logmeta saying where each starts, the time index (output.idx) for
// reads by time, the record of output that could not be written
// (logloss), and the readers' cursors. It has the one writer (Writer,
// used by the supervisor: appends, rotation, the index, loss) and the
// readers (Log: segments, reads, scans by line, tail, since, cursors).
//
// It knows nothing of tasks, tmux or the supervisor; it imports only
// fileutil of bgmux's packages.
package tasklog

import "path/filepath"

// Log is the output log of the task whose directory is Dir.
type Log struct {
	Dir string
}

// LogFile is the newest segment of the log.
const LogFile = "output.log"

func (l Log) path(name string) string { return filepath.Join(l.Dir, name) }
