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
	if got := cfg.TaskNames(); strings.Join(got, ",") != "db,web" {
		t.Fatalf("example tasks = %v, want db,web", got)
	}
	db, web := cfg.Tasks["db"], cfg.Tasks["web"]
	if strings.Join(db.Command, " ") != "postgres -D ./data" || db.Cwd != "." || db.Env["PGPORT"] != "5432" ||
		strings.Join(db.Tags, ",") != "backend" || db.Restart != "on-failure" || db.MaxRestarts == nil || *db.MaxRestarts != 5 ||
		db.ReadyRegexp() == nil || db.ReadyWait() != DefaultReadyTimeout || len(db.DependsOn) != 0 || db.Autostart || db.Group != "" {
		t.Fatalf("example task db = %+v", db)
	}
	if len(web.Command) != 1 || web.Command[0] != "npm run dev" || strings.Join(web.DependsOn, ",") != "db" || !web.Autostart ||
		web.ReadyRegexp() == nil || !web.ReadyRegexp().MatchString("  Local:   http://localhost:5173/") || web.ReadyTimeout != nil {
		t.Fatalf("example task web = %+v", web)
	}
	order, err := cfg.declaredOrder([]string{"web"})
	if err != nil || strings.Join(order, ",") != "db,web" {
		t.Fatalf("declaredOrder(web) = %v, %v; want db,web", order, err)
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
		"socket: x\nbogus_key: 1\n":  ":2: unknown key \"bogus_key\"",
		"history_limit: lots\n":      ":1: key history_limit",
		"stop_grace: soon\n":         ":1: key stop_grace",
		"history_limit: -5\n":        ":1: history_limit",
		"socket: [a, b]\n":           ":1: key socket: wrong type",
		"\n\nstate_dir: {a: b}\n":    ":3: key state_dir: wrong type",
		"socket: x\n  broken: [\n":   "bgmux.yaml",
		"tasks:\n  web: {cmd: x}\n":  ":2: unknown key \"cmd\" in tasks.web",
		"stop_grace: -1s\n":          "negative",
		"tmux_timeout: 100ms\n":      ":1: tmux_timeout must be at least 1s",
		"tmux_timeout: soon\n":       ":1: key tmux_timeout",
		"history_limit: 1.5\n":       ":1: key history_limit",
		"socket: ok\nsocket: two\n":  "socket",
		"state_dir: /tmp\nsokcet: x": ":2: unknown key \"sokcet\"",
		// Declared tasks.
		"tasks:\n  web:\n    command: x\n    env: [a]\n":                                                 ":4: key tasks.web.env: wrong type: got a list",
		"tasks:\n  web:\n    command: x\n    autostart: sometimes\n":                                     ":4: key tasks.web.autostart",
		"tasks:\n  web:\n    command: x\n    ready: '(unclosed'\n":                                       ":4: task web: ready is not a valid regular expression",
		"tasks:\n  web:\n    cwd: /tmp\n":                                                                ":2: task web has no command",
		"tasks:\n  web:\n":                                                                               ":2: task web has no command",
		"tasks:\n  web:\n    command: x\n    depends_on: [db]\n":                                         ":4: task web depends on \"db\"",
		"tasks:\n  -bad:\n    command: x\n":                                                              ":2: bad task name",
		"tasks:\n  a:\n    command: x\n    depends_on: [b]\n  b:\n    command: y\n    depends_on: [a]\n": "depends_on cycle: a -> b -> a",
		"tasks:\n  a:\n    command: x\n    depends_on: [a]\n":                                            ":4: depends_on cycle: a -> a",
		"tasks:\n  a:\n    command: x\n    restart: sometimes\n":                                         ":4: task a: unknown restart policy",
		"tasks:\n  a:\n    command: {x: y}\n":                                                            ":3: key tasks.a.command",
		"tasks:\n  a:\n    command: x\n    max_restarts: -1\n":                                           ":4: task a: max_restarts",
		"tasks: [a, b]\n": ":1: key tasks: wrong type: got a list",
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

func TestFindProjectConfig(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	sub := filepath.Join(repo, "a", "b")
	if err := os.MkdirAll(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	// Above the git top-level: never found from inside the repository.
	if err := os.WriteFile(filepath.Join(root, ProjectConfigName), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := findProjectConfig(sub); got != "" {
		t.Fatalf("findProjectConfig crossed the git top-level: %q", got)
	}
	want := filepath.Join(repo, "a", ProjectConfigName)
	if err := os.WriteFile(want, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := findProjectConfig(sub); got != want {
		t.Fatalf("findProjectConfig(%s) = %q, want %q", sub, got, want)
	}
	// Outside a repository the walk goes up to /.
	plain := filepath.Join(root, "plain", "x")
	if err := os.MkdirAll(plain, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := findProjectConfig(plain); got != filepath.Join(root, ProjectConfigName) {
		t.Fatalf("findProjectConfig(%s) = %q", plain, got)
	}
}

// TestAuditTmuxTimeoutBelowStartingGrace: tmux_timeout stays well below
// startingGrace, the time a task may be without a window record before
// list and restore take it for lost. A longer tmux_timeout (it was
// accepted without bound) let a start still waiting for tmux be recorded
// lost, and restarted, by restore, and then the start that gave up
// removed the task restore had just brought back.
func TestAuditTmuxTimeoutBelowStartingGrace(t *testing.T) {
	if MaxTmuxTimeout*3/2 > startingGrace {
		t.Fatalf("MaxTmuxTimeout %v leaves too little of startingGrace %v for the rest of a start", MaxTmuxTimeout, startingGrace)
	}
	for _, text := range []string{"tmux_timeout: 60s\n", "tmux_timeout: 31s\n", "tmux_timeout: 1h\n"} {
		p := writeConfig(t, text)
		if _, err := LoadConfig(p); err == nil || KindOf(err) != KindInvalid || !strings.Contains(err.Error(), ":1: tmux_timeout must be at most") {
			t.Errorf("LoadConfig(%q) = %v, want invalid_input: tmux_timeout must be at most ...", text, err)
		}
	}
	p := writeConfig(t, "tmux_timeout: 20s\n")
	if cfg, err := LoadConfig(p); err != nil || cfg.TmuxTimeout != Duration(20*time.Second) {
		t.Errorf("tmux_timeout: 20s: %v %v", cfg.TmuxTimeout, err)
	}
}
