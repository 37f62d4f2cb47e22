package tests

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// edgeNoCanary fails the test when a file whose name holds token exists in
// any of the places a misquoted command could have run.
func edgeNoCanary(t *testing.T, e *env, token string, dirs ...string) {
	t.Helper()
	home, _ := os.UserHomeDir()
	roots := append([]string{filepath.Dir(e.State), e.Dir, "/", home, os.TempDir()}, dirs...)
	if found := edgeFindNamed(token, roots...); len(found) > 0 {
		t.Fatalf("a command hidden in an argument was run: %q", found)
	}
}

// edgeHostile holds a shell, tmux-format and command-list metacharacter of
// every kind; the canary commands name files carrying token.
func edgeHostile(token string) string {
	return `q'x;y "dq" $(touch cv1-` + token + `) ` + "`touch cv2-" + token + "`" + ` #{pane_id} #[bold] %1 \ sp;`
}

// An argv (several words after --) runs exactly those words: no shell,
// no tmux command-list or format parsing.
func TestHostileArgvRunsLiterally(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token := "CANARY" + randHex(4)
	args := []string{"%s\n", "a'b", "x;y", "$(touch " + token + ")", "`touch " + token + "2`",
		"multi\nline", "#{pane_id}", `"dq" \ back`, "semi ;", "-:-", "end;"}
	tk := e.start(append([]string{"--", "printf"}, args...)...)
	if !reflect.DeepEqual(tk.Argv, append([]string{"printf"}, args...)) {
		t.Fatalf("task argv %q, want %q", tk.Argv, append([]string{"printf"}, args...))
	}
	got := e.waitFinished(tk.ID)
	if got.State != "exited" || got.ExitCode == nil || *got.ExitCode != 0 {
		t.Fatalf("task: %+v, want exited 0", got)
	}
	want := strings.Split(strings.Join(args[1:], "\n"), "\n")
	lines := edgeLogLines(t, e, tk.ID).Lines
	// Only the task's lines: the supervisor's trailer is not logged.
	if !reflect.DeepEqual(lines, want) {
		t.Fatalf("log lines %q, want %q", lines, want)
	}

	// A single shell string with a trailing ";" runs under sh -c as given.
	sh := e.start("--", "echo one; echo 'two;' ;")
	e.waitFinished(sh.ID)
	if l := edgeLogLines(t, e, sh.ID).Lines; len(l) < 2 || l[0] != "one" || l[1] != "two;" {
		t.Fatalf("shell string log %q", l)
	}
	edgeNoCanary(t, e, token)
}

// Hostile characters in the working directory and in --env values reach
// the task unchanged and run nothing.
func TestHostileCwdAndEnv(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token := randHex(5)
	dir := filepath.Join(filepath.Dir(e.State), edgeHostile(token))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	// A comma too: a repeatable flag must not split its value there.
	value := "v'a;l,B=b $(touch cv3-" + token + ") `touch cv4-" + token + "` #{pane_id} \"q\"\nnext;"
	script := `pwd -P; printf '%s\n' "$V" "${B-unset}"`

	// --cwd from elsewhere.
	tk := e.start("--cwd", dir, "--env", "V="+value, "--", "sh", "-c", script)
	if tk.Cwd != dir {
		t.Fatalf("task cwd %q, want %q", tk.Cwd, dir)
	}
	// bgmux run from inside the directory, no --cwd.
	r := e.runIn(dir, "start", "--json", "--env", "V="+value, "--", "sh", "-c", script)
	if r.Code != 0 {
		t.Fatalf("start from the hostile dir: exit %d: %s", r.Code, r.Err)
	}
	var tk2 task
	edgeOneJSON(t, "start --json", r.Out, &tk2)
	if tk2.Cwd != dir {
		t.Fatalf("task started from the dir: cwd %q, want %q", tk2.Cwd, dir)
	}
	want := []string{real, strings.Split(value, "\n")[0], "next;", "unset"}
	for _, id := range []string{tk.ID, tk2.ID} {
		got := e.waitFinished(id)
		if got.State != "exited" || got.ExitCode == nil || *got.ExitCode != 0 {
			t.Fatalf("task %s: %+v, want exited 0", id, got)
		}
		if want := filepath.Join(e.State, "tasks", id, "output.log"); got.LogPath != want {
			t.Fatalf("log path %q, want %q", got.LogPath, want)
		}
		lines := edgeLogLines(t, e, id).Lines
		if len(lines) < len(want) || !reflect.DeepEqual(lines[:len(want)], want) {
			t.Fatalf("task %s printed %q, want %q", id, lines, want)
		}
		edgeOneJSON(t, "status --json", e.must("status", "--json", id), nil)
	}
	edgeOneJSON(t, "list --all --json", e.must("list", "--all", "--json"), nil)
	edgeNoCanary(t, e, token, dir)
}

// A state directory whose path holds quotes, tmux formats, command
// substitutions, spaces and a trailing ";" works: the log is written at
// the right path (pipe-pane's command is quoted) and nothing else runs.
func TestHostileStateDir(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token := randHex(5)
	root := filepath.Dir(e.State)
	e.State = filepath.Join(root, "s't #{pane_id} $(touch cv5-"+token+") `touch cv6-"+token+"` sp;")
	tk := e.start("--", "sh", "-c", "echo in-hostile-state; pwd -P")
	got := e.waitFinished(tk.ID)
	if got.State != "exited" || got.ExitCode == nil || *got.ExitCode != 0 {
		t.Fatalf("task: %+v, want exited 0", got)
	}
	logPath := filepath.Join(e.State, "tasks", tk.ID, "output.log")
	if got.LogPath != logPath {
		t.Fatalf("log path %q, want %q", got.LogPath, logPath)
	}
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("log not at its path: %v", err)
	}
	// The supervisor's trailer is not the task's output: it is not in the log.
	if !strings.Contains(string(data), "in-hostile-state") || strings.Contains(string(data), "[bgmux] exited 0") {
		t.Fatalf("log %q lacks the output, or holds the supervisor's trailer", data)
	}
	realDir, _ := filepath.EvalSymlinks(e.Dir)
	if l := edgeLogLines(t, e, tk.ID).Lines; len(l) < 2 || l[1] != realDir {
		t.Fatalf("log lines %q, want the task's cwd %q second", l, realDir)
	}
	// Only the work dir and the hostile state dir exist next to each other:
	// no second state dir with the format expanded, no canary.
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range ents {
		names = append(names, de.Name())
	}
	sort.Strings(names)
	if wantNames := []string{filepath.Base(e.State), "work"}; !reflect.DeepEqual(names, wantNames) {
		t.Fatalf("entries next to the state dir: %q, want %q", names, wantNames)
	}
	edgeNoCanary(t, e, token, e.State)
	// A second task on the same server and state dir works too.
	tk2 := e.start("--", "echo second")
	e.waitFinished(tk2.ID)
	e.waitLog(tk2.ID, "second", 10*time.Second)
}

// Names (and groups and tags) cannot carry such characters: they are
// rejected with a message naming the character, and nothing is created.
func TestHostileNamesRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bad := map[string]string{
		"a'b":        `'\''`,
		"x;y":        `';'`,
		"end;":       `';'`,
		"$(touch c)": `'$'`,
		"`touch c`":  "'`'",
		"#{pane_id}": `'#'`,
		"a b":        `' '`,
		"n\nl":       `'\n'`,
		"w:1":        `':'`,
		"a.b":        `'.'`,
		"-:-":        `'-'`,
		"caf\xe9":    "UTF-8",
	}
	for name, want := range bad {
		r := e.run("start", "--name", name, "--", "true")
		if r.Code != 2 || !strings.HasPrefix(r.Err, "bgmux: ") || !strings.Contains(r.Err, want) {
			t.Errorf("--name %q: exit %d, stderr %q; want exit 2 naming %s", name, r.Code, r.Err, want)
		}
		for _, flag := range []string{"--group", "--tag"} {
			if r := e.run("start", flag, name, "--", "true"); r.Code != 2 || !strings.HasPrefix(r.Err, "bgmux: ") {
				t.Errorf("%s %q: exit %d, stderr %q; want exit 2", flag, name, r.Code, r.Err)
			}
		}
	}
	if panes, ok := edgePanes(e); ok {
		t.Fatalf("rejected names started a tmux server: %q", panes)
	}
	if dirs := edgeTaskDirs(t, e); len(dirs) != 0 {
		t.Fatalf("rejected names created tasks: %q", dirs)
	}
}
