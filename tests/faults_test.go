package tests

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
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

// ftNeedRoot fails (never skips) a test that needs root to mount.
func ftNeedRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("this test mounts file systems (a tmpfs, a read-only bind mount) and must run as root, as CI does: run it as root (e.g. sudo -E go test ./tests/)")
	}
}

// ftMount runs mount(8) with args (the last one the mount point, created
// if needed) and unmounts at cleanup, after killing the test's tmux server
// and reaping its supervisors (which may hold files on it), so that a
// failing test leaves no mount behind.
func ftMount(t *testing.T, e *env, args ...string) {
	t.Helper()
	ftNeedRoot(t)
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

// TestFaultSupervisorKilledMidWrite SIGKILLs the supervisor of a task
// that writes as fast as it can, beside two tasks that keep writing in
// the same group: the task is lost at once (no exit code made up), its
// log is a clean prefix of what it wrote, the neighbours run and log on
// untouched, and restart brings it back as run 2 after the old output.
func TestFaultSupervisorKilledMidWrite(t *testing.T) {
	e := newEnv(t)
	victim := e.start("--name", "victim", "--", ftFlood)
	nbA := e.start("--name", "tick-a", "--", ftTicker)
	nbB := e.start("--name", "tick-b", "--", ftTicker)
	for _, tk := range []task{victim, nbA, nbB} {
		if tk.State != "running" || tk.PID == nil {
			t.Fatalf("just started: %+v, want running with a pid", tk)
		}
	}
	// Kill in the middle of heavy writing.
	if !poll(30*time.Second, func() bool { return ftSize(victim.LogPath) >= 512<<10 }) {
		t.Fatalf("the flood wrote only %d bytes in 30s", ftSize(victim.LogPath))
	}
	e.waitLog("tick-a", "tick 3\n", 20*time.Second)
	e.waitLog("tick-b", "tick 3\n", 20*time.Second)
	run := lpReadRun(t, e, victim.ID)
	lpKill(t, run.SupervisorPID, syscall.SIGKILL)
	if !poll(20*time.Second, func() bool { return !pidAlive(run.SupervisorPID) }) {
		t.Fatalf("supervisor %d survived SIGKILL", run.SupervisorPID)
	}
	sizeA, sizeB := ftSize(nbA.LogPath), ftSize(nbB.LogPath)

	// Only the supervisor writes the log: it is final now.
	cut := ftRead(t, victim.LogPath)
	got := ftParse(t, "log cut by SIGKILL", cut, ftLine, ftParseOpts{first: 1})
	if got.lines < 1000 {
		t.Fatalf("the log holds %d lines; the flood was killed too early to test a cut", got.lines)
	}
	t.Logf("log cut after line %d (%d bytes), unfinished %q", got.last, len(cut), got.partial)

	st := e.status("victim")
	if st.State != "lost" || st.ExitCode != nil || st.Signal != nil {
		t.Fatalf("status after the supervisor died: %+v, want lost with no exit code or signal", st)
	}
	if _, err := os.Stat(filepath.Join(scTaskDir(e, victim.ID), "exit")); err == nil {
		t.Fatalf("an exit sidecar appeared although nobody saw the task end")
	}
	if r := e.run("logs", "victim", "--tail", "1"); r.Code != 0 || (got.partial == "" && strings.TrimSpace(r.Out) != ftLine(got.last)) {
		t.Fatalf("logs --tail 1 of the lost task: exit %d, %q (last whole line %d)\n%s", r.Code, r.Out, got.last, r.Err)
	}
	// The whole group, at one look: the victim lost, the others running.
	all := ftJSONTasks(t, e.must("list", "--json"))
	if len(all) != 3 || all["victim"].State != "lost" || all["tick-a"].State != "running" || all["tick-b"].State != "running" {
		t.Fatalf("list after the kill: %+v", all)
	}
	// The neighbours keep running and logging, each its own clean record.
	if !poll(20*time.Second, func() bool {
		return ftSize(nbA.LogPath) >= sizeA+40 && ftSize(nbB.LogPath) >= sizeB+40
	}) {
		t.Fatalf("a neighbour stopped logging after the kill: %d -> %d, %d -> %d", sizeA, ftSize(nbA.LogPath), sizeB, ftSize(nbB.LogPath))
	}
	for _, nb := range []task{nbA, nbB} {
		if st := e.status(nb.Name); st.State != "running" || st.PID == nil || *st.PID != *nb.PID {
			t.Fatalf("neighbour %s after the kill: %+v", nb.Name, st)
		}
		ftParse(t, nb.Name+" log", ftRead(t, nb.LogPath), ftTick, ftParseOpts{first: 1})
	}

	// restart brings the lost task back as run 2, after the old output.
	var rt task
	edgeOneJSON(t, "restart --json", e.must("restart", "--json", "victim"), &rt)
	if rt.State != "running" || rt.Runs != 2 || rt.PID == nil {
		t.Fatalf("restart of the lost task: %+v, want running run 2", rt)
	}
	var run2 struct {
		Run       int   `json:"run"`
		LogOffset int64 `json:"log_offset"`
	}
	scReadSidecar(t, e, victim.ID, "run", &run2)
	if run2.Run != 2 || run2.LogOffset < int64(len(cut)) {
		t.Fatalf("run 2 record: %+v, want run 2 starting at offset %d or later", run2, len(cut))
	}
	if !poll(30*time.Second, func() bool { return ftSize(victim.LogPath) >= run2.LogOffset+64<<10 }) {
		t.Fatalf("run 2 did not log: %d bytes", ftSize(victim.LogPath))
	}
	e.must("kill", "victim")
	fin := e.waitFinished("victim")
	ecCheck(t, "victim run 2 after kill", fin, ecWant{state: "killed", signal: "SIGKILL"})
	// The exit is recorded, so the log is complete; the supervisor's
	// trailer is not in it.
	full := ftRead(t, victim.LogPath)
	if bytes.Contains(full[run2.LogOffset:], []byte("[bgmux] killed by SIGKILL")) {
		t.Fatalf("the trailer of run 2 is in the log: %q", full[max(len(full)-200, 0):])
	}
	if !bytes.HasPrefix(full, cut) {
		t.Fatalf("restart changed the old output: the first %d bytes differ", len(cut))
	}
	// Output the killed supervisor had not read yet may still have been
	// in the pipe: the new supervisor logs it first, as the end of run 1,
	// then ends a line left cut short, then run 2 begins.
	old := full[:run2.LogOffset]
	if !bytes.HasSuffix(old, []byte("\r\n")) {
		t.Fatalf("run 1's output does not end with a line break before run 2: %q", old[max(len(old)-40, 0):])
	}
	tail := ftParse(t, "run 1 up to run 2", old[:len(old)-2], ftLine, ftParseOpts{first: 1})
	t.Logf("run 1 recovered after the cut: %d bytes, up to line %d %q", len(old)-len(cut), tail.last, tail.partial)
	again := ftParse(t, "run 2 log", full[run2.LogOffset:], ftLine, ftParseOpts{first: 1, notes: true})
	if again.lines < 1000 || strings.Contains(strings.Join(append(again.notes, again.partial), "\n"), "[bgmux] killed by SIGKILL") {
		t.Fatalf("run 2 log: %d lines, notes %q; want its lines from 1 and no trailer", again.lines, again.notes)
	}
	for _, nb := range []string{"tick-a", "tick-b"} {
		if st := e.status(nb); st.State != "running" {
			t.Fatalf("neighbour %s at the end: %+v", nb, st)
		}
	}
}

// TestFaultTmuxServerKilledManyTasks kills the tmux server under several
// live tasks (two writing fast, one ignoring the hangup, a declared one)
// and one finished task. Since issue 13 the supervisor, not tmux, owns each
// task's terminal: every live task keeps running in the run it had, with
// its supervisor, and keeps logging without a gap; the finished task's
// records are untouched. restore then shows each live task in a new
// window and restarts nothing; up leaves the running declared task as it
// is; restart runs the never task again through its supervisor; a second
// restore changes nothing; stop records each one's exact signal.
func TestFaultTmuxServerKilledManyTasks(t *testing.T) {
	e := newEnv(t)
	e.useConfig("tasks:\n  decl:\n    command: \"echo marker-decl; exec sleep 1000\"\n    group: " + e.Group + "\n")
	done := e.start("--name", "done", "--", "echo marker-done; exit 3")
	ecCheck(t, "done", e.waitFinished("done"), ecWant{state: "exited", code: 3})
	ftSettled(t, e, done.ID)
	flood := e.start("--name", "flood", "--", ftFlood)
	floodAlw := e.start("--name", "flood-alw", "--restart", "always", "--", ftFlood)
	e.start("--name", "alw", "--restart", "always", "--", "echo marker-alw; exec sleep 1000")
	e.start("--name", "hup-alw", "--restart", "always", "--", `trap "" HUP; echo marker-hup-alw; while echo tick; do sleep 0.05; done; exit 9`)
	e.start("--name", "nev", "--", "echo marker-nev; exec sleep 1000")
	e.must("up", "decl")
	for _, n := range []string{"alw", "hup-alw", "nev", "decl"} {
		e.waitLog(n, "marker-"+n, 20*time.Second)
	}
	if !poll(30*time.Second, func() bool { return ftSize(flood.LogPath) >= 256<<10 && ftSize(floodAlw.LogPath) >= 256<<10 }) {
		t.Fatalf("the floods wrote only %d and %d bytes", ftSize(flood.LogPath), ftSize(floodAlw.LogPath))
	}
	doneDir := scTaskDir(e, done.ID)
	doneBefore := ftTree(t, doneDir)
	live := []string{"flood", "flood-alw", "alw", "hup-alw", "nev", "decl"}
	before := map[string]task{}
	for _, n := range live {
		before[n] = e.status(n)
	}
	runs := map[string]ftRunRec{}
	for _, n := range live {
		var r ftRunRec
		scReadSidecar(t, e, before[n].ID, "run", &r)
		runs[n] = r
	}

	if out, err := e.tmux("kill-server"); err != nil {
		t.Fatalf("tmux kill-server: %v\n%s", err, out)
	}
	sizes := map[string]int64{"flood": ftSize(flood.LogPath), "flood-alw": ftSize(floodAlw.LogPath), "hup-alw": ftSize(before["hup-alw"].LogPath)}
	// The tasks that write go on writing into their logs.
	if !poll(30*time.Second, func() bool {
		for n, sz := range sizes {
			if ftSize(before[n].LogPath) < sz+64<<10 && (n != "hup-alw" || ftSize(before[n].LogPath) < sz+200) {
				return false
			}
		}
		return true
	}) {
		t.Fatalf("the tasks stopped logging after kill-server: %v, now flood %d, flood-alw %d", sizes, ftSize(flood.LogPath), ftSize(floodAlw.LogPath))
	}
	after := ftJSONTasks(t, e.must("list", "--json"))
	for _, n := range live {
		st, was := after[n], before[n]
		if st.State != "running" || st.Runs != 1 || st.PID == nil || *st.PID != *was.PID || !pidAlive(*st.PID) {
			t.Fatalf("%s after kill-server: %+v; want it running on in run 1 as pid %d", n, st, *was.PID)
		}
	}
	for _, n := range live {
		if !pidAlive(runs[n].SupervisorPID) {
			t.Fatalf("the supervisor of %s (pid %d) did not outlive the tmux server", n, runs[n].SupervisorPID)
		}
	}
	ecCheck(t, "done after kill-server", after["done"], ecWant{state: "exited", code: 3})
	if d := ftTreeDiff(doneBefore, ftTree(t, doneDir)); d != "" {
		t.Fatalf("the finished task's files changed:\n%s", d)
	}
	for _, n := range []string{"alw", "nev", "decl", "done"} {
		if logs := e.must("logs", n); strings.Count(logs, "marker-"+n) != 1 {
			t.Fatalf("log of %s lost its output:\n%s", n, logs)
		}
	}
	ftParse(t, "flood log after kill-server", ftRead(t, flood.LogPath), ftLine, ftParseOpts{first: 1})
	ftParse(t, "flood-alw log after kill-server", ftRead(t, floodAlw.LogPath), ftLine, ftParseOpts{first: 1})

	// restore: each live task is shown in a new window; nothing restarts.
	res := rsRestore(t, e)
	for _, n := range live {
		r := res[n]
		if r.Action != "ok" || r.Task.Runs != 1 || r.Task.State != "running" {
			t.Fatalf("restore, live task %s: %+v; want it left running", n, r)
		}
		out, err := e.tmux("display-message", "-p", "-t", r.Task.Tmux.Window, "#{@bgmux_id}")
		if err != nil || strings.TrimSpace(out) != r.Task.ID {
			t.Fatalf("restore, %s: its new window %q: %q %v", n, r.Task.Tmux.Window, out, err)
		}
	}
	if r := res["done"]; r.Action != "finished" {
		t.Fatalf("restore, finished task: %+v", r)
	}
	if d := ftTreeDiff(doneBefore, ftTree(t, doneDir)); d != "" {
		t.Fatalf("restore changed the finished task's files:\n%s", d)
	}
	windows := func() int {
		out, _ := e.tmux("list-windows", "-a", "-F", "#{window_id}")
		return strings.Count(out, "@")
	}
	shown := windows()
	// up keeps the running declared task as it is.
	e.must("up", "decl")
	if st := e.status("decl"); st.State != "running" || st.Runs != 1 {
		t.Fatalf("decl after up: %+v", st)
	}
	// restart runs the never task again, by its supervisor.
	var rt task
	edgeOneJSON(t, "restart --json nev", e.must("restart", "--json", "nev"), &rt)
	if rt.State != "running" || rt.Runs != 2 || rt.ID != before["nev"].ID {
		t.Fatalf("restart of nev: %+v", rt)
	}
	if !poll(20*time.Second, func() bool { return strings.Count(e.must("logs", "nev"), "marker-nev") == 2 }) {
		t.Fatalf("logs of nev after its restart:\n%s", e.must("logs", "nev"))
	}
	// A second restore changes nothing, and opens no window.
	res = rsRestore(t, e)
	for _, n := range live {
		if r := res[n]; r.Action != "ok" || r.Task.State != "running" {
			t.Fatalf("second restore, %s: %+v, want ok", n, r)
		}
	}
	if n := windows(); n != shown {
		t.Fatalf("second restore: %d windows, %d before", n, shown)
	}
	for _, n := range live {
		e.must("stop", n)
		ecCheck(t, n+" stopped", e.waitFinished(n), ecWant{state: "killed", signal: "SIGTERM"})
	}
	ecCheck(t, "done at the end", e.status("done"), ecWant{state: "exited", code: 3})
}

// ftRunRec is the part of a run record these tests read.
type ftRunRec struct {
	SupervisorPID int `json:"supervisor_pid"`
}

// ftFloodLines is how many lines the full-disk flood writes: about 3.8 MB
// through the terminal, on a 2 MB file system.
const ftFloodLines = 300000

// ftFloodBytes is what the flood writes through the terminal (CRLF).
func ftFloodBytes() int64 {
	var n int64
	for i := 1; i <= ftFloodLines; i++ {
		n += int64(len(ftLine(i)) + 2)
	}
	return n
}

// TestFaultFullDisk runs the state dir on a 2 MB tmpfs and lets a task
// write 3.8 MB: it is not blocked, its exit (7) is recorded exactly
// although the disk is full, status and logs say how much output is
// missing and why, the log is a clean record of what it holds, and the
// other tasks' records are untouched. A task that keeps writing resumes
// logging, at a line start, once there is room again.
func TestFaultFullDisk(t *testing.T) {
	e := newEnv(t)
	ftMount(t, e, "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", e.State)
	keeper := e.start("--name", "keeper", "--", "echo keeper-ready; exec sleep 1000")
	done := e.start("--name", "done", "--", "echo done-out; exit 3")
	ecCheck(t, "done", e.waitFinished("done"), ecWant{state: "exited", code: 3})
	ftSettled(t, e, done.ID)
	ticker := e.start("--name", "ticker", "--", ftWideTicker)
	e.waitLog("ticker", "tick 2 ", 20*time.Second)
	// Room given back later, to show logging resumes.
	ballast := filepath.Join(e.State, "ballast")
	if err := os.WriteFile(ballast, bytes.Repeat([]byte{'b'}, 256<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	keeperDir, doneDir := scTaskDir(e, keeper.ID), scTaskDir(e, done.ID)
	keeperBefore := map[string][]byte{}
	for _, f := range []string{"spec", "run", "window", "output.log"} {
		keeperBefore[f] = ftRead(t, filepath.Join(keeperDir, f))
	}
	doneBefore := ftTree(t, doneDir)

	fin0 := time.Now()
	flood := e.start("--name", "flood", "--", fmt.Sprintf(`awk 'BEGIN { for (i = 1; i <= %d; i++) print "line " i; exit 7 }'`, ftFloodLines))
	// Not blocked: the supervisor drains the pipe and the task finishes.
	fin := e.waitState("flood", 90*time.Second, func(t task) bool { return t.State != "running" && t.State != "starting" })
	ecCheck(t, "flood on a full disk", fin, ecWant{state: "exited", code: 7})
	t.Logf("flood finished after %v", time.Since(fin0))
	ecCheckSidecar(t, e, flood.ID, ecWant{state: "exited", code: 7})
	var hist []ecExit
	scReadSidecar(t, e, flood.ID, "history", &hist)
	if len(hist) != 1 || hist[0].ExitCode == nil || *hist[0].ExitCode != 7 {
		t.Fatalf("history of the flood: %+v", hist)
	}

	// It says what is missing, and why.
	loss := ftLossOf(t, e, "flood")
	logData := ftRead(t, flood.LogPath)
	if loss == nil || loss.Bytes <= 0 || loss.Gaps < 1 || loss.Dropping || !strings.Contains(loss.Reason, "disk full") || loss.Offset > int64(len(logData)) {
		t.Fatalf("status log_loss of the flood: %+v (log %d bytes)", loss, len(logData))
	}
	total := int64(len(logData)) + loss.Bytes
	if want := ftFloodBytes(); total < want || total > want+1024 {
		t.Fatalf("log %d + missing %d = %d bytes; the task wrote %d (plus bgmux's own lines): output unaccounted for", len(logData), loss.Bytes, total, want)
	}
	if text := e.must("status", "flood"); !strings.Contains(text, "missing from the log") || !strings.Contains(text, "disk full") {
		t.Fatalf("status text does not say output is missing:\n%s", text)
	}
	r := e.run("logs", "flood", "--tail", "3")
	if r.Code != 0 || !strings.Contains(r.Err, "missing from the log") || !strings.Contains(r.Err, "disk full") {
		t.Fatalf("logs on a log with a gap: exit %d, stderr %q", r.Code, r.Err)
	}
	var lj struct {
		LogLoss *ftLogLoss `json:"log_loss"`
	}
	edgeOneJSON(t, "logs --json", e.must("logs", "--json", "--tail", "1", "flood"), &lj)
	if lj.LogLoss == nil || *lj.LogLoss != *loss {
		t.Fatalf("logs --json log_loss %+v, status says %+v", lj.LogLoss, loss)
	}
	got := ftParse(t, "flood log on a full disk", logData, ftLine, ftParseOpts{first: 1, gaps: true, notes: true})
	if got.lines < 1000 || got.last >= ftFloodLines || int64(got.jumps) > int64(loss.Gaps) {
		t.Fatalf("flood log: lines %d..%d, %d jumps; loss %+v", got.first, got.last, got.jumps, loss)
	}

	// The other tasks' records are untouched; keeper still runs.
	if st := e.status("keeper"); st.State != "running" || st.PID == nil || *st.PID != *keeper.PID {
		t.Fatalf("keeper on a full disk: %+v", st)
	}
	for f, b := range keeperBefore {
		if now := ftRead(t, filepath.Join(keeperDir, f)); !bytes.Equal(now, b) {
			t.Fatalf("keeper's %s changed:\nbefore %q\nafter  %q", f, b, now)
		}
	}
	if d := ftTreeDiff(doneBefore, ftTree(t, doneDir)); d != "" {
		t.Fatalf("the finished task's files changed:\n%s", d)
	}
	ecCheck(t, "done on a full disk", e.status("done"), ecWant{state: "exited", code: 3})

	// The flood's supervisor gave back its reserve when it ended: fill
	// the disk again, as anything else on it might.
	ftFill(t, filepath.Join(e.State, "filler"))
	// The ticker, writing on, is dropping output and says so.
	var tl *ftLogLoss
	if !poll(30*time.Second, func() bool { tl = ftLossOf(t, e, "ticker"); return tl != nil && tl.Dropping }) {
		t.Fatalf("the ticker on a full disk never reported dropping output: %+v (log %d bytes)", tl, ftSize(ticker.LogPath))
	}
	if st := e.status("ticker"); st.State != "running" {
		t.Fatalf("ticker on a full disk: %+v", st)
	}
	t.Logf("ticker dropping after %v: %+v", time.Since(fin0), tl)
	// Room again: logging resumes by itself, at a line start.
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	if !poll(30*time.Second, func() bool {
		tl = ftLossOf(t, e, "ticker")
		return tl != nil && !tl.Dropping && ftSize(ticker.LogPath) > tl.Offset+200
	}) {
		t.Fatalf("the ticker's log did not resume once there was room: %+v, log %d bytes", tl, ftSize(ticker.LogPath))
	}
	t.Logf("ticker resumed after %v: %+v", time.Since(fin0), tl)
	tickLog := ftParse(t, "ticker log across the gap", ftRead(t, ticker.LogPath), ftWideTick, ftParseOpts{first: 1, gaps: true, notes: true})
	if tickLog.jumps < 1 || tickLog.jumps > tl.Gaps {
		t.Fatalf("ticker log: %d jumps in the numbering, loss record %+v", tickLog.jumps, tl)
	}
	e.must("stop", "ticker")
	ecCheck(t, "ticker after stop", e.waitFinished("ticker"), ecWant{state: "killed", signal: "SIGTERM"})
	ecCheckSidecar(t, e, ticker.ID, ecWant{state: "killed", signal: "SIGTERM"})
	for _, id := range []string{flood.ID, ticker.ID} {
		r := lpReadRun(t, e, id)
		if !poll(20*time.Second, func() bool { return !pidAlive(r.SupervisorPID) }) {
			t.Fatalf("the supervisor of %s did not end", id)
		}
		if _, err := os.Stat(filepath.Join(scTaskDir(e, id), "reserve")); err == nil {
			t.Fatalf("task %s kept its disk reserve after its supervisor ended", id)
		}
	}
}

// ftDamage is one way a sidecar is found damaged on disk.
type ftDamage struct {
	name string
	do   func(orig []byte) []byte
}

var ftDamages = []ftDamage{
	{"garbage", func([]byte) []byte { return []byte("\x00\xff\xfegarbage{{\n") }},
	{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
	{"empty", func([]byte) []byte { return nil }},
}

// ftCorruptErr checks a failed command on a task set aside: exit status 1,
// one line on stderr naming the sidecar, saying it was set aside and
// where its files are; the same message as a JSON error of kind corrupt.
func ftCorruptErr(t *testing.T, e *env, ref, id, file string) {
	t.Helper()
	r := e.run("status", ref)
	dir := filepath.Join(e.State, "corrupt", id)
	msg := strings.TrimSuffix(r.Err, "\n")
	if r.Code != 1 || r.Out != "" || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "bgmux: task "+id) ||
		!strings.Contains(msg, "its "+file+" sidecar") || !strings.Contains(msg, "set aside") || !strings.Contains(msg, dir) {
		t.Fatalf("status %s (damaged %s): exit %d\nstdout %q\nstderr %q\nwant exit 1 and one line naming the %s sidecar and %s", ref, file, r.Code, r.Out, r.Err, file, dir)
	}
	r = e.run("status", "--json", ref)
	var doc struct {
		Error struct{ Kind, Message string } `json:"error"`
	}
	edgeOneJSON(t, "status --json "+ref, r.Out, &doc)
	if r.Code != 1 || doc.Error.Kind != "corrupt" || "bgmux: "+doc.Error.Message != msg {
		t.Fatalf("status --json %s: exit %d, %+v; want kind corrupt and the same message", ref, r.Code, doc)
	}
}

// TestFaultCorruptSidecar damages the spec, run, window or exit sidecar
// of finished tasks (garbage, truncated JSON, an empty file): the first
// command that meets one (status TASK, or list) reports it and sets the
// task aside under corrupt/ with all its files as they were; list and
// status of the other tasks stay exact; later commands say where it went;
// nothing is overwritten. A task that still runs is reported but left in
// place until it ends. A damaged history is set aside as a file.
func TestFaultCorruptSidecar(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	runner := e.start("--name", "runner", "--", "exec sleep 1000")
	fine := e.start("--name", "fine", "--", "echo fine-out; exit 3")
	ecCheck(t, "fine", e.waitFinished("fine"), ecWant{state: "exited", code: 3})
	ftSettled(t, e, fine.ID)
	type victim struct {
		name, id, file, damage string
		bad                    []byte
		byStatus               bool // met first by status, not list
	}
	var victims []*victim
	for _, file := range []string{"spec", "run", "window", "exit"} {
		for i, d := range ftDamages {
			name := "v-" + file + "-" + d.name
			tk := e.start("--name", name, "--", "echo out-"+name+"; exit 4")
			victims = append(victims, &victim{name: name, id: tk.ID, file: file, damage: d.name, byStatus: i == 0})
		}
	}
	for _, v := range victims {
		ecCheck(t, v.name, e.waitFinished(v.id), ecWant{state: "exited", code: 4})
		e.waitLog(v.id, "out-"+v.name, 20*time.Second)
		ftSettled(t, e, v.id)
	}
	live := e.start("--name", "live", "--", "echo live-ready; exec sleep 1000")
	e.waitLog("live", "live-ready", 20*time.Second)
	hist := e.start("--name", "hist", "--", "exit 5")
	e.waitFinished("hist")
	ftSettled(t, e, hist.ID)

	healthy := ftJSONTasks(t, e.must("list", "--json"))
	fineDir := scTaskDir(e, healthy["fine"].ID)
	fineBefore := ftTree(t, fineDir)
	for _, v := range victims {
		p := filepath.Join(scTaskDir(e, v.id), v.file)
		for _, d := range ftDamages {
			if d.name == v.damage {
				v.bad = d.do(ftRead(t, p))
			}
		}
		if err := os.WriteFile(p, v.bad, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(scTaskDir(e, live.ID), "window"), []byte("{\"socket\": tru"), 0o600); err != nil {
		t.Fatal(err)
	}
	badHist := []byte("[{\"run\": 1, \"exit_code\": ")
	if err := os.WriteFile(filepath.Join(scTaskDir(e, hist.ID), "history"), badHist, 0o600); err != nil {
		t.Fatal(err)
	}

	// status of a healthy task is exact and says nothing of the others.
	if r := e.run("status", "--json", "fine"); r.Code != 0 || r.Err != "" {
		t.Fatalf("status fine beside damaged tasks: exit %d, stderr %q", r.Code, r.Err)
	}
	// Met first by status TASK: the error is the report.
	for _, v := range victims {
		if v.byStatus {
			ftCorruptErr(t, e, v.id, v.id, v.file)
		}
	}
	// Met by list: reported once on stderr (also with --json, whose
	// stdout stays one JSON array), and skipped.
	r := e.run("list", "--json")
	if r.Code != 0 {
		t.Fatalf("list --json beside damaged tasks: exit %d\n%s", r.Code, r.Err)
	}
	got := ftJSONTasks(t, r.Out)
	for _, v := range victims {
		mentioned := strings.Contains(r.Err, "task "+v.id)
		if _, ok := got[v.name]; ok || mentioned == v.byStatus {
			t.Fatalf("list --json and %s (%s %s, met by status first: %v): listed %v, warned %v\nstderr:\n%s", v.name, v.file, v.damage, v.byStatus, ok, mentioned, r.Err)
		}
		if mentioned && !strings.Contains(r.Err, "bgmux: warning: task "+v.id) {
			t.Fatalf("list warning for %s is not a bgmux warning:\n%s", v.id, r.Err)
		}
	}
	if !strings.Contains(r.Err, "task "+live.ID+" (live): its window sidecar") || !strings.Contains(r.Err, "still runs") {
		t.Fatalf("list does not report the running task with a damaged window:\n%s", r.Err)
	}
	want := []string{"fine", "hist", "runner"}
	var names []string
	for n := range got {
		names = append(names, n)
	}
	sort.Strings(names)
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("list shows %v, want %v", names, want)
	}
	for _, n := range []string{"fine", "runner"} {
		if !reflect.DeepEqual(got[n], healthy[n]) {
			t.Fatalf("%s changed beside damaged tasks:\nbefore %+v\nafter  %+v", n, healthy[n], got[n])
		}
	}
	// Reported once: a second list is quiet about them (the running one
	// is reported until it ends).
	r = e.run("list")
	if r.Code != 0 || strings.Count(r.Err, "\n") != 1 || !strings.Contains(r.Err, "task "+live.ID+" (live)") {
		t.Fatalf("second list: exit %d, stderr:\n%s", r.Code, r.Err)
	}

	// Each set-aside task: every file kept, the damaged one as it was;
	// status by id, and by name when its spec is readable, says where.
	for _, v := range victims {
		dir := filepath.Join(e.State, "corrupt", v.id)
		if _, err := os.Stat(scTaskDir(e, v.id)); err == nil {
			t.Fatalf("%s is still under tasks/", v.name)
		}
		if b := ftRead(t, filepath.Join(dir, v.file)); !bytes.Equal(b, v.bad) {
			t.Fatalf("the damaged %s of %s changed: %q, was %q", v.file, v.name, b, v.bad)
		}
		if b := ftRead(t, filepath.Join(dir, "output.log")); !bytes.Contains(b, []byte("out-"+v.name)) {
			t.Fatalf("the log of %s was not kept: %q", v.name, b)
		}
		var note struct{ ID, File, Problem string }
		ftReadJSON(t, filepath.Join(dir, "set-aside.json"), &note)
		if note.ID != v.id || note.File != v.file || note.Problem == "" {
			t.Fatalf("set-aside note of %s: %+v", v.name, note)
		}
		ftCorruptErr(t, e, v.id, v.id, v.file)
		if v.file != "spec" {
			ftCorruptErr(t, e, v.name, v.id, v.file)
		}
	}
	// The healthy tasks are exact, their files untouched.
	if st := e.status("runner"); st.State != "running" || st.PID == nil || *st.PID != *runner.PID {
		t.Fatalf("runner: %+v", st)
	}
	ecCheck(t, "fine", e.status("fine"), ecWant{state: "exited", code: 3})
	if d := ftTreeDiff(fineBefore, ftTree(t, fineDir)); d != "" {
		t.Fatalf("fine's files changed:\n%s", d)
	}
	// A name freed by a set-aside task can be used again; the set-aside
	// files are not touched.
	v0 := victims[len(victims)-1]
	asideBefore := ftTree(t, filepath.Join(e.State, "corrupt"))
	e.start("--name", v0.name, "--", "exit 0")
	ecCheck(t, "new "+v0.name, e.waitFinished(v0.name), ecWant{state: "exited", code: 0})
	if d := ftTreeDiff(asideBefore, ftTree(t, filepath.Join(e.State, "corrupt"))); d != "" {
		t.Fatalf("the corrupt area changed:\n%s", d)
	}

	// The running task with a damaged window is left in place: it ends,
	// its supervisor records how, and then it is set aside with that record.
	r = e.run("status", live.ID)
	if r.Code != 1 || !strings.Contains(r.Err, "still runs") || !strings.Contains(r.Err, "kill -TERM") {
		t.Fatalf("status of the running damaged task: exit %d, %q", r.Code, r.Err)
	}
	liveRun := lpReadRun(t, e, live.ID)
	lpKill(t, -liveRun.PGID, syscall.SIGTERM)
	if !poll(20*time.Second, func() bool { return !pidAlive(liveRun.SupervisorPID) }) {
		t.Fatalf("the supervisor of the damaged running task did not end")
	}
	r = e.run("list")
	if r.Code != 0 || !strings.Contains(r.Err, "task "+live.ID+" (live) was set aside: its window sidecar") {
		t.Fatalf("list after the damaged task ended: exit %d\n%s", r.Code, r.Err)
	}
	var ex ecExit
	ftReadJSON(t, filepath.Join(e.State, "corrupt", live.ID, "exit"), &ex)
	if ex.Signal == nil || *ex.Signal != "SIGTERM" {
		t.Fatalf("exit record of the set-aside task: %+v, want killed by SIGTERM", ex)
	}

	// A damaged history is set aside before the next run's is written.
	e.must("restart", "hist")
	fin := e.waitState("hist", 20*time.Second, func(t task) bool { return t.Runs == 2 && t.State == "exited" })
	ecCheck(t, "hist run 2", fin, ecWant{state: "exited", code: 5})
	aside, _ := filepath.Glob(filepath.Join(scTaskDir(e, hist.ID), "history.corrupt-*"))
	if len(aside) != 1 || !bytes.Equal(ftRead(t, aside[0]), badHist) {
		t.Fatalf("damaged history not set aside as it was: %v", aside)
	}
	var h []ecExit
	scReadSidecar(t, e, hist.ID, "history", &h)
	if len(h) != 1 || h[0].Run != 2 || h[0].ExitCode == nil || *h[0].ExitCode != 5 {
		t.Fatalf("new history: %+v", h)
	}
}

// TestFaultStateDirNotWritable: a state dir that cannot be written (a
// read-only mount, which stops root too; a directory of another user)
// makes start fail at once with exit status 2 and a message saying what
// to do, changing nothing; list, status and logs still work where the
// directory can be read.
func TestFaultStateDirNotWritable(t *testing.T) {
	t.Parallel()
	t.Run("read-only", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		runner := e.start("--name", "runner", "--", "echo runner-ready; exec sleep 1000")
		e.waitLog("runner", "runner-ready", 20*time.Second)
		fine := e.start("--name", "fine", "--", "echo fine-out; exit 3")
		e.waitFinished("fine")
		ftSettled(t, e, fine.ID)
		view := filepath.Join(filepath.Dir(e.State), "ro-state")
		ftReadOnlyView(t, e, e.State, view)
		ro := *e
		ro.State = view
		before := ftTree(t, e.State)
		panes, _ := edgePanes(e)

		for _, args := range [][]string{
			{"start", "--name", "new", "--", "true"},
			{"start", "--", "echo", "hi"},
			{"restart", "fine"},
		} {
			r := ro.run(args...)
			msg := strings.TrimSuffix(r.Err, "\n")
			if r.Code != 2 || r.Out != "" || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "bgmux: ") ||
				!strings.Contains(msg, view) || !strings.Contains(msg, "read-only") || !strings.Contains(msg, "BGMUX_STATE_DIR") || !edgeHint.MatchString(msg) {
				t.Fatalf("bgmux %q on a read-only state dir: exit %d\nstdout %q\nstderr %q\nwant exit 2 and one line naming the directory, read-only, and what to do", args, r.Code, r.Out, r.Err)
			}
			jargs := append([]string{args[0], "--json"}, args[1:]...)
			r = ro.run(jargs...)
			var doc struct {
				Error struct{ Kind string } `json:"error"`
			}
			edgeOneJSON(t, strings.Join(jargs, " "), r.Out, &doc)
			if r.Code != 2 || doc.Error.Kind != "invalid_input" {
				t.Fatalf("bgmux %q: exit %d, %s", jargs, r.Code, r.Out)
			}
		}
		// Reading works, and is exact.
		all := ftJSONTasks(t, ro.must("list", "--json"))
		if len(all) != 2 || all["runner"].State != "running" || all["runner"].PID == nil || *all["runner"].PID != *runner.PID {
			t.Fatalf("list on a read-only state dir: %+v", all)
		}
		ecCheck(t, "fine on a read-only state dir", ro.status("fine"), ecWant{state: "exited", code: 3})
		if logs := ro.must("logs", "fine"); !strings.Contains(logs, "fine-out") {
			t.Fatalf("logs on a read-only state dir:\n%s", logs)
		}
		// Nothing changed: no file, no window.
		if d := ftTreeDiff(before, ftTree(t, e.State)); d != "" {
			t.Fatalf("the state dir changed:\n%s", d)
		}
		if now, _ := edgePanes(e); !reflect.DeepEqual(now, panes) {
			t.Fatalf("windows changed: %q -> %q", panes, now)
		}
		if st := e.status("runner"); st.State != "running" {
			t.Fatalf("runner: %+v", st)
		}
	})
	t.Run("other-user", func(t *testing.T) {
		t.Parallel()
		ftNeedRoot(t)
		e := newEnv(t)
		// A world-readable place for the binary and a working directory,
		// and a state dir that only root may enter.
		base, err := os.MkdirTemp("", "bgmux-nobody-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(base) })
		bin, work, state := filepath.Join(base, "bgmux"), filepath.Join(base, "work"), filepath.Join(base, "state")
		for _, d := range []string{work, filepath.Join(state, "tasks")} {
			if err := os.MkdirAll(d, 0o700); err != nil {
				t.Fatal(err)
			}
		}
		for p, mode := range map[string]os.FileMode{base: 0o755, work: 0o777, state: 0o700} {
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(bin, ftRead(t, bgmuxBin), 0o755); err != nil {
			t.Fatal(err)
		}
		before := ftTree(t, state)
		asNobody := func(args ...string) result {
			cmd := exec.Command(bin, args...)
			cmd.Dir = work
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "BGMUX_STATE_DIR=" + state,
				"BGMUX_SOCKET=" + e.Socket, "XDG_CONFIG_HOME=" + filepath.Join(work, "xdg")}
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatalf("run %q as uid 65534: %v", args, err)
			}
			return result{Out: out.String(), Err: errb.String(), Code: code}
		}
		r := asNobody("start", "--name", "new", "--", "true")
		msg := strings.TrimSuffix(r.Err, "\n")
		if r.Code != 2 || r.Out != "" || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "bgmux: ") || !strings.Contains(msg, state) ||
			!strings.Contains(msg, "BGMUX_STATE_DIR") || !edgeHint.MatchString(msg) {
			t.Fatalf("start as another user: exit %d\nstdout %q\nstderr %q\nwant exit 2 and one line naming the state dir and what to do", r.Code, r.Out, r.Err)
		}
		// It cannot even be read: list says so, naming the directory.
		r = asNobody("list")
		if r.Code != 2 || !strings.HasPrefix(r.Err, "bgmux: ") || !strings.Contains(r.Err, state) || !edgeHint.MatchString(r.Err) {
			t.Fatalf("list as another user: exit %d, stderr %q", r.Code, r.Err)
		}
		if d := ftTreeDiff(before, ftTree(t, state)); d != "" {
			t.Fatalf("the state dir changed:\n%s", d)
		}
		if panes, ok := edgePanes(e); ok {
			t.Fatalf("a tmux server was started: %q", panes)
		}
	})
}
