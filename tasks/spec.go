package tasks

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bgmux/bgmux/tmuxctl"
)

// Spec is what to run: written once at start to the task's spec sidecar.
type Spec struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Group string `json:"group"`
	// Command is a shell command string run with sh -c; nil when Argv is used.
	Command *string `json:"command"`
	// Argv is exec'd directly; nil when Command is used.
	Argv []string          `json:"argv"`
	Cwd  string            `json:"cwd"`
	Env  map[string]string `json:"env,omitempty"`
	// BaseEnv is the starting client's environment; Store.load leaves it
	// out (see specSummary), the supervisor reads it.
	BaseEnv []string `json:"base_env,omitempty"`
	Tags    []string `json:"tags"`
	Restart string   `json:"restart"`
	// Socket is the tmux socket the task's window lives on.
	Socket    string    `json:"socket"`
	CreatedAt time.Time `json:"created_at"`
	// MaxRestarts bounds automatic restarts; nil means no bound.
	MaxRestarts *int `json:"max_restarts,omitempty"`
	// MaxLogSize bounds output.log and output.log.1 each, in bytes.
	MaxLogSize int64 `json:"max_log_size,omitempty"`
	// Declared is the config file that declares this task (bgmux up), ""
	// for a task started by hand.
	Declared string `json:"declared,omitempty"`
	// Shell runs Command (config key shell); empty means /bin/sh.
	Shell string `json:"shell,omitempty"`
	// Autostart marks a declared task that restore brings back after a
	// reboot or a tmux server loss whatever its restart policy.
	Autostart bool `json:"autostart,omitempty"`
}

// specBytes keeps the exact bytes of spec strings that are not valid
// UTF-8. JSON strings cannot hold such bytes (encoding/json replaces them
// with U+FFFD), yet a command, a file name or an environment value may
// contain them, and the supervisor must run exactly what was given.
// []byte values are stored as base64.
type specBytes struct {
	Command []byte            `json:"command,omitempty"`
	Argv    [][]byte          `json:"argv,omitempty"`
	Cwd     []byte            `json:"cwd,omitempty"`
	Env     map[string][]byte `json:"env,omitempty"`
	BaseEnv [][]byte          `json:"base_env,omitempty"`
}

// specJSON is the on-disk form of a Spec: its fields plus, only when some
// string is not valid UTF-8, the exact bytes of those strings.
type specJSON struct {
	specFields
	Bytes *specBytes `json:"bytes,omitempty"`
}

type specFields Spec

// MarshalJSON writes the spec, keeping the exact bytes of any string that
// is not valid UTF-8 in the "bytes" object.
func (s Spec) MarshalJSON() ([]byte, error) {
	var b specBytes
	raw := false
	if s.Command != nil && !utf8.ValidString(*s.Command) {
		b.Command, raw = []byte(*s.Command), true
	}
	if !allValid(s.Argv) {
		b.Argv, raw = toBytes(s.Argv), true
	}
	if !utf8.ValidString(s.Cwd) {
		b.Cwd, raw = []byte(s.Cwd), true
	}
	for k, v := range s.Env {
		if !utf8.ValidString(v) {
			if b.Env == nil {
				b.Env = map[string][]byte{}
			}
			b.Env[k], raw = []byte(v), true
		}
	}
	if !allValid(s.BaseEnv) {
		b.BaseEnv, raw = toBytes(s.BaseEnv), true
	}
	out := specJSON{specFields: specFields(s)}
	if raw {
		out.Bytes = &b
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads a spec written by MarshalJSON, restoring the exact
// bytes kept in "bytes".
func (s *Spec) UnmarshalJSON(data []byte) error {
	var in specJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*s = Spec(in.specFields)
	s.restoreBytes(in.Bytes)
	return nil
}

// restoreBytes puts back the exact bytes of the strings kept in b.
func (s *Spec) restoreBytes(b *specBytes) {
	if b == nil {
		return
	}
	if b.Command != nil {
		c := string(b.Command)
		s.Command = &c
	}
	if b.Argv != nil {
		s.Argv = fromBytes(b.Argv)
	}
	if b.Cwd != nil {
		s.Cwd = string(b.Cwd)
	}
	for k, v := range b.Env {
		if s.Env == nil {
			s.Env = map[string]string{}
		}
		s.Env[k] = string(v)
	}
	if b.BaseEnv != nil {
		s.BaseEnv = fromBytes(b.BaseEnv)
	}
}

// specSummary decodes a spec without its base_env (the starting client's
// whole environment, most of the spec's bytes): what list and status
// read. Only the supervisor, which runs the command, needs base_env and
// decodes the full Spec.
type specSummary Spec

// UnmarshalJSON reads a spec as Spec.UnmarshalJSON does, leaving BaseEnv
// nil.
func (s *specSummary) UnmarshalJSON(data []byte) error {
	var in struct {
		specFields
		BaseEnv skipJSON `json:"base_env,omitempty"` // shadows specFields.BaseEnv
		Bytes   *struct {
			specBytes
			BaseEnv skipJSON `json:"base_env,omitempty"`
		} `json:"bytes,omitempty"`
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*s = specSummary(in.specFields)
	if in.Bytes != nil {
		(*Spec)(s).restoreBytes(&in.Bytes.specBytes)
	}
	return nil
}

// skipJSON decodes any JSON value into nothing, without allocating.
type skipJSON struct{}

// UnmarshalJSON ignores the value.
func (*skipJSON) UnmarshalJSON([]byte) error { return nil }

func allValid(ss []string) bool {
	for _, x := range ss {
		if !utf8.ValidString(x) {
			return false
		}
	}
	return true
}

func toBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, x := range ss {
		out[i] = []byte(x)
	}
	return out
}

func fromBytes(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, x := range bs {
		out[i] = string(x)
	}
	return out
}

// ChildArgv is the argv the supervisor executes for this spec.
func (s *Spec) ChildArgv() []string {
	if s.Command != nil {
		sh := s.Shell
		if sh == "" {
			sh = "/bin/sh"
		}
		return []string{sh, "-c", *s.Command}
	}
	return s.Argv
}

// CommandLine is the command as a person would read it.
func (s *Spec) CommandLine() string {
	if s.Command != nil {
		return *s.Command
	}
	return QuoteArgv(s.Argv)
}

// QuoteArgv renders an argv as a shell would need it typed, quoting words
// that need it, so a displayed command can be copied and run.
func QuoteArgv(argv []string) string {
	words := make([]string, len(argv))
	for i, a := range argv {
		words[i] = tmuxctl.ShellQuote(a)
	}
	return strings.Join(words, " ")
}

// MaxNameLen is the longest task name accepted.
const MaxNameLen = 64

// ValidateName checks a task name: letters, digits, "_" and "-", starting
// with a letter or digit, at most MaxNameLen bytes, not looking like an id.
func ValidateName(name string) error {
	if err := checkWord("task name", name); err != nil {
		return err
	}
	if strings.HasPrefix(name, IDPrefix) {
		return Errorf(KindInvalid, "task name %q starts with %q, which is reserved for task ids; choose another name", name, IDPrefix)
	}
	return nil
}

// checkWord checks the alphabet shared by task names, groups and tags:
// letters, digits, "_" and "-", starting with a letter or digit, at most
// MaxNameLen bytes. what names the value in the error ("task name").
func checkWord(what, s string) error {
	if s == "" {
		return Errorf(KindInvalid, "%s is empty; use letters, digits, '_' and '-'", what)
	}
	if len(s) > MaxNameLen {
		return Errorf(KindInvalid, "%s %q is %d bytes long; the limit is %d: choose a shorter one", what, s, len(s), MaxNameLen)
	}
	for i, r := range s {
		if r == utf8.RuneError {
			return Errorf(KindInvalid, "%s %q is not valid UTF-8; use letters, digits, '_' and '-'", what, s)
		}
		if !nameChar(r) || (i == 0 && (r == '-' || r == '_')) {
			return Errorf(KindInvalid, "%s %q has invalid character %q at byte %d; use letters, digits, '_' and '-' (starting with a letter or digit)", what, s, r, i)
		}
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
