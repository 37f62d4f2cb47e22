package tests

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The first bytes a task prints reach its log, including for the task
// that starts the tmux server and for tasks that exit at once.
func TestOutputFirstLineIsLogged(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	type want struct {
		id, first string
	}
	var ws []want
	// The very first task creates the server and the session.
	tk := e.start("--", "printf 'first-line\\n'; exit 0")
	ws = append(ws, want{tk.ID, "first-line"})
	// A new session on a running server.
	tk = e.start("--group", "other", "--", "printf 'other-first\\n'")
	ws = append(ws, want{tk.ID, "other-first"})
	for i := 0; i < 4; i++ {
		tk = e.start("--", fmt.Sprintf("printf 'first-%d\\n'; exit 0", i))
		ws = append(ws, want{tk.ID, fmt.Sprintf("first-%d", i)})
		tk = e.start("--", "echo", fmt.Sprintf("fast-%d", i))
		ws = append(ws, want{tk.ID, fmt.Sprintf("fast-%d", i)})
	}
	for _, w := range ws {
		got := e.waitFinished(w.id)
		if got.State != "exited" || got.ExitCode == nil || *got.ExitCode != 0 {
			t.Fatalf("task %s: %+v, want exited 0", w.id, got)
		}
		l := edgeLogLines(t, e, w.id)
		if len(l.Lines) == 0 || l.Lines[0] != w.first {
			t.Fatalf("task %s: first log line is not %q; log lines: %q", w.id, w.first, l.Lines)
		}
		// The supervisor's trailer is not logged: the task's line is the last.
		if len(l.Lines) != 1 {
			t.Fatalf("task %s: log lines %q, want only %q", w.id, l.Lines, w.first)
		}
	}
}

// The log holds every line even when the pane's scrollback (history_limit)
// keeps only a small part of it.
func TestOutputLogBeyondScrollback(t *testing.T) {
	e := newEnv(t)
	e.useConfig("history_limit: 2000\n")
	const n = 200000
	tk := e.start("--name", "numbers", "--", "seq", "1", strconv.Itoa(n))
	got := e.waitState(tk.ID, 60*time.Second, func(t task) bool {
		return t.State == "exited" || t.State == "killed" || t.State == "lost"
	})
	if got.State != "exited" || got.ExitCode == nil || *got.ExitCode != 0 {
		t.Fatalf("seq task: %+v, want exited 0", got)
	}

	out := e.must("logs", tk.ID)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	// Only the task's lines: the supervisor's trailer is not logged.
	numbers := 0
	for i, l := range lines {
		if l != strconv.Itoa(numbers+1) {
			t.Fatalf("log line %d is %q; want %d (numbers so far %d)", i+1, l, numbers+1, numbers)
		}
		numbers++
	}
	if numbers != n {
		t.Fatalf("log has %d number lines in order; want %d (total %d lines)", numbers, n, len(lines))
	}

	// --json carries the same lines.
	l := edgeLogLines(t, e, tk.ID)
	if len(l.Lines) != n || l.Lines[0] != "1" || l.Lines[n-1] != strconv.Itoa(n) {
		t.Fatalf("logs --json: %d lines; want %d numbers from 1 to %d", len(l.Lines), n, n)
	}
	// --tail reads from the end.
	tail := edgeLogLines(t, e, tk.ID, "--tail", "3")
	if len(tail.Lines) != 3 || tail.Lines[0] != strconv.Itoa(n-2) || tail.Lines[2] != strconv.Itoa(n) {
		t.Fatalf("logs --tail 3: %q", edgeShort(fmt.Sprint(tail.Lines)))
	}

	// So does --raw --tail, terminal line endings kept.
	rawTail := e.must("logs", "--raw", "--tail", "3", tk.ID)
	if rl := strings.Split(strings.TrimSuffix(rawTail, "\n"), "\n"); len(rl) != 3 || rl[0] != strconv.Itoa(n-2)+"\r" || rl[2] != strconv.Itoa(n)+"\r" {
		t.Fatalf("logs --raw --tail 3: %q", edgeShort(rawTail))
	}
	if tl := e.must("logs", "--tail", "1", tk.ID); tl != strconv.Itoa(n)+"\n" {
		t.Fatalf("logs --tail 1: %q", edgeShort(tl))
	}

	// The pane itself kept far fewer lines: the log is beyond scrollback.
	// (Since issue 13 the window is given output after the log has it, so
	// it may show the end a moment after the task's end is recorded.)
	screen := ""
	poll(20*time.Second, func() bool {
		screen = e.must("screen", tk.ID)
		return strings.Contains(screen, strconv.Itoa(n)+"\n")
	})
	onScreen := 0
	for _, s := range strings.Split(screen, "\n") {
		if _, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			onScreen++
		}
	}
	if onScreen == 0 || onScreen > 2000+200 {
		t.Fatalf("screen shows %d number lines; want some but at most about history_limit (2000)", onScreen)
	}
	if !strings.Contains(screen, strconv.Itoa(n)) {
		t.Fatalf("screen does not show the last number %d", n)
	}
}

// Whatever a task prints, every --json output stays one valid JSON
// document in valid UTF-8, and the printed content is there.
func TestOutputOddBytesKeepJSONValid(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		name, script string
		check        func(lines []string) bool
	}{
		{"badutf8", `printf 'bad:\377\376\300x\n'`, func(ls []string) bool {
			return edgeHasLine(ls, func(l string) bool {
				return strings.HasPrefix(l, "bad:") && strings.HasSuffix(l, "x") && strings.Contains(l, "\uFFFD")
			})
		}},
		{"nul", `printf 'nul:A\000B\n'`, func(ls []string) bool {
			// A terminal shows nothing for NUL; cleaned lines drop it
			// (logs --raw keeps it).
			return edgeHasLine(ls, func(l string) bool { return l == "nul:AB" })
		}},
		{"sep", `printf 'sep:x-:-y\n'; printf 'tab:a\tb\n'`, func(ls []string) bool {
			return edgeHasLine(ls, func(l string) bool { return l == "sep:x-:-y" }) && edgeHasLine(ls, func(l string) bool { return l == "tab:a\tb" })
		}},
		{"megaline", `head -c 1048576 /dev/zero | tr '\000' x; printf '\n'`, func(ls []string) bool {
			return edgeHasLine(ls, func(l string) bool { return len(l) == 1<<20 && strings.Trim(l, "x") == "" })
		}},
		{"ansi", `printf '\033[31mRED\033[0m plain\n'; printf '\033]2;ti-:-tle\nx\007'; printf '\033[2J\033[Hafter-clear\n'; printf '\033[?1049h'`, func(ls []string) bool {
			return edgeHasLine(ls, func(l string) bool { return strings.Contains(l, "RED") && strings.Contains(l, "plain") }) &&
				edgeHasLine(ls, func(l string) bool { return strings.Contains(l, "after-clear") })
		}},
	}
	ids := map[string]string{}
	for _, c := range cases {
		tk := e.start("--name", c.name, "--", c.script)
		ids[c.name] = tk.ID
	}
	for _, c := range cases {
		id := ids[c.name]
		got := e.waitFinished(id)
		if got.State != "exited" || got.ExitCode == nil || *got.ExitCode != 0 {
			t.Fatalf("%s: %+v, want exited 0", c.name, got)
		}
		l := edgeLogLines(t, e, id)
		if !c.check(l.Lines) {
			t.Fatalf("%s: logs --json lines lack the printed content: %q", c.name, edgeShort(fmt.Sprint(l.Lines)))
		}
		raw := edgeLogLines(t, e, id, "--raw")
		if len(raw.Lines) == 0 {
			t.Fatalf("%s: logs --raw --json has no lines", c.name)
		}
		edgeLogLines(t, e, id, "--tail", "2")
		edgeOneJSON(t, c.name+": status --json", e.must("status", "--json", id), &task{})
		var scr struct {
			ID, Pane, Text string
		}
		edgeOneJSON(t, c.name+": screen --json", e.must("screen", "--json", id), &scr)
		if scr.ID != id || scr.Text == "" {
			t.Fatalf("%s: screen --json: id %q, text %q", c.name, scr.ID, edgeShort(scr.Text))
		}
	}
	var all []task
	edgeOneJSON(t, "list --json", e.must("list", "--json"), &all)
	if len(all) != len(cases) {
		t.Fatalf("list --json has %d tasks, want %d", len(all), len(cases))
	}
	edgeOneJSON(t, "list --all --json", e.must("list", "--all", "--json"), &all)
	edgeOneJSON(t, "status --json (all)", e.must("status", "--json"), &all)
	// The text views do not fail either.
	e.must("list")
	for _, id := range ids {
		e.must("status", id)
		e.must("logs", id)
		e.must("screen", id)
	}
}

func edgeHasLine(lines []string, f func(string) bool) bool {
	for _, l := range lines {
		if f(l) {
			return true
		}
	}
	return false
}

// A command with odd bytes (the gotmux separator "-:-", a newline,
// invalid UTF-8, escapes) keeps list and status --json valid, and the
// task receives exactly the bytes it was given.
func TestOutputOddCommandFieldsKeepJSONValid(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	shell := e.start("--", "printf 'x-:-y\\n'\nprintf 'second\\n' # \xff\xfe \x1b[31m")
	argv := e.start("--", "printf", "%s|\n", "a\xffb", "-:-", "two\nlines", "\x1b]2;t-:-t\x07")
	for _, id := range []string{shell.ID, argv.ID} {
		got := e.waitFinished(id)
		if got.State != "exited" || got.ExitCode == nil || *got.ExitCode != 0 {
			t.Fatalf("task %s: %+v, want exited 0", id, got)
		}
		var st task
		edgeOneJSON(t, "status --json "+id, e.must("status", "--json", id), &st)
		if st.ID != id {
			t.Fatalf("status --json %s: id %q", id, st.ID)
		}
	}
	var all []task
	edgeOneJSON(t, "list --json", e.must("list", "--json"), &all)
	if len(all) != 2 {
		t.Fatalf("list --json: %d tasks, want 2", len(all))
	}
	if st := e.status(shell.ID); st.Command == nil || !strings.Contains(*st.Command, "x-:-y") || !strings.Contains(*st.Command, "\n") {
		t.Fatalf("status of the shell task: command %v", st.Command)
	}
	if st := e.status(argv.ID); len(st.Argv) != 6 || st.Argv[2] != "a\uFFFDb" || st.Argv[4] != "two\nlines" {
		t.Fatalf("status of the argv task: argv %q", st.Argv)
	}

	l := edgeLogLines(t, e, shell.ID)
	if len(l.Lines) < 2 || l.Lines[0] != "x-:-y" || l.Lines[1] != "second" {
		t.Fatalf("shell task log: %q", l.Lines)
	}
	// The raw log holds the argv bytes exactly as given: no U+FFFD.
	raw, err := os.ReadFile(e.status(argv.ID).LogPath)
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	for _, want := range []string{"a\xffb|\n", "-:-|\n", "two\nlines|\n", "\x1b]2;t-:-t\x07|\n"} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Fatalf("log of the argv task lacks %q (the task did not get its exact argv):\n%q", want, raw)
		}
	}
}
