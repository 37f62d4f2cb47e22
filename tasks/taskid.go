package tasks

import (
	"path/filepath"
	"strconv"
)

// A task's identity is the name of its directory, tasks/<id>/: never a
// value read from a file. Every path bgmux reads, writes or removes for a
// task is built by TaskDir and Path from an id that ValidID accepts, so
// it lies inside that task's own directory.

// maxIDLen bounds a task id: the prefix and a name-sized rest.
const maxIDLen = len(IDPrefix) + MaxNameLen

// ValidID reports whether id can name a task directory: "bg-" followed by
// letters, digits, "_" and "-", at most maxIDLen bytes. Such an id is one
// path element that is neither "." nor "..", so tasks/<id> is always a
// directory directly inside tasks/.
func ValidID(id string) bool {
	if len(id) <= len(IDPrefix) || len(id) > maxIDLen || id[:len(IDPrefix)] != IDPrefix {
		return false
	}
	for i := len(IDPrefix); i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// noPath stands for the path of something that is not inside a task's
// directory (an invalid id, or a file name that leaves the directory). It
// holds a NUL byte, which every system call refuses (EINVAL), so nothing
// can be opened, written or removed through it; it still reads well in an
// error message.
func noPath(s *Store, what string) string {
	return filepath.Join(s.tasksDir(), "invalid "+strconv.Quote(what)+"\x00")
}

// taskFile is the path of file inside task id's directory, or noPath when
// id is not a valid id or file does not stay inside the directory.
func (s *Store) taskFile(id, file string) string {
	if !ValidID(id) {
		return noPath(s, "task id "+id)
	}
	if file == "" {
		return filepath.Join(s.tasksDir(), id)
	}
	if !filepath.IsLocal(file) {
		return noPath(s, "file "+file)
	}
	return filepath.Join(s.tasksDir(), id, file)
}
