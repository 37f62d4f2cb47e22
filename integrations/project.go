package integrations

import (
	"os"
	"path/filepath"
)

// ProjectRoot is the directory a project's agent configuration belongs in:
// the git top-level of dir, else dir itself.
func ProjectRoot(dir string) string {
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}

// ConfigHome is $XDG_CONFIG_HOME, else ~/.config, from getenv.
func ConfigHome(getenv func(string) string) string {
	if x := getenv("XDG_CONFIG_HOME"); x != "" && filepath.IsAbs(x) {
		return x
	}
	return filepath.Join(Home(getenv), ".config")
}

// Home is $HOME, else the user's home directory.
func Home(getenv func(string) string) string {
	if h := getenv("HOME"); h != "" {
		return h
	}
	h, _ := os.UserHomeDir()
	return h
}
