package tasks

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bgmux/bgmux/tmuxctl"
	"gopkg.in/yaml.v3"
)

// Config holds the settings from the config file, with built-in defaults.
type Config struct {
	// Socket is the tmux -L socket name; "default" is the user's server.
	Socket string `yaml:"socket"`
	// StateDir is where tasks are kept; empty means the default location.
	StateDir string `yaml:"state_dir"`
	// HistoryLimit is the scrollback of task panes, in lines.
	HistoryLimit Count `yaml:"history_limit"`
	// StopGrace is how long stop waits before SIGKILL.
	StopGrace Duration `yaml:"stop_grace"`
	// MaxLogSize bounds each task's output.log and output.log.1.
	MaxLogSize Size `yaml:"max_log_size"`
	// Shell runs a task given as one command string: SHELL -c STRING.
	Shell string `yaml:"shell"`
	// TmuxTimeout bounds every tmux call: a server that does not answer
	// in time (stopped, hung) fails the command with tmux_unavailable.
	TmuxTimeout Duration `yaml:"tmux_timeout"`
	// Tasks are the declared tasks (bgmux up/down), by name.
	Tasks map[string]*TaskConfig `yaml:"tasks"`

	// Path is the file the config was read from, empty for defaults.
	Path string `yaml:"-"`
}

// Duration is a time.Duration read from YAML as "5s", "1m30s".
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %v", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// Count is a whole number read from YAML; unlike a plain int it refuses
// 1.5 (which yaml.v3 would silently truncate).
type Count int

// UnmarshalYAML accepts only YAML integers.
func (c *Count) UnmarshalYAML(n *yaml.Node) error {
	var v int
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		return fmt.Errorf("line %d: %q is not a whole number", n.Line, n.Value)
	}
	if err := n.Decode(&v); err != nil {
		return fmt.Errorf("line %d: %v", n.Line, err)
	}
	*c = Count(v)
	return nil
}

// DefaultConfig is the configuration used when no file is found.
func DefaultConfig() Config {
	return Config{Socket: "bgmux", HistoryLimit: 50000, StopGrace: Duration(5 * time.Second), MaxLogSize: DefaultMaxLogSize, Shell: "/bin/sh", TmuxTimeout: Duration(tmuxctl.DefaultTimeout)}
}

// FindConfig returns the config file to use: explicit (from --config),
// else $BGMUX_CONFIG, else the nearest bgmux.yaml from the current
// directory up to its git top-level (or up to / outside a repository),
// else $XDG_CONFIG_HOME/bgmux/config.yaml (or ~/.config/bgmux/config.yaml)
// when it exists; "" means defaults.
func FindConfig(explicit string) string {
	if explicit != "" {
		return explicit
	}
	if p := os.Getenv("BGMUX_CONFIG"); p != "" {
		return p
	}
	if cwd, err := os.Getwd(); err == nil {
		if p := findProjectConfig(cwd); p != "" {
			return p
		}
	}
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		if home, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(home, ".config")
		}
	}
	if dir != "" {
		p := filepath.Join(dir, "bgmux", "config.yaml")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// ProjectConfigName is the per-project config file that FindConfig looks
// for from the current directory upwards.
const ProjectConfigName = "bgmux.yaml"

// findProjectConfig walks up from dir looking for bgmux.yaml, stopping
// after the git top-level (the first directory holding .git).
func findProjectConfig(dir string) string {
	for d := dir; ; {
		p := filepath.Join(d, ProjectConfigName)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return ""
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

// LoadConfig reads the config file at path over the defaults; path ""
// gives the defaults. Unknown keys and wrong types are errors naming the
// file and line.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	if path == "" {
		return cfg, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return cfg, Errorf(KindInvalid, "config file %s does not exist; create it or drop --config/BGMUX_CONFIG", path)
		}
		return cfg, &Error{Kind: KindInvalid, Msg: "cannot read config file " + path, Err: err}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return cfg, configError(path, err, nil)
	}
	keys := keyLines(&root)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, configError(path, err, keys)
	}
	// Only the first YAML document is read: refuse more rather than
	// ignore them (an empty one, as a trailing "---" leaves, is fine).
	for {
		var extra yaml.Node
		err := dec.Decode(&extra)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return cfg, configError(path, err, keys)
		}
		if len(extra.Content) > 0 && extra.Content[0].ShortTag() != "!!null" {
			return cfg, Errorf(KindInvalid, "config file %s:%d: a second YAML document (after ---), which bgmux would ignore; keep the whole config in one document", path, extra.Content[0].Line)
		}
	}
	if err := tmuxctl.CheckSocketName(cfg.Socket); err != nil {
		return cfg, Errorf(KindInvalid, "%s:%d: socket: %v", path, keys.line("socket"), err)
	}
	if cfg.HistoryLimit < 0 || cfg.HistoryLimit > math.MaxInt32 {
		return cfg, Errorf(KindInvalid, "%s:%d: history_limit must be >= 0 and at most %d (tmux's limit)", path, keys.line("history_limit"), math.MaxInt32)
	}
	if cfg.MaxLogSize < MinLogSize {
		return cfg, Errorf(KindInvalid, "%s:%d: max_log_size must be at least %d bytes (4KiB); the default is 64MiB", path, keys.line("max_log_size"), MinLogSize)
	}
	if cfg.TmuxTimeout < Duration(MinTmuxTimeout) {
		return cfg, Errorf(KindInvalid, "%s:%d: tmux_timeout must be at least %v; the default is %v", path, keys.line("tmux_timeout"), MinTmuxTimeout, tmuxctl.DefaultTimeout)
	}
	if cfg.TmuxTimeout > Duration(MaxTmuxTimeout) {
		return cfg, Errorf(KindInvalid, "%s:%d: tmux_timeout must be at most %v (a start waiting longer for tmux would be taken for lost); the default is %v", path, keys.line("tmux_timeout"), MaxTmuxTimeout, tmuxctl.DefaultTimeout)
	}
	if cfg.Socket == "" {
		cfg.Socket = "bgmux"
	}
	if cfg.Shell == "" {
		cfg.Shell = "/bin/sh"
	}
	cfg.Path = path
	if err := cfg.validateTasks(keys); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// ParseDuration accepts Go durations ("5s", "1m30s", "250ms") and a bare
// decimal number of seconds ("5", "0.5") below 1e9.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-") {
		return 0, Errorf(KindInvalid, "bad duration %q: it must not be negative; use 0 or more, e.g. 5s", s)
	}
	d, err := time.ParseDuration(s)
	if err != nil && plainNumber(s) {
		if f, ferr := strconv.ParseFloat(s, 64); f >= 1e9 {
			return 0, Errorf(KindInvalid, "bad duration %q: too long; use at most 999999999 seconds (about 31 years)", s)
		} else if ferr == nil {
			d, err = time.Duration(f*float64(time.Second)), nil
		}
	}
	if err != nil {
		return 0, Errorf(KindInvalid, "bad duration %q; use a number of seconds or a Go duration such as 500ms, 5s, 2m", s)
	}
	return d, nil
}

// plainNumber reports whether s is spelled like a non-negative decimal
// number ("5", "0.5", "1e3"), so strconv.ParseFloat's other forms (hex,
// "_" separators, Inf, NaN) are not taken for one.
func plainNumber(s string) bool {
	if s == "" || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789.eE+-", rune(s[i])) {
			return false
		}
	}
	return true
}

// MinTmuxTimeout is the smallest tmux_timeout accepted: less would fail
// tmux calls that are merely slow (a busy server with thousands of
// windows takes a few hundred milliseconds).
const MinTmuxTimeout = time.Second

// MaxTmuxTimeout is the largest tmux_timeout accepted: a start waits for
// tmux before it records its window, and a task without a window record
// for startingGrace is taken for lost (by list, and by restore, which
// would record it lost and bring it back while its start still waits).
const MaxTmuxTimeout = 20 * time.Second

// MinLogSize is the smallest max_log_size accepted.
const MinLogSize = 4096

// Size is a byte count read from YAML as 1048576, "64MiB", "8M" or "512k".
type Size int64

// UnmarshalYAML parses a size with an optional binary unit.
func (z *Size) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %v", n.Line, err)
	}
	*z = Size(v)
	return nil
}

// ParseSize accepts a decimal number of bytes with an optional unit:
// K/KB/KiB, M/MB/MiB, G/GB/GiB (all powers of 1024, as in most tools' log
// limits), up to 1PiB.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	num := strings.TrimRightFunc(t, func(r rune) bool { return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' })
	unit := strings.ToLower(strings.TrimSpace(t[len(num):]))
	mult := map[string]int64{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}[unit]
	num = strings.TrimSpace(num)
	n, err := strconv.ParseFloat(num, 64)
	if mult == 0 || err != nil || !plainNumber(num) || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, Errorf(KindInvalid, "bad size %q; use a number of bytes or a unit such as 512KiB, 64MiB, 1GiB", s)
	}
	if n*float64(mult) > 1<<50 {
		return 0, Errorf(KindInvalid, "bad size %q: too large; the limit is 1048576GiB (1PiB)", s)
	}
	return int64(n * float64(mult)), nil
}
