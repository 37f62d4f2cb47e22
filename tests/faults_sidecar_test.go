package tests

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

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
