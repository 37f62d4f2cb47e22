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

// ValidateGroup checks a --group value; groups follow the task name rules.
func ValidateGroup(g string) error {
	if err := ValidateName(g); err != nil {
		return Errorf(KindInvalid, "group %q is not valid: use letters, digits, '_' and '-' (starting with a letter or digit, at most %d bytes)", g, MaxNameLen)
	}
	return nil
}
