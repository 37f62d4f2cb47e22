package tests

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Faults: a supervisor SIGKILLed while its task writes, the tmux server
// killed under several tasks, a full disk, sidecars damaged on disk, and a
// state dir that cannot be written. Each ends with every task's state
// exactly right and nothing else lost.

// ftFlood is a task that writes numbered lines ("line 1", "line 2"...) as
// fast as it can, forever.
const ftFlood = `awk 'BEGIN { for (i = 1; ; i++) print "line " i }'`

// ftLine is line n of ftFlood.
func ftLine(n int) string { return "line " + strconv.Itoa(n) }

// ftTicker writes numbered lines slowly, forever; ftTick is its line n.
const ftTicker = `i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.02; done`

func ftTick(n int) string { return "tick " + strconv.Itoa(n) }

// ftPad makes ftWideTicker's lines about 100 bytes long, so that it fills
// a page of a full disk within a second.
var ftPad = strings.Repeat("=", 90)

// ftWideTicker is ftTicker with long lines; ftWideTick is its line n.
var ftWideTicker = `i=0; while :; do i=$((i+1)); echo "tick $i ` + ftPad + `"; sleep 0.02; done`

func ftWideTick(n int) string { return "tick " + strconv.Itoa(n) + " " + ftPad }

// ftLog is what ftParse found in a log of numbered lines.
type ftLog struct {
	first, last int // numbers of the first and last whole numbered lines
	lines       int // whole numbered lines
	jumps       int // places where the numbering skips ahead
	partial     string
	notes       []string // bgmux's own lines ("[bgmux] ...")
}

// ftParseOpts says what a log may hold besides consecutive whole lines.
type ftParseOpts struct {
	first int // the first line's number (0: any)
	// gaps allows the numbering to skip ahead; the line before a skip may
	// be cut short (a prefix of the line it was), as a log resumed after
	// a failed write is.
	gaps bool
	// notes allows bgmux's own lines and empty lines.
	notes bool
}

// ftParse checks that data is a clean record of what a task printing
// line(1), line(2)... wrote: whole lines in order, each a line the task
// wrote, through a terminal (CRLF); a last line without its newline must
// be the beginning of the line that was being written.
func ftParse(t testing.TB, what string, data []byte, line func(int) string, o ftParseOpts) ftLog {
	t.Helper()
	var res ftLog
	parts := strings.Split(string(data), "\n")
	res.partial = parts[len(parts)-1]
	next := o.first
	cut := false // the previous line was cut short
	fail := func(i int, why string) {
		lo := max(i-3, 0)
		t.Fatalf("%s: line %d %q %s (expected %q); lines %d..%d: %q", what, i+1, parts[i], why, line(next), lo+1, i+1, parts[lo:i+1])
	}
	for i, raw := range parts[:len(parts)-1] {
		l := strings.TrimSuffix(raw, "\r")
		if o.notes && (l == "" || strings.HasPrefix(l, "[bgmux] ")) {
			res.notes = append(res.notes, l)
			continue
		}
		n := -1
		if f := strings.Fields(l); len(f) >= 2 {
			if k := atoiOr(f[1], -1); k >= 0 && l == line(k) {
				n = k
			}
		}
		switch {
		case n >= 0 && (next == 0 || n == next) && !cut:
		case next != 0 && o.gaps && !cut && l != "" && strings.HasPrefix(line(next), l):
			cut = true
			continue
		case n >= 0 && next != 0 && n > next && o.gaps:
			res.jumps++
		case n >= 0 && n == next && cut:
			// Only the rest of the cut line was dropped.
		default:
			fail(i, "breaks the sequence")
		}
		if res.lines == 0 {
			res.first = n
		}
		cut = false
		res.lines++
		res.last, next = n, n+1
	}
	p := strings.TrimSuffix(res.partial, "\r")
	ok := p == "" || strings.HasPrefix(line(max(next, 1)), p) ||
		o.notes && (strings.HasPrefix("[bgmux] ", p) || strings.HasPrefix(p, "[bgmux] "))
	if f := strings.Fields(p); !ok && o.gaps && len(f) >= 2 {
		// After a gap, the start of some later line (whose number may
		// have more digits than came through).
		k := atoiOr(f[1], -1)
		ok = k >= 0 && strings.HasPrefix(line(k), p)
	}
	if !ok {
		t.Fatalf("%s: the last, unfinished line %q is not the start of %q", what, res.partial, line(next))
	}
	return res
}

func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}

// ftSize is the size of the file at path (0 when missing).
func ftSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// ftRead reads a file, failing the test on error.
func ftRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ftReadJSON decodes the JSON file at path into v.
func ftReadJSON(t testing.TB, path string, v any) {
	t.Helper()
	b := ftRead(t, path)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s is not valid JSON: %v\n%s", path, err, b)
	}
}

// ftTree maps every entry under root to a digest of its content (files),
// "dir" or its type, to compare a state dir before and after.
func ftTree(t testing.TB, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case d.IsDir():
			out[rel] = "dir"
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			out[rel] = hex.EncodeToString(sum[:8])
		default:
			out[rel] = d.Type().String()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return out
}

// ftTreeDiff describes how two trees differ.
func ftTreeDiff(a, b map[string]string) string {
	var d []string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			d = append(d, "- "+k)
		} else if w != v {
			d = append(d, "~ "+k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			d = append(d, "+ "+k)
		}
	}
	sort.Strings(d)
	return strings.Join(d, "\n")
}

// ftFill writes zeros to path until the file system is full.
func ftFill(t testing.TB, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zeros := make([]byte, 4096)
	for {
		if _, err := f.Write(zeros); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", path, err)
			}
			return
		}
	}
}

// ftSettled waits until the supervisor of finished task id has exited
// (it gives back its disk reserve after writing the exit record), so that
// the task's files no longer change.
func ftSettled(t testing.TB, e *env, id string) {
	t.Helper()
	r := lpReadRun(t, e, id)
	if !poll(20*time.Second, func() bool { return !pidAlive(r.SupervisorPID) }) {
		t.Fatalf("the supervisor of finished task %s did not exit", id)
	}
}

// ftMount runs mount(8) with args (the last one the mount point, created
// if needed) and unmounts at cleanup, after killing the test's tmux server
// and reaping its supervisors (which may hold files on it), so that a
// failing test leaves no mount behind.
func ftMount(t *testing.T, e *env, args ...string) {
	t.Helper()
	needRoot(t, "it runs mount(8)")
	dir := args[len(args)-1]
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
		t.Fatalf("mount %q: %v\n%s(this test needs root and mount(8) with tmpfs; CI runs as root)", args, err, out)
	}
	t.Cleanup(func() {
		kill := exec.Command("tmux", "-L", e.Socket, "kill-server")
		kill.Env = e.Environ()
		kill.Run()
		e.reap()
		// A pipe process of the killed server may take a moment to go.
		var out []byte
		var err error
		if !poll(10*time.Second, func() bool {
			out, err = exec.Command("umount", dir).CombinedOutput()
			return err == nil
		}) {
			exec.Command("umount", "-l", dir).Run()
			t.Errorf("umount %s: %v\n%s", dir, err, out)
		}
	})
}

// ftReadOnlyView mounts a read-only view of dir at view (a bind mount
// remounted read-only: root cannot write through it either).
func ftReadOnlyView(t *testing.T, e *env, dir, view string) {
	t.Helper()
	ftMount(t, e, "--bind", dir, view)
	if out, err := exec.Command("mount", "-o", "remount,bind,ro", view).CombinedOutput(); err != nil {
		t.Fatalf("remount %s read-only: %v\n%s", view, err, out)
	}
	if err := os.WriteFile(filepath.Join(view, "probe"), nil, 0o600); err == nil {
		t.Fatalf("the read-only view %s can be written", view)
	}
}

// ftJSONTasks decodes list --json.
func ftJSONTasks(t testing.TB, out string) map[string]task {
	t.Helper()
	var ts []task
	edgeOneJSON(t, "list --json", out, &ts)
	m := map[string]task{}
	for _, tk := range ts {
		m[tk.Name] = tk
	}
	return m
}

// ftLogLoss is the log_loss object of status and logs --json.
type ftLogLoss struct {
	Bytes    int64  `json:"bytes"`
	Offset   int64  `json:"offset"`
	Gaps     int    `json:"gaps"`
	Reason   string `json:"reason"`
	Dropping bool   `json:"dropping"`
}

// ftLossOf returns the task's log_loss from status --json (nil: none).
func ftLossOf(t testing.TB, e *env, ref string) *ftLogLoss {
	t.Helper()
	var doc struct {
		LogLoss *ftLogLoss `json:"log_loss"`
	}
	edgeOneJSON(t, "status --json "+ref, e.must("status", "--json", ref), &doc)
	return doc.LogLoss
}
