package tests

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// evEvent is one event of bgmux events --json.
type evEvent struct {
	Seq        int64      `json:"seq"`
	Time       time.Time  `json:"time"`
	Event      string     `json:"event"`
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Group      string     `json:"group"`
	Run        int        `json:"run"`
	Message    string     `json:"message"`
	PID        *int       `json:"pid"`
	ExitCode   *int       `json:"exit_code"`
	Signal     *string    `json:"signal"`
	ExitStatus *int       `json:"exit_status"`
	Line       *string    `json:"line"`
	LostReason *string    `json:"lost_reason"`
	RestartAt  *time.Time `json:"restart_at"`
}

// evDoc is bgmux events --json.
type evDoc struct {
	Events  []evEvent `json:"events"`
	Skipped int64     `json:"skipped"`
	Dropped int64     `json:"dropped"`
	LastSeq int64     `json:"last_seq"`
}

// evFields are the keys every event object carries.
var evFields = []string{"seq", "time", "event", "id", "name", "group", "run", "message", "pid", "exit_code", "signal", "exit_status", "line", "lost_reason", "restart_at"}

// evRead runs bgmux events --json with args and decodes the document,
// checking every event has every field.
func evRead(t testing.TB, e *env, args ...string) evDoc {
	t.Helper()
	out := e.must(append([]string{"events", "--json"}, args...)...)
	var doc evDoc
	edgeOneJSON(t, "events --json", out, &doc)
	var raw struct {
		Events []map[string]json.RawMessage `json:"events"`
	}
	json.Unmarshal([]byte(out), &raw)
	for _, ev := range raw.Events {
		for _, k := range evFields {
			if _, ok := ev[k]; !ok {
				t.Fatalf("event %v lacks field %q", ev, k)
			}
		}
	}
	return doc
}

// evOf is the kinds of the events of task id, in order.
func evOf(doc evDoc, id string) []string {
	var kinds []string
	for _, ev := range doc.Events {
		if ev.ID == id {
			kinds = append(kinds, ev.Event)
		}
	}
	return kinds
}

// evWaitFor polls events --all until fn holds of its events.
func evWaitFor(t testing.TB, e *env, what string, fn func(evDoc) bool) evDoc {
	t.Helper()
	var doc evDoc
	if !poll(30*time.Second, func() bool {
		doc = evRead(t, e, "--all")
		return fn(doc)
	}) {
		t.Fatalf("events never showed %s; got %+v", what, doc.Events)
	}
	return doc
}

// evFind returns the first event of task id of kind, or nil.
func evFind(doc evDoc, id, kind string) *evEvent {
	for i, ev := range doc.Events {
		if ev.ID == id && ev.Event == kind {
			return &doc.Events[i]
		}
	}
	return nil
}

// TestEventsLifecycle: the supervisor logs started, exited, killed,
// restarting and gave_up; start --wait-for logs ready; stop logs stopped
// after the kill; each event names its task and run, in order, with the
// exit details wait reports.
func TestEventsLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.start("--name", "a", "--", "exit 3")
	b := e.start("--name", "b", "--restart", "on-failure", "--max-restarts", "1", "--", "exit 2")
	out := e.must("start", "--name", "c", "--wait-for", "^up$", "--", "echo up; exec sleep 1000")
	cID := strings.SplitN(out, "\n", 2)[0]
	doc := evWaitFor(t, e, "a exited and b gave up", func(d evDoc) bool {
		return evFind(d, a.ID, "exited") != nil && evFind(d, b.ID, "gave_up") != nil
	})
	if got := strings.Join(evOf(doc, a.ID), ","); got != "started,exited" {
		t.Fatalf("events of a: %s", got)
	}
	st, ex := evFind(doc, a.ID, "started"), evFind(doc, a.ID, "exited")
	if st.PID == nil || *st.PID <= 1 || st.Run != 1 || st.Name != "a" || st.Group != e.Group {
		t.Fatalf("started event: %+v", st)
	}
	if ex.ExitCode == nil || *ex.ExitCode != 3 || ex.ExitStatus == nil || *ex.ExitStatus != 3 || ex.Signal != nil || !strings.HasPrefix(ex.Message, "exited 3") {
		t.Fatalf("exited event: %+v", ex)
	}
	if got := strings.Join(evOf(doc, b.ID), ","); got != "started,exited,restarting,started,exited,gave_up" {
		t.Fatalf("events of b: %s", got)
	}
	if r := evFind(doc, b.ID, "restarting"); r.RestartAt == nil || r.Run != 1 || r.RestartAt.Before(r.Time) {
		t.Fatalf("restarting event: %+v", r)
	}
	if g := evFind(doc, b.ID, "gave_up"); g.Run != 2 {
		t.Fatalf("gave_up event: %+v", g)
	}
	rd := evFind(doc, cID, "ready")
	if rd == nil || rd.Line == nil || *rd.Line != "up" || rd.Run != 1 {
		t.Fatalf("ready event of c: %+v (events %v)", rd, evOf(doc, cID))
	}
	for i := 1; i < len(doc.Events); i++ {
		if doc.Events[i].Seq != doc.Events[i-1].Seq+1 {
			t.Fatalf("seqs not consecutive: %d then %d", doc.Events[i-1].Seq, doc.Events[i].Seq)
		}
	}

	e.must("stop", "c")
	doc = evRead(t, e, "--task", "c")
	if got := strings.Join(evOf(doc, cID), ","); got != "started,ready,killed,stopped" {
		t.Fatalf("events of c after stop: %s", got)
	}
	if k := evFind(doc, cID, "killed"); k.Signal == nil || *k.Signal != "SIGTERM" || k.ExitStatus == nil || *k.ExitStatus != 143 {
		t.Fatalf("killed event: %+v", k)
	}
	// Text: one readable line per event.
	txt := e.must("events", "--task", "a")
	if lines := strings.Split(strings.TrimSpace(txt), "\n"); len(lines) != 2 || !strings.Contains(lines[1], "a ("+a.ID+") exited 3") {
		t.Fatalf("events text:\n%s", txt)
	}
	// The default selection is the current group; another group has none.
	if d := evRead(t, e); len(d.Events) != len(evRead(t, e, "--all").Events) {
		t.Fatalf("current group shows %d events", len(d.Events))
	}
	if d := evRead(t, e, "--group", "other"); len(d.Events) != 0 {
		t.Fatalf("group other shows %+v", d.Events)
	}
	if d := evRead(t, e, "--since", "1h"); len(d.Events) == 0 {
		t.Fatal("--since 1h shows nothing")
	}
	// Bad usage: exit 2.
	for _, args := range [][]string{
		{"events", "--reader", "r"}, {"events", "--task", "a", "--all"}, {"events", "--group", "a b"},
		{"events", "--new", "--reader", "../x"}, {"events", "--since", "0s"}, {"events", "a"},
	} {
		if r := e.run(args...); r.Code != 2 {
			t.Fatalf("bgmux %q: exit %d, want 2\n%s", args, r.Code, r.Err)
		}
	}
}

// TestEventsNewExactlyOnce: 20 concurrent events --new calls with one
// reader, over a stream of events from tasks starting and ending, get
// every event exactly once between them.
func TestEventsNewExactlyOnce(t *testing.T) {
	e := newEnv(t)
	const readers, taskCount = 20, 8
	var mu sync.Mutex
	seen := map[int64]int{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	read := func() {
		out := e.must("events", "--new", "--reader", "r", "--all", "--json")
		var doc evDoc
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Errorf("events --new: %v\n%s", err, out)
			return
		}
		mu.Lock()
		for _, ev := range doc.Events {
			seen[ev.Seq]++
		}
		mu.Unlock()
	}
	for i := 0; i < readers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					read()
					return
				default:
					read()
				}
			}
		}()
	}
	var ids []string
	for i := 0; i < taskCount; i++ {
		ids = append(ids, e.start("--", "exit 0").ID)
	}
	for _, id := range ids {
		e.waitFinished(id)
	}
	evWaitFor(t, e, "every task's end", func(d evDoc) bool {
		for _, id := range ids {
			if evFind(d, id, "exited") == nil {
				return false
			}
		}
		return true
	})
	close(stop)
	wg.Wait()
	all := evRead(t, e, "--all")
	if len(all.Events) != 2*taskCount {
		t.Fatalf("%d events, want %d", len(all.Events), 2*taskCount)
	}
	for _, ev := range all.Events {
		if seen[ev.Seq] != 1 {
			t.Fatalf("event %d (%s %s) was returned %d times to reader r", ev.Seq, ev.Event, ev.ID, seen[ev.Seq])
		}
	}
	if len(seen) != len(all.Events) {
		t.Fatalf("reader r got %d distinct events, the log holds %d", len(seen), len(all.Events))
	}
	// Another reader, and the same reader in another selection, start
	// from the beginning.
	if d := evRead(t, e, "--new", "--reader", "s", "--all"); len(d.Events) != 2*taskCount {
		t.Fatalf("reader s got %d events", len(d.Events))
	}
	if d := evRead(t, e, "--new", "--reader", "r", "--task", ids[0]); len(d.Events) != 2 {
		t.Fatalf("reader r on one task got %d events", len(d.Events))
	}
	if d := evRead(t, e, "--new", "--reader", "r", "--all"); len(d.Events) != 0 {
		t.Fatalf("reader r again got %+v", d.Events)
	}
}

// TestEventsConcurrentWriters: 50 tasks killed at the same moment make
// 50 supervisors log at once: every line of the log is one whole event,
// the seqs are distinct and consecutive.
func TestEventsConcurrentWriters(t *testing.T) {
	e := newEnv(t)
	const n = 50
	var ids []string
	var pgids []int
	for i := 0; i < n; i++ {
		tk := e.start("--", "exec sleep 1000")
		ids = append(ids, tk.ID)
	}
	for _, id := range ids {
		pgids = append(pgids, lpReadRun(t, e, id).PGID)
	}
	for _, pg := range pgids {
		syscall.Kill(-pg, syscall.SIGKILL)
	}
	evWaitFor(t, e, "50 killed events", func(d evDoc) bool {
		k := 0
		for _, ev := range d.Events {
			if ev.Event == "killed" {
				k++
			}
		}
		return k == n
	})
	b, err := os.ReadFile(filepath.Join(e.State, "events", "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(b, []byte("\n")) {
		t.Fatal("the event log does not end with a newline")
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	seqs := map[int64]bool{}
	lines := 0
	for sc.Scan() {
		lines++
		var ev evEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.Seq == 0 || ev.ID == "" {
			t.Fatalf("line %d is not a whole event (%v): %q", lines, err, sc.Text())
		}
		if seqs[ev.Seq] {
			t.Fatalf("seq %d twice", ev.Seq)
		}
		seqs[ev.Seq] = true
	}
	if lines != 2*n {
		t.Fatalf("%d lines, want %d", lines, 2*n)
	}
	for s := int64(1); s <= 2*n; s++ {
		if !seqs[s] {
			t.Fatalf("seq %d missing", s)
		}
	}
}

// TestEventsRotation: with a small bound the log rotates into one older
// segment; seqs continue, events says how many were dropped, and a
// reader left behind is told what it skipped.
func TestEventsRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.Extra = append(e.Extra, "BGMUX_EVENTS_MAX_SIZE=2000")
	first := e.start("--", "exit 0")
	e.waitFinished(first.ID)
	evWaitFor(t, e, "the first task's end", func(d evDoc) bool { return evFind(d, first.ID, "exited") != nil })
	if d := evRead(t, e, "--new", "--reader", "behind", "--all"); len(d.Events) != 2 {
		t.Fatalf("first read of reader behind: %+v", d.Events)
	}
	var last string
	for i := 0; i < 8; i++ {
		last = e.start("--", "exit 0").ID
		e.waitFinished(last)
	}
	doc := evWaitFor(t, e, "the last task's end", func(d evDoc) bool { return evFind(d, last, "exited") != nil })
	dir := filepath.Join(e.State, "events")
	for _, f := range []string{"events.jsonl", "events.jsonl.1"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Size() > 2000 {
			t.Fatalf("%s: %v %v", f, st, err)
		}
	}
	if doc.Dropped == 0 || doc.LastSeq != 18 || doc.Events[0].Seq != doc.Dropped+1 || doc.Skipped != doc.Dropped {
		t.Fatalf("after rotation: dropped %d skipped %d last %d first %d", doc.Dropped, doc.Skipped, doc.LastSeq, doc.Events[0].Seq)
	}
	for i, ev := range doc.Events {
		if ev.Seq != doc.Events[0].Seq+int64(i) {
			t.Fatalf("seq %d at %d", ev.Seq, i)
		}
	}
	d := evRead(t, e, "--new", "--reader", "behind", "--all")
	if d.Skipped != doc.Dropped-2 || len(d.Events) != len(doc.Events) {
		t.Fatalf("reader behind: skipped %d, %d events; want %d, %d", d.Skipped, len(d.Events), doc.Dropped-2, len(doc.Events))
	}
	r := e.run("events", "--new", "--reader", "late", "--all")
	if r.Code != 0 || !strings.Contains(r.Err, "dropped by event log rotation") {
		t.Fatalf("text read behind the log: %d %q", r.Code, r.Err)
	}
}

// TestEventsSurviveServerKill: the log outlives the tmux server: a task
// whose supervisor saw the server go logs killed SIGHUP, and restore
// logs lost (with its reason) for one whose supervisor was killed first.
func TestEventsSurviveServerKill(t *testing.T) {
	e := newEnv(t)
	hup := e.start("--name", "hup", "--", "echo hi; exec sleep 1000")
	gone := e.start("--name", "gone", "--", "echo hi; exec sleep 1000")
	evWaitFor(t, e, "both started", func(d evDoc) bool {
		return evFind(d, hup.ID, "started") != nil && evFind(d, gone.ID, "started") != nil
	})
	rsKillAll(t, gone.ID)(e)
	hupRun := lpReadRun(t, e, hup.ID)
	if out, err := e.tmux("kill-server"); err != nil {
		t.Fatalf("kill-server: %v\n%s", err, out)
	}
	doc := evRead(t, e, "--all")
	if evFind(doc, hup.ID, "started") == nil || evFind(doc, gone.ID, "started") == nil {
		t.Fatalf("events after the server died: %+v", doc.Events)
	}
	// Since issue 13 a task outlives its tmux server: hup runs on (restore
	// below shows it in a new window), and no end is logged for it.
	rsRestore(t, e)
	doc = evRead(t, e, "--all")
	if st := e.status("hup"); st.State != "running" || !pidAlive(hupRun.SupervisorPID) {
		t.Fatalf("hup after its tmux server was killed: %+v (supervisor %d alive %v); want it running on", st, hupRun.SupervisorPID, pidAlive(hupRun.SupervisorPID))
	}
	if k := evFind(doc, hup.ID, "killed"); k != nil {
		t.Fatalf("hup outlived its tmux server, but an end was logged: %+v", k)
	}
	l := evFind(doc, gone.ID, "lost")
	if l == nil || l.LostReason == nil || *l.LostReason != "tmux server gone" || l.ExitStatus == nil || *l.ExitStatus != 1 || l.Run != 1 {
		t.Fatalf("lost event of gone: %+v (events %v)", l, evOf(doc, gone.ID))
	}
	// A second restore writes nothing more.
	rsRestore(t, e)
	if again := evRead(t, e, "--all"); again.LastSeq != doc.LastSeq {
		t.Fatalf("second restore logged %d more events", again.LastSeq-doc.LastSeq)
	}
}

// TestEventsReboot: after a simulated reboot (new boot id, every process
// and the tmux server gone) the events of before are all there, restore
// logs lost (host rebooted) for the task it leaves, and started (run 2)
// for the one it brings back.
func TestEventsReboot(t *testing.T) {
	e := newEnv(t)
	nev := e.start("--name", "nev", "--", "echo hi; exec sleep 1000")
	alw := e.start("--name", "alw", "--restart", "always", "--", "echo hi; exec sleep 1000")
	before := evWaitFor(t, e, "both started", func(d evDoc) bool {
		return evFind(d, nev.ID, "started") != nil && evFind(d, alw.ID, "started") != nil
	})
	rsKillAll(t, nev.ID, alw.ID)(e)
	e.tmux("kill-server")
	e.Extra = append(e.Extra, "BGMUX_BOOT_ID=rebooted-"+randHex(8))
	if d := evRead(t, e, "--all"); d.LastSeq != before.LastSeq || len(d.Events) != len(before.Events) {
		t.Fatalf("events after the reboot: %+v, before %+v", d, before)
	}
	rsRestore(t, e)
	doc := evWaitFor(t, e, "alw's second run", func(d evDoc) bool {
		for _, ev := range d.Events {
			if ev.ID == alw.ID && ev.Event == "started" && ev.Run == 2 {
				return true
			}
		}
		return false
	})
	for _, id := range []string{nev.ID, alw.ID} {
		l := evFind(doc, id, "lost")
		if l == nil || l.LostReason == nil || *l.LostReason != "host rebooted" {
			t.Fatalf("lost event of %s: %+v", id, l)
		}
	}
	if got := strings.Join(evOf(doc, alw.ID), ","); got != "started,lost,started" {
		t.Fatalf("events of alw: %s", got)
	}
}

// TestEventsFollow: events --follow --json streams JSON Lines as events
// happen, and ends cleanly on SIGTERM.
func TestEventsFollow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.start("--", "exit 0")
	e.waitFinished(first.ID)
	cmd := exec.Command(bgmuxBin, "events", "--follow", "--json", "--all")
	cmd.Dir, cmd.Env = e.Dir, e.Environ()
	var mu sync.Mutex
	var buf bytes.Buffer
	pr, pw, _ := os.Pipe()
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := pr.Read(b)
			mu.Lock()
			buf.Write(b[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	second := e.start("--", "exit 5")
	var lines []string
	if !poll(30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		lines = strings.Split(strings.TrimSpace(buf.String()), "\n")
		return strings.Contains(buf.String(), `"id":"`+second.ID+`","name"`) && strings.Contains(buf.String(), `"exit_code":5`)
	}) {
		t.Fatalf("follow never showed the second task's end:\n%s", strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		var ev evEvent
		if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.Seq == 0 {
			t.Fatalf("follow line %q: %v", l, err)
		}
	}
	if len(lines) != 4 {
		t.Fatalf("follow printed %d lines, want 4:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("follow after SIGTERM: %v", err)
	}
}

// TestEventsWaitAny: wait --any returns when the first of several tasks
// ends, with its status and its task object; a task already ended
// answers at once; a timeout gives 124.
func TestEventsWaitAny(t *testing.T) {
	e := newEnv(t)
	trigger := filepath.Join(e.Dir, "go")
	e.start("--name", "slow", "--", "exec sleep 1000")
	e.start("--name", "quick", "--", "while [ ! -e "+trigger+" ]; do sleep 0.05; done; exit 4")
	e.start("--name", "also", "--", "exec sleep 1000")
	type waitDoc struct {
		Ended      bool `json:"ended"`
		Timeout    bool `json:"timeout"`
		ExitStatus *int `json:"exit_status"`
		Task       *task
	}
	r := e.run("wait", "--any", "slow", "quick", "also", "--timeout", "300ms", "--json")
	var doc waitDoc
	edgeOneJSON(t, "wait --any timeout", r.Out, &doc)
	if r.Code != 124 || !doc.Timeout || doc.Ended || doc.Task != nil {
		t.Fatalf("wait --any timeout: %d %+v %s", r.Code, doc, r.Err)
	}
	done := make(chan result, 1)
	go func() { done <- e.run("wait", "--any", "slow", "quick", "also", "--json") }()
	if err := os.WriteFile(trigger, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var res result
	select {
	case res = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("wait --any did not return 30s after quick ended")
	}
	doc = waitDoc{}
	edgeOneJSON(t, "wait --any", res.Out, &doc)
	if res.Code != 4 || !doc.Ended || doc.ExitStatus == nil || *doc.ExitStatus != 4 || doc.Task == nil || doc.Task.Name != "quick" || doc.Task.State != "exited" {
		t.Fatalf("wait --any: exit %d, %+v (task %+v)\n%s", res.Code, doc, doc.Task, res.Err)
	}
	// Already ended: at once, in text as wait prints it.
	r = e.run("wait", "--any", "slow", "quick")
	if r.Code != 4 || !strings.HasPrefix(r.Out, "quick (") || !strings.Contains(r.Out, "exited 4") {
		t.Fatalf("wait --any on an ended task: %d %q %q", r.Code, r.Out, r.Err)
	}
	// A stopped task ends the wait with its signal's status.
	go func() { done <- e.run("wait", "--any", "slow", "also") }()
	e.must("stop", "also")
	select {
	case res = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("wait --any did not return after also was stopped")
	}
	if res.Code != 143 || !strings.HasPrefix(res.Out, "also (") {
		t.Fatalf("wait --any after stop: %d %q %q", res.Code, res.Out, res.Err)
	}
	for _, args := range [][]string{{"wait", "--any"}, {"wait", "--any", "slow", "--for", "x"}, {"wait", "--any", "slow", "nosuch"}} {
		if r := e.run(args...); r.Code != 2 {
			t.Fatalf("bgmux %q: exit %d, want 2 (%s)", args, r.Code, r.Err)
		}
	}
}

// TestEventsUpReadyOnce: up's ready check logs ready for a dependency,
// once per run however often up checks it again.
func TestEventsUpReadyOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.useConfig("tasks:\n  web:\n    command: \"exec sleep 600\"\n    depends_on: [api]\n  api:\n    command: \"echo api-ready; exec sleep 600\"\n    ready: \"^api-ready$\"\n    ready_timeout: 30s\n")
	e.must("up", "web")
	api := e.status("api")
	count := func() int {
		n := 0
		for _, ev := range evRead(t, e, "--task", "api").Events {
			if ev.Event == "ready" {
				if ev.Line == nil || *ev.Line != "api-ready" || ev.Run != 1 {
					t.Fatalf("ready event: %+v", ev)
				}
				n++
			}
		}
		return n
	}
	if n := count(); n != 1 {
		t.Fatalf("%d ready events of api after up, want 1", n)
	}
	e.must("up", "web")
	e.must("up", "web")
	if n := count(); n != 1 {
		t.Fatalf("%d ready events of api after three ups, want 1", n)
	}
	e.must("restart", "api")
	e.must("up", "web")
	var runs []int
	for _, ev := range evRead(t, e, "--task", api.ID).Events {
		if ev.Event == "ready" {
			runs = append(runs, ev.Run)
		}
	}
	if len(runs) != 2 || runs[1] != 2 {
		t.Fatalf("ready events after a restart and up: runs %v, want [1 2]", runs)
	}
}

// TestEventsExitFromHistory: a supervisor killed between its history and
// its exit record has logged no end; restore, which writes the exit
// record from the history, logs it, once.
func TestEventsExitFromHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tk := e.start("--name", "cut", "--", "exit 3")
	evWaitFor(t, e, "the exit", func(d evDoc) bool { return evFind(d, tk.ID, "exited") != nil })
	ftSettled(t, e, tk.ID)
	// What a SIGKILL between the two writes leaves: the history, no exit
	// record, no exited event.
	if err := os.Remove(filepath.Join(scTaskDir(e, tk.ID), "exit")); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(e.State, "events", "events.jsonl")
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if !strings.Contains(l, `"event":"exited"`) {
			kept = append(kept, l)
		}
	}
	if err := os.WriteFile(log, []byte(strings.Join(kept, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	rsRestore(t, e)
	rsRestore(t, e)
	doc := evRead(t, e, "--task", "cut")
	if got := strings.Join(evOf(doc, tk.ID), ","); got != "started,exited" {
		t.Fatalf("events after restore: %s", got)
	}
	if ex := evFind(doc, tk.ID, "exited"); ex.ExitCode == nil || *ex.ExitCode != 3 || ex.Run != 1 {
		t.Fatalf("exited event: %+v", ex)
	}
}

// TestEventsAppendFailureHarmless: an event log that cannot be written
// (here its file is a directory) never breaks a task: it starts, its end
// is recorded and waited for, stop and restore work, and the failure is
// told on the supervisor's stderr (the pane).
func TestEventsAppendFailureHarmless(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := os.MkdirAll(filepath.Join(e.State, "events", "events.jsonl"), 0o700); err != nil {
		t.Fatal(err)
	}
	tk := e.start("--name", "a", "--", "echo hi; exit 3")
	if r := e.run("wait", "a", "--timeout", "20s"); r.Code != 3 {
		t.Fatalf("wait: %d %s", r.Code, r.Err)
	}
	if st := e.status("a"); st.State != "exited" || st.ExitCode == nil || *st.ExitCode != 3 {
		t.Fatalf("status: %+v", st)
	}
	// The supervisor says so on its pane after the exit record, when its
	// copy of the pane's output into the log may already have ended: read
	// the pane itself.
	var screen string
	if !poll(20*time.Second, func() bool {
		screen = e.run("screen", tk.ID).Out
		return strings.Contains(screen, "cannot log the exited event")
	}) {
		t.Fatalf("the pane of %s never said it could not log the exited event; it shows:\n%s", tk.ID, screen)
	}
	b := e.start("--name", "b", "--", "exec sleep 1000")
	e.must("stop", "b")
	if st := e.status(b.ID); st.State != "killed" {
		t.Fatalf("b after stop: %+v", st)
	}
	rsRestore(t, e)
	if r := e.run("events"); r.Code != 1 {
		t.Fatalf("events on an unreadable log: exit %d, want 1 (%s)", r.Code, r.Err)
	}
}
