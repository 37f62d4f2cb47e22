package tasks

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// goTypeRE matches Go type names that should never reach a user.
var goTypeRE = regexp.MustCompile(`(want|into|type|of) [*\[\]a-z0-9]*tasks\.[A-Z]|\[\]string|map\[string\]|\bint64\b|\buint\b`)

// FuzzLoadConfig checks config loading on arbitrary bytes: LoadConfig
// never panics and gives either a config or an invalid_input error that
// names the file (and never a Go type name). A loaded config is within
// the documented bounds: socket and shell set, history_limit in
// 0..2^31-1 (tmux's limit), stop_grace >= 0, max_log_size between
// MinLogSize and 1 PiB; every declared task has a valid name, a command
// whose program is not empty, a known restart policy, max_restarts >= 0,
// valid tags, group and env names, a ready expression compiled exactly
// from its text, a ready timeout >= 0, and declared dependencies without
// cycles (so declaredOrder lists each dependency before its dependents).
// A second YAML document that is not empty is refused, never ignored.
// Loading is deterministic.
func FuzzLoadConfig(f *testing.F) {
	if example, err := os.ReadFile(filepath.Join("..", "config.example.yaml")); err == nil {
		f.Add(example)
	}
	for _, s := range []string{
		"", "socket: mine\nhistory_limit: 2000\nstop_grace: 250ms\n", "max_log_size: 1\n", "max_log_size: 0\n",
		"max_log_size: 4KiB\n", "max_log_size: 2PiB\n", "max_log_size: -1\n", "stop_grace: -0.1ns\n", "stop_grace: [1]\n",
		"history_limit: 1.5\n", "history_limit: 0x10\n", "history_limit: 99999999999999999999\n", "history_limit: -5\n",
		"socket: \"\"\nshell: \"\"\n", "socket: [a]\n", "hello\n", "[1, 2]\n", "- a\n", "~\n", "a: 1\n---\nb: 2\n", "---\n---\n",
		"&a [*a]\n", "a: &x {b: *x}\n", "<<: {socket: x}\n", "socket: !!binary aGVsbG8=\n", "tasks: {}\n", "tasks: ~\n",
		"tasks:\n  web:\n", "tasks:\n  web: {command: x}\n", "tasks:\n  web: {command: [\"\"]}\n", "tasks:\n  web: {command: []}\n",
		"tasks:\n  web: {command: [a, [b]]}\n", "tasks:\n  web: {command: x, ready: '('}\n", "tasks:\n  web: {command: x, ready_timeout: -1}\n",
		"tasks:\n  a: {command: x, depends_on: [b]}\n  b: {command: y, depends_on: [a]}\n", "tasks:\n  a: {command: x, depends_on: [a, a]}\n",
		"tasks:\n  bg-x: {command: x}\n", "tasks:\n  1: {command: x}\n", "tasks:\n  ? [a]\n  : {command: x}\n",
		"tasks:\n  a: {command: x, env: {\"1A\": b}}\n", "tasks:\n  a: {command: x, tags: [\"-t\"], group: bg-ok}\n",
		"tasks:\n  a: {command: x, max_restarts: -1}\n", "tasks:\n  a: {command: x, max_restarts: 3, restart: always, autostart: yes}\n",
		"tasks:\n  a: {command: x, depends_on: [b]}\n  b:\n", "tasks:\n  a: {command: x}\n  a: {command: y}\n",
		"\xff\xfe", "socket: \"\\xff\"\n", "\t- :\n", "{", "? ? ?", "!<tag:x> a\n",
		"socket: x\n---\nbogus: 1\n", "socket: x\n--- {\n", "socket: x\n---\n", "socket: x\n...\n---\n~\n", "history_limit: 2147483648\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	path := filepath.Join(dir, "bgmux.yaml")
	other := filepath.Join(dir, "other.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := LoadConfig(path)
		if err != nil {
			msg := err.Error()
			if KindOf(err) != KindInvalid || !strings.Contains(msg, path) {
				t.Fatalf("LoadConfig(%q) = %v (kind %s); want invalid_input naming the file", data, err, KindOf(err))
			}
			if m := goTypeRE.FindString(msg); m != "" {
				t.Fatalf("LoadConfig(%q): error shows the Go type %q: %v", data, m, err)
			}
		} else {
			checkLoadedConfig(t, data, cfg, path)
			if line := laterDocument(data); line > 0 {
				t.Fatalf("LoadConfig(%q) ignored the YAML document at line %d", data, line)
			}
		}

		// The same bytes under another name give the same outcome.
		if err := os.WriteFile(other, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg2, err2 := LoadConfig(other)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("LoadConfig(%q): %v here, %v under another name", data, err, err2)
		}
		if err != nil {
			if want := strings.ReplaceAll(err.Error(), path, other); err2.Error() != want {
				t.Fatalf("LoadConfig(%q) is not deterministic:\n%v\n%v", data, err, err2)
			}
			return
		}
		cfg2.Path = cfg.Path
		if !reflect.DeepEqual(cfg, cfg2) {
			t.Fatalf("LoadConfig(%q) is not deterministic:\n%+v\n%+v", data, cfg, cfg2)
		}
	})
}

// laterDocument is the line of a YAML document after the first that is
// not empty or does not parse, 0 when there is none.
func laterDocument(data []byte) int {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return 0
		}
		if i == 0 {
			if err != nil {
				return 0
			}
			continue
		}
		if err != nil {
			return max(n.Line, 1)
		}
		if len(n.Content) > 0 && n.Content[0].ShortTag() != "!!null" {
			return n.Content[0].Line
		}
	}
}

// checkLoadedConfig checks that a loaded config is within the documented bounds.
func checkLoadedConfig(t *testing.T, data []byte, cfg Config, path string) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("LoadConfig(%q) = %+v: "+format, append([]any{data, cfg}, args...)...)
	}
	if cfg.Path != path || cfg.Socket == "" || cfg.Shell == "" {
		fail("path, socket or shell unset")
	}
	if cfg.HistoryLimit < 0 || cfg.HistoryLimit > math.MaxInt32 || cfg.StopGrace < 0 {
		fail("history_limit outside 0..2^31-1 or negative stop_grace")
	}
	if cfg.MaxLogSize < MinLogSize || cfg.MaxLogSize > maxParsedSize {
		fail("max_log_size %d outside %d..1PiB", cfg.MaxLogSize, MinLogSize)
	}
	for name, tc := range cfg.Tasks {
		if ValidateName(name) != nil || tc == nil {
			fail("task %q: bad name or nil settings", name)
		}
		if len(tc.Command) == 0 || tc.Command[0] == "" || len(tc.Command) == 1 && strings.TrimSpace(tc.Command[0]) == "" {
			fail("task %s: empty command %q", name, tc.Command)
		}
		switch tc.Restart {
		case "", "never", "on-failure", "always":
		default:
			fail("task %s: restart policy %q", name, tc.Restart)
		}
		if tc.MaxRestarts != nil && *tc.MaxRestarts < 0 {
			fail("task %s: max_restarts %d", name, *tc.MaxRestarts)
		}
		if tc.ReadyWait() < 0 || tc.ReadyTimeout == nil && tc.ReadyWait() != DefaultReadyTimeout {
			fail("task %s: ready timeout %v", name, tc.ReadyWait())
		}
		re := tc.ReadyRegexp()
		if (re == nil) != (tc.Ready == "") || re != nil && re.String() != tc.Ready {
			fail("task %s: ready %q compiled to %v", name, tc.Ready, re)
		}
		if tc.Group != "" && ValidateGroup(tc.Group) != nil {
			fail("task %s: group %q", name, tc.Group)
		}
		for _, tag := range tc.Tags {
			if checkWord("tag", tag) != nil {
				fail("task %s: tag %q", name, tag)
			}
		}
		for k := range tc.Env {
			if ValidateEnvKey(k) != nil {
				fail("task %s: env name %q", name, k)
			}
		}
		for _, d := range tc.DependsOn {
			if _, ok := cfg.Tasks[d]; !ok {
				fail("task %s depends on undeclared %q", name, d)
			}
		}
	}
	order, err := cfg.declaredOrder(nil)
	if err != nil || len(order) != len(cfg.Tasks) {
		fail("declaredOrder = %v, %v", order, err)
	}
	pos := map[string]int{}
	for i, n := range order {
		pos[n] = i
	}
	for name, tc := range cfg.Tasks {
		for _, d := range tc.DependsOn {
			if pos[d] >= pos[name] {
				fail("declaredOrder %v puts %s before its dependency %s (a cycle slipped through)", order, name, d)
			}
		}
	}
}
