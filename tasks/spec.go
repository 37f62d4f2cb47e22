package tasks

import (
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"
)

// Spec is what to run: written once at start to the task's spec sidecar.
type Spec struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Group string `json:"group"`
	// Command is a shell command string run with sh -c; nil when Argv is used.
	Command *string `json:"command"`
	// Argv is exec'd directly; nil when Command is used.
	Argv    []string          `json:"argv"`
	Cwd     string            `json:"cwd"`
	Env     map[string]string `json:"env,omitempty"`
	BaseEnv []string          `json:"base_env,omitempty"` // the starting client's environment
	Tags    []string          `json:"tags"`
	Restart string            `json:"restart"`
	// Socket is the tmux socket the task's window lives on.
	Socket    string    `json:"socket"`
	CreatedAt time.Time `json:"created_at"`
}

// ChildArgv is the argv the supervisor executes for this spec.
func (s *Spec) ChildArgv() []string {
	if s.Command != nil {
		return []string{"/bin/sh", "-c", *s.Command}
	}
	return s.Argv
}

// CommandLine is the command as a person would read it.
func (s *Spec) CommandLine() string {
	if s.Command != nil {
		return *s.Command
	}
	return strings.Join(s.Argv, " ")
}

// MaxNameLen is the longest task name accepted.
const MaxNameLen = 64

// ValidateName checks a task name: letters, digits, "_" and "-", starting
// with a letter or digit, at most MaxNameLen bytes, not looking like an id.
func ValidateName(name string) error {
	if name == "" {
		return Errorf(KindInvalid, "task name is empty; use letters, digits, '_' and '-'")
	}
	if len(name) > MaxNameLen {
		return Errorf(KindInvalid, "task name %q is %d bytes long; the limit is %d", name, len(name), MaxNameLen)
	}
	for i, r := range name {
		if r == utf8.RuneError {
			return Errorf(KindInvalid, "task name %q is not valid UTF-8; use letters, digits, '_' and '-'", name)
		}
		if !nameChar(r) || (i == 0 && (r == '-' || r == '_')) {
			return Errorf(KindInvalid, "task name %q has invalid character %q at byte %d; use letters, digits, '_' and '-' (starting with a letter or digit)", name, r, i)
		}
	}
	if strings.HasPrefix(name, IDPrefix) {
		return Errorf(KindInvalid, "task name %q starts with %q, which is reserved for task ids; choose another name", name, IDPrefix)
	}
	return nil
}

func nameChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-'
}

// sanitize maps s onto the name alphabet: other characters become "-",
// runs of "-" collapse, and leading/trailing "-" and "_" are dropped.
func sanitize(s string, max int) string {
	var b strings.Builder
	for _, r := range s {
		if !nameChar(r) {
			r = '-'
		}
		if r == '-' && strings.HasSuffix(b.String(), "-") {
			continue
		}
		b.WriteRune(r)
	}
	out := strings.Trim(b.String(), "-_")
	if len(out) > max {
		out = strings.TrimRight(out[:max], "-_")
	}
	return out
}

// DefaultName derives a task name from its command: the base name of the
// program, skipping leading VAR=value words and common wrappers.
func DefaultName(command *string, argv []string) string {
	words := argv
	if command != nil {
		words = strings.Fields(*command)
	}
	for len(words) > 0 {
		w := words[0]
		if strings.Contains(w, "=") && !strings.HasPrefix(w, "=") || w == "exec" || w == "env" || w == "nohup" || w == "sudo" || w == "time" {
			words = words[1:]
			continue
		}
		break
	}
	name := "task"
	if len(words) > 0 {
		name = sanitize(filepath.Base(words[0]), MaxNameLen)
	}
	if name == "" || strings.HasPrefix(name, IDPrefix) || ValidateName(name) != nil {
		name = "task"
	}
	return name
}

// ValidateEnvKey checks an environment variable name.
func ValidateEnvKey(k string) error {
	if k == "" {
		return Errorf(KindInvalid, "environment variable name is empty; use --env KEY=VALUE")
	}
	for i, r := range k {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return Errorf(KindInvalid, "environment variable name %q has invalid character %q; use letters, digits and '_'", k, r)
		}
	}
	return nil
}
