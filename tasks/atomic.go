package tasks

import "github.com/bgmux/bgmux/fileutil"

// readJSON reads one of the task's JSON sidecars, checked for shape
// (validate.go); see fileutil.ReadJSON.
func readJSON(path string, v any) error { return fileutil.ReadJSON(path, v, validateRecord) }

// CorruptError reports a sidecar that exists but cannot be parsed, or
// parses but is not a valid record.
type CorruptError = fileutil.CorruptError
