package tasks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadExampleConfig(t *testing.T) {
	cfg, err := LoadConfig(filepath.Join("..", "config.example.yaml"))
	if err != nil {
		t.Fatalf("config.example.yaml does not load: %v", err)
	}
	def := DefaultConfig()
	if cfg.Socket != def.Socket || cfg.HistoryLimit != def.HistoryLimit || cfg.StopGrace != def.StopGrace || cfg.StateDir != def.StateDir {
		t.Fatalf("config.example.yaml = %+v, want the defaults %+v", cfg, def)
	}
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bgmux.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfigErrors(t *testing.T) {
	cases := map[string]string{
		"socket: x\nbogus_key: 1\n":  "line 2",
		"history_limit: lots\n":      "line 1",
		"stop_grace: soon\n":         "line 1",
		"history_limit: -5\n":        "history_limit",
		"socket: [a, b]\n":           "line 1",
		"\n\nstate_dir: {a: b}\n":    "line 3",
		"socket: x\n  broken: [\n":   "bgmux.yaml",
		"tasks:\n  web: {cmd: x}\n":  "tasks",
		"stop_grace: -1s\n":          "negative",
		"history_limit: 1.5\n":       "line 1",
		"socket: ok\nsocket: two\n":  "socket",
		"state_dir: /tmp\nsokcet: x": "sokcet",
	}
	for text, want := range cases {
		p := writeConfig(t, text)
		_, err := LoadConfig(p)
		if err == nil {
			t.Errorf("LoadConfig(%q) = nil error, want one mentioning %q", text, want)
			continue
		}
		if KindOf(err) != KindInvalid || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), p) {
			t.Errorf("LoadConfig(%q) = %v, want invalid_input naming the file and %q", text, err, want)
		}
	}
}

func TestLoadConfigValues(t *testing.T) {
	p := writeConfig(t, "socket: mine\nhistory_limit: 2000\nstop_grace: 250ms\n")
	cfg, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Socket != "mine" || cfg.HistoryLimit != 2000 || time.Duration(cfg.StopGrace) != 250*time.Millisecond || cfg.Path != p {
		t.Fatalf("got %+v", cfg)
	}
	empty := writeConfig(t, "")
	if cfg, err := LoadConfig(empty); err != nil || cfg.Socket != "bgmux" {
		t.Fatalf("empty config: %+v, %v", cfg, err)
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || KindOf(err) != KindInvalid {
		t.Fatalf("missing config file: %v, want invalid_input", err)
	}
}

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{"5s": 5 * time.Second, "500ms": 500 * time.Millisecond, "2m": 2 * time.Minute, "5": 5 * time.Second, "0.5": 500 * time.Millisecond, "0": 0, "1h30m": 90 * time.Minute}
	for s, want := range good {
		got, err := ParseDuration(s)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "soon", "-1s", "-3", "5 s", "1e400", "NaN", "Inf", "5x"} {
		if _, err := ParseDuration(s); err == nil || KindOf(err) != KindInvalid {
			t.Errorf("ParseDuration(%q) = %v, want invalid_input", s, err)
		}
	}
}
