package tasks

import "github.com/bgmux/bgmux/tasklog"

// The output log's files and records; the log format is package tasklog.
const (
	PrevLogFile   = tasklog.PrevLogFile
	LogMetaFile   = tasklog.MetaFile
	TimeIndexFile = tasklog.TimeIndexFile
)

// LogMeta is the logmeta sidecar: where each segment starts.
type LogMeta = tasklog.Meta

// LogChunk is a slice of a task's output by logical offsets.
type LogChunk = tasklog.Chunk

// DefaultMaxLogSize bounds output.log (and output.log.1) per task.
const DefaultMaxLogSize = tasklog.DefaultMaxLogSize

// Log is the output log of task id.
func (s *Store) Log(id string) tasklog.Log { return tasklog.Log{Dir: s.TaskDir(id)} }

// LogEnd returns the logical offset just past the newest byte of t's
// log: output written after this call starts at or beyond it.
func (m *Manager) LogEnd(t *Task) (int64, error) {
	seg, err := m.Store.Log(t.ID).Segments()
	if err != nil {
		return 0, err
	}
	return seg.End(), nil
}

// ReadLog returns the task's output from logical offset from (clamped to the
// oldest whole line still on disk) up to the current end, at most max bytes when
// max > 0 (the newest bytes are cut, not the oldest). from < 0 counts back
// from the end.
func (m *Manager) ReadLog(t *Task, from, max int64) (*LogChunk, error) {
	return m.Store.Log(t.ID).Read(from, max)
}
