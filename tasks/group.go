package tasks

import (
	"os"
	"path/filepath"
)

// DefaultGroup is the group (tmux session) for work started in dir: the
// base name of its git top-level, else of dir itself, sanitised to the
// name alphabet.
func DefaultGroup(dir string) string {
	base := filepath.Base(dir)
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			base = filepath.Base(d)
			break
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	g := sanitize(base, MaxNameLen)
	if g == "" {
		g = "default"
	}
	return g
}

// ValidateGroup checks a --group value. It follows the task name rules,
// except that it may start with "bg-" (a group is never taken for a task
// id), so every DefaultGroup result is valid.
func ValidateGroup(g string) error {
	return checkWord("group", g)
}
