package tasks

import "github.com/bgmux/bgmux/fileutil"

// readJSON reads one of the task's JSON sidecars, checked for shape
// (validate.go); see fileutil.ReadJSON.
func readJSON(path string, v any) error { return fileutil.ReadJSON(path, v, validateRecord) }

// CorruptError reports a sidecar that exists but cannot be parsed, or
// parses but is not a valid record.
type CorruptError = fileutil.CorruptError

// ReadRecord reads one of a task's JSON sidecars at path into v, checked
// for shape: a missing file is os.ErrNotExist, a damaged one a
// CorruptError (the supervisor reads its records with it).
func ReadRecord(path string, v any) error { return readJSON(path, v) }
