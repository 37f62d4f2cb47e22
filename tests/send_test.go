package tests

import (
	"encoding/json"
	"strings"
	"testing"
)

// sdWaitLine runs wait --for re and returns the matching line, failing
// the test unless it matches within 20s.
func sdWaitLine(t *testing.T, e *env, ref, re string) string {
	t.Helper()
	r := e.run("wait", ref, "--for", re, "--timeout", "20s")
	if r.Code != 0 {
		logs := e.run("logs", ref)
		t.Fatalf("wait %s --for %q: exit %d\nstdout: %s\nstderr: %s\nlogs:\n%s", ref, re, r.Code, r.Out, r.Err, logs.Out)
	}
	return strings.TrimSuffix(r.Out, "\n")
}

// sdWaitExit waits for the task's run to end and returns wait's status.
func sdWaitExit(t *testing.T, e *env, ref string) result {
	t.Helper()
	r := e.run("wait", ref, "--timeout", "20s")
	if r.Code == 124 {
		t.Fatalf("wait %s: the task did not end within 20s\n%s", ref, r.Err)
	}
	return r
}

// TestSendAnswersRead: send types a line into a program reading its
// terminal; --no-enter and --key compose a line in pieces; text that
// starts with - goes after --.
func TestSendAnswersRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start("--name", "ask", "--", "sh", "-c", `read x; echo "got:$x"; read y; echo "got:$y"; read z; echo "got:$z"`)
	e.must("send", "ask", "hello world")
	if got := sdWaitLine(t, e, "ask", "^got:"); got != "got:hello world" {
		t.Fatalf("the task read %q, want got:hello world", got)
	}
	e.must("send", "ask", "--no-enter", "ab")
	e.must("send", "ask", "--key", "c", "--key", "Enter")
	if got := sdWaitLine(t, e, "ask", "^got:ab"); got != "got:abc" {
		t.Fatalf("the task read %q, want got:abc", got)
	}
	e.must("send", "ask", "--", "-n $HOME;")
	if got := sdWaitLine(t, e, "ask", "^got:-"); got != "got:-n $HOME;" {
		t.Fatalf("the task read %q, want the text literally", got)
	}
	if r := sdWaitExit(t, e, "ask"); r.Code != 0 {
		t.Fatalf("the task ended with %d, want 0\n%s%s", r.Code, r.Out, r.Err)
	}
}

// TestSendPythonREPL: a REPL gets a statement, prints its result, and
// exits when told to.
func TestSendPythonREPL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start("--name", "py", "--env", "PYTHONSTARTUP=", "--", "python3", "-q", "-i")
	// The prompt has no newline: wait matches it once it stays put.
	sdWaitLine(t, e, "py", `^>>> $`)
	e.must("send", "py", "print(6*7)")
	if got := sdWaitLine(t, e, "py", `^42$`); got != "42" {
		t.Fatalf("the REPL printed %q", got)
	}
	e.must("send", "py", "exit()")
	if r := sdWaitExit(t, e, "py"); r.Code != 0 {
		t.Fatalf("the REPL ended with %d, want 0\n%s%s", r.Code, r.Out, r.Err)
	}
	if logs := e.must("logs", "py"); !strings.Contains(logs, "print(6*7)") || !strings.Contains(logs, "\n42\n") {
		t.Fatalf("the log does not hold the session:\n%s", logs)
	}
}

// TestSendCtrlC: C-c reaches the task's foreground process group, as it
// would from a person at the keyboard: sh and its sleep both get SIGINT,
// and sh (non-interactive) dies of it, so "after" is never printed.
func TestSendCtrlC(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start("--name", "nap", "--", "sh", "-c", "echo sleeping; sleep 1000; echo after")
	sdWaitLine(t, e, "nap", "^sleeping$")
	e.must("send", "nap", "--key", "C-c")
	r := sdWaitExit(t, e, "nap")
	if r.Code != 130 {
		t.Fatalf("after C-c wait gave %d, want 130 (SIGINT)\n%s%s", r.Code, r.Out, r.Err)
	}
	st := e.status("nap")
	if st.State != "killed" || st.Signal == nil || *st.Signal != "SIGINT" {
		t.Fatalf("after C-c: %+v, want killed by SIGINT", st)
	}
	if logs := e.must("logs", "nap"); strings.Contains("\n"+logs, "\nafter\n") {
		t.Fatal("the shell went on after C-c")
	}
}

// TestSendToFinishedTask: nothing reads a finished task's terminal, so
// send fails (conflict, 1); usage mistakes are 2.
func TestSendToFinishedTask(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start("--name", "done", "--", "sh", "-c", "exit 0")
	sdWaitExit(t, e, "done")
	r := e.run("send", "done", "hello", "--json")
	var doc struct {
		Error struct{ Kind, Message string } `json:"error"`
	}
	if r.Code != 1 || json.Unmarshal([]byte(r.Out), &doc) != nil || doc.Error.Kind != "conflict" || !strings.Contains(r.Err, "exited 0") {
		t.Fatalf("send to a finished task: exit %d, want 1 (conflict)\nstdout: %s\nstderr: %s", r.Code, r.Out, r.Err)
	}
	e.start("--name", "live", "--", "sleep", "1000")
	for _, args := range [][]string{
		{"send", "live"},
		{"send", "live", ""},
		{"send", "live", "--key", "Bogus"},
		{"send", "live", "--key", "Ctrl-C"},
		{"send"},
		{"send", "nosuchtask", "hi"},
	} {
		if r := e.run(args...); r.Code != 2 || !strings.HasPrefix(r.Err, "bgmux: ") {
			t.Fatalf("%q: exit %d, want 2\nstdout: %s\nstderr: %s", args, r.Code, r.Out, r.Err)
		}
	}
	e.must("kill", "live")
}
