package tests

// Concurrency under load (issue 6): many bgmux processes at once against
// one state dir and one tmux server. Helpers here start with "load" to
// stay clear of helpers in other test files of this package.

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// loadRunAll runs bgmux with args(i) for i in 0..n-1 from n goroutines
// released at once by a gate, and returns each invocation's result.
func loadRunAll(e *env, n int, args func(i int) []string) []result {
	results := make([]result, n)
	var ready, done sync.WaitGroup
	gate := make(chan struct{})
	for i := 0; i < n; i++ {
		ready.Add(1)
		done.Add(1)
		go func(i int) {
			defer done.Done()
			ready.Done()
			<-gate
			results[i] = edgeRunBin(e, e.Dir, args(i)...)
		}(i)
	}
	ready.Wait()
	close(gate)
	done.Wait()
	return results
}

// loadSidecars checks that every JSON sidecar in the task's directory
// parses (spec, window and run must exist; exit and history are checked
// when present) and that no temporary file of an atomic write is left
// behind. It returns the run record.
func loadSidecars(t *testing.T, e *env, id string) (run struct {
	Run           int `json:"run"`
	PID           int `json:"pid"`
	PGID          int `json:"pgid"`
	SupervisorPID int `json:"supervisor_pid"`
}) {
	t.Helper()
	dir := filepath.Join(e.State, "tasks", id)
	read := func(name string, required bool, v any) bool {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) && !required {
			return false
		}
		if err != nil {
			t.Fatalf("task %s: %s sidecar: %v", id, name, err)
		}
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatalf("task %s: %s sidecar is not valid JSON (%v): %q", id, name, err, data)
		}
		return true
	}
	var spec struct {
		ID string `json:"id"`
	}
	read("spec", true, &spec)
	if spec.ID != id {
		t.Fatalf("task dir %s holds the spec of %q", id, spec.ID)
	}
	var win map[string]any
	read("window", true, &win)
	read("run", true, &run)
	var ex map[string]any
	read("exit", false, &ex)
	var hist []map[string]any
	read("history", false, &hist)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range ents {
		if strings.Contains(de.Name(), ".tmp-") {
			t.Fatalf("task %s: temporary file %s left behind by a sidecar write", id, de.Name())
		}
	}
	return run
}

// Fifty `bgmux start` processes released at once into a server that does
// not exist yet, mixing explicit distinct names, derived names of one
// command (sleep, sleep-2 ... sleep-20) and ten processes racing for the
// same explicit name. Exactly one of the ten wins; the others fail with a
// conflict (exit 1, a JSON error of kind conflict, a message naming the
// task) and leave nothing behind. Afterwards list --json shows exactly the
// winners, each once; every task directory belongs to a winner and holds
// parseable sidecars; ids and tmux windows are distinct and each window's
// @bgmux_id names its task.
func TestConcurrentLoadStartFifty(t *testing.T) {
	e := newEnv(t)
	if _, ok := edgePanes(e); ok {
		t.Fatal("a tmux server already runs on the test socket")
	}
	const n = 50
	// kind: 0 contested "web", 1 and 3 derived, 2 and 4 explicit job<i>.
	kind := func(i int) int { return i % 5 }
	args := func(i int) []string {
		switch kind(i) {
		case 0:
			return []string{"start", "--json", "--name", "web", "--", "sleep", "1000"}
		case 1, 3:
			return []string{"start", "--json", "--", "sleep", "1000"}
		default:
			return []string{"start", "--json", "--name", fmt.Sprintf("job%d", i), "--", "sleep", "1000"}
		}
	}
	results := loadRunAll(e, n, args)

	var winners []task
	webWins, webLosses, derived := 0, 0, 0
	derivedNames := map[string]bool{}
	for i, r := range results {
		if kind(i) == 0 && r.Code == 1 {
			webLosses++
			var doc struct {
				Error struct{ Kind, Message string } `json:"error"`
			}
			edgeOneJSON(t, "start --json (conflict)", r.Out, &doc)
			if doc.Error.Kind != "conflict" || !strings.HasPrefix(r.Err, "bgmux: ") ||
				!strings.Contains(r.Err, "web") || !strings.Contains(doc.Error.Message, "already running") {
				t.Fatalf("losing start %d: stdout %s stderr %s; want a conflict naming web", i, r.Out, r.Err)
			}
			continue
		}
		if r.Code != 0 {
			t.Fatalf("start %d (%q): exit %d\nstdout: %s\nstderr: %s", i, args(i), r.Code, r.Out, r.Err)
		}
		var tk task
		edgeOneJSON(t, "start --json", r.Out, &tk)
		if tk.State != "running" && tk.State != "starting" {
			t.Fatalf("start %d: state %q, want running", i, tk.State)
		}
		if tk.Group != e.Group {
			t.Fatalf("start %d: group %q, want %q", i, tk.Group, e.Group)
		}
		switch kind(i) {
		case 0:
			webWins++
			if tk.Name != "web" {
				t.Fatalf("start %d: name %q, want web", i, tk.Name)
			}
		case 1, 3:
			derived++
			if derivedNames[tk.Name] {
				t.Fatalf("derived name %q given twice", tk.Name)
			}
			derivedNames[tk.Name] = true
		default:
			if want := fmt.Sprintf("job%d", i); tk.Name != want {
				t.Fatalf("start %d: name %q, want %q", i, tk.Name, want)
			}
		}
		winners = append(winners, tk)
	}
	if webWins != 1 || webLosses != n/5-1 {
		t.Fatalf("starts named web: %d won, %d refused; want exactly 1 and %d", webWins, webLosses, n/5-1)
	}
	for k := 1; k <= derived; k++ {
		want := "sleep"
		if k > 1 {
			want += "-" + strconv.Itoa(k)
		}
		if !derivedNames[want] {
			t.Fatalf("derived names %v lack %q", derivedNames, want)
		}
	}
	if want := n - (n/5 - 1); len(winners) != want {
		t.Fatalf("%d tasks started, want %d", len(winners), want)
	}

	// Distinct ids and windows; tmux shows exactly those windows, each
	// with its task's @bgmux_id; spec and run sidecars are JSON.
	edgeCheckDistinct(t, e, winners)

	byID := map[string]task{}
	for _, tk := range winners {
		byID[tk.ID] = tk
	}
	// No task directory but the winners' (no orphan of a losing start).
	dirs := edgeTaskDirs(t, e)
	if len(dirs) != len(winners) {
		t.Fatalf("%d entries in the tasks dir, want %d: %q", len(dirs), len(winners), dirs)
	}
	for _, d := range dirs {
		tk, ok := byID[d]
		if !ok {
			t.Fatalf("tasks dir holds %s, which no start returned", d)
		}
		run := loadSidecars(t, e, d)
		if run.Run != 1 || run.PID <= 0 || !pidAlive(run.PID) {
			t.Fatalf("task %s (%s): run record %+v, want run 1 with a live pid", d, tk.Name, run)
		}
		var win struct{ Window, Pane string }
		b, _ := os.ReadFile(filepath.Join(e.State, "tasks", d, "window"))
		json.Unmarshal(b, &win)
		if win.Window != tk.Tmux.Window || win.Pane != tk.Tmux.Pane {
			t.Fatalf("task %s: window sidecar %+v, start said %+v", d, win, tk.Tmux)
		}
	}

	// list --json: exactly the winners, each once, as start reported them.
	for _, args := range [][]string{{"list", "--json"}, {"list", "--all", "--json"}} {
		var listed []task
		edgeOneJSON(t, strings.Join(args, " "), e.must(args...), &listed)
		seen := map[string]bool{}
		for _, l := range listed {
			if seen[l.ID] {
				t.Fatalf("%q lists task %s twice", args, l.ID)
			}
			seen[l.ID] = true
			w, ok := byID[l.ID]
			if !ok {
				t.Fatalf("%q lists task %s (%s), which no start returned", args, l.ID, l.Name)
			}
			if l.Name != w.Name || l.State != "running" || l.Tmux.Window != w.Tmux.Window {
				t.Fatalf("%q: task %s is %+v; start returned %+v", args, l.ID, l, w)
			}
		}
		if len(listed) != len(winners) {
			t.Fatalf("%q: %d tasks, want %d", args, len(listed), len(winners))
		}
	}
	// Names resolve to the right task, including the contested one.
	var web task
	for _, tk := range winners {
		if tk.Name == "web" {
			web = tk
		}
	}
	if st := e.status("web"); st.ID != web.ID {
		t.Fatalf("status web: task %s, want %s", st.ID, web.ID)
	}
}

// loadLogRead is the --json document of bgmux logs --new.
type loadLogRead struct {
	ID          string   `json:"id"`
	Reader      string   `json:"reader"`
	Size        int64    `json:"size"`
	StartOffset int64    `json:"start_offset"`
	EndOffset   int64    `json:"end_offset"`
	Skipped     int64    `json:"skipped"`
	Dropped     int64    `json:"dropped"`
	Partial     bool     `json:"partial"`
	More        bool     `json:"more"`
	Lines       []string `json:"lines"`
}

// Twenty readers run `bgmux logs --new --reader rN --json` in loops, all
// at once, while a task writes 400 numbered lines over time. Each reader
// receives every line exactly once and in order, with no gap, duplicate
// or torn line; each read starts where the reader's previous one ended;
// after the task ends one more read brings only the exit trailer, and
// every reader's lines equal the whole log. Each reader's cursor file is
// valid JSON at the log's end, and nothing but the cursors and their lock
// is left in the cursors directory.
func TestConcurrentLoadLogReaders(t *testing.T) {
	e := newEnv(t)
	const (
		readers = 20
		lines   = 400
		pad     = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ"
	)
	// The task waits for the file "go", then prints its lines, pacing
	// itself a little so that the readers catch it mid-stream.
	script := `until [ -e go ]; do sleep 0.01; done; i=1; while [ $i -le ` + strconv.Itoa(lines) + ` ]; do ` +
		`printf 'line-%04d %s\n' $i "$PAD"; if [ $((i % 4)) -eq 0 ]; then sleep 0.03; fi; i=$((i+1)); done`
	tk := e.start("--name", "writer", "--env", "PAD="+pad, "--", script)
	want := make([]string, lines)
	for i := range want {
		want[i] = fmt.Sprintf("line-%04d %s", i+1, pad)
	}
	final := want[lines-1]

	type readerLog struct {
		lines []string
		reads int
		err   string
	}
	logs := make([]readerLog, readers)
	read := func(r int, prevEnd *int64) (loadLogRead, string) {
		name := "r" + strconv.Itoa(r)
		res := edgeRunBin(e, e.Dir, "logs", "--new", "--reader", name, "--json", tk.ID)
		var doc loadLogRead
		if res.Code != 0 {
			return doc, fmt.Sprintf("logs --new --reader %s: exit %d: %s", name, res.Code, res.Err)
		}
		if err := json.Unmarshal([]byte(res.Out), &doc); err != nil || !json.Valid([]byte(res.Out)) {
			return doc, fmt.Sprintf("logs --new --reader %s: not one JSON document (%v): %q", name, err, edgeShort(res.Out))
		}
		switch {
		case doc.Reader != name || doc.ID != tk.ID:
			return doc, fmt.Sprintf("reader %s: document names reader %q task %q", name, doc.Reader, doc.ID)
		case doc.StartOffset != *prevEnd:
			return doc, fmt.Sprintf("reader %s: read %d starts at %d, the previous one ended at %d", name, logs[r].reads, doc.StartOffset, *prevEnd)
		case doc.EndOffset < doc.StartOffset || doc.EndOffset > doc.Size:
			return doc, fmt.Sprintf("reader %s: offsets %d..%d with log size %d", name, doc.StartOffset, doc.EndOffset, doc.Size)
		case doc.Skipped != 0 || doc.Dropped != 0 || doc.More:
			return doc, fmt.Sprintf("reader %s: skipped %d dropped %d more %v, want none", name, doc.Skipped, doc.Dropped, doc.More)
		case doc.Lines == nil:
			return doc, fmt.Sprintf("reader %s: lines is null", name)
		}
		*prevEnd = doc.EndOffset
		logs[r].reads++
		logs[r].lines = append(logs[r].lines, doc.Lines...)
		return doc, ""
	}

	// Every reader makes its first read (nothing yet) before the task is
	// let go, then reads until it has the final line.
	var ready, done sync.WaitGroup
	ends := make([]int64, readers)
	for r := 0; r < readers; r++ {
		ready.Add(1)
		done.Add(1)
		go func(r int) {
			defer done.Done()
			_, msg := read(r, &ends[r])
			ready.Done()
			if msg != "" {
				logs[r].err = msg
				return
			}
			ok := poll(120*time.Second, func() bool {
				if _, msg := read(r, &ends[r]); msg != "" {
					logs[r].err = msg
					return true
				}
				n := len(logs[r].lines)
				for i := n - 1; i >= 0 && i >= n-3; i-- {
					if logs[r].lines[i] == final {
						return true
					}
				}
				return false
			})
			if !ok && logs[r].err == "" {
				logs[r].err = fmt.Sprintf("reader r%d never saw the final line; it has %d lines", r, len(logs[r].lines))
			}
		}(r)
	}
	ready.Wait()
	if err := os.WriteFile(filepath.Join(e.Dir, "go"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	done.Wait()

	ended := e.waitFinished(tk.ID)
	if ended.State != "exited" || ended.ExitCode == nil || *ended.ExitCode != 0 {
		t.Fatalf("writer task ended as %+v, want exited 0", ended)
	}
	whole := edgeLogLines(t, e, tk.ID)
	// The supervisor's trailer is not the task's output: it is not logged.
	if n := len(whole.Lines); n != lines || strings.Contains(whole.Lines[max(0, n-1)], "[bgmux]") {
		t.Fatalf("the whole log has %d lines, ending %q; want %d numbered lines only", n, whole.Lines[max(0, n-3):], lines)
	}
	for r := range logs {
		if logs[r].err != "" {
			t.Fatal(logs[r].err)
		}
		before := len(logs[r].lines)
		// After the end, one more read brings the rest: the trailer only.
		doc, msg := read(r, &ends[r])
		if msg != "" {
			t.Fatal(msg)
		}
		for _, l := range doc.Lines {
			if strings.HasPrefix(l, "line-") {
				t.Fatalf("reader r%d: read after the end brought numbered line %q again", r, l)
			}
		}
		if doc.EndOffset != whole.Size || doc.Partial {
			t.Fatalf("reader r%d: last read ends at %d (partial %v), the log at %d", r, doc.EndOffset, doc.Partial, whole.Size)
		}
		got := logs[r].lines
		for i, l := range got {
			if i < lines && l != want[i] {
				t.Fatalf("reader r%d: line %d is %q, want %q (a gap, a duplicate, a torn line or out of order); %d reads, %d lines before the last read",
					r, i+1, l, want[i], logs[r].reads, before)
			}
		}
		if len(got) != len(whole.Lines) || strings.Join(got, "\n") != strings.Join(whole.Lines, "\n") {
			t.Fatalf("reader r%d: %d lines in %d reads; the log has %d: got tail %q", r, len(got), logs[r].reads, len(whole.Lines), got[max(0, len(got)-3):])
		}
		// A reader that has everything reads nothing more.
		if doc, msg := read(r, &ends[r]); msg != "" || len(doc.Lines) != 0 {
			t.Fatalf("reader r%d: read past the end gave %q (%s)", r, doc.Lines, msg)
		}
	}
	minReads, maxReads := logs[0].reads, logs[0].reads
	for _, l := range logs {
		minReads, maxReads = min(minReads, l.reads), max(maxReads, l.reads)
	}
	t.Logf("%d readers, %d to %d reads each", readers, minReads, maxReads)

	// The cursor files: one per reader, valid JSON at the log's end, and
	// nothing else but the lock.
	cdir := filepath.Join(e.State, "tasks", tk.ID, "cursors")
	ents, err := os.ReadDir(cdir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range ents {
		names = append(names, de.Name())
	}
	wantNames := []string{".lock"}
	for r := 0; r < readers; r++ {
		wantNames = append(wantNames, "r"+strconv.Itoa(r))
	}
	sort.Strings(names)
	sort.Strings(wantNames)
	if strings.Join(names, " ") != strings.Join(wantNames, " ") {
		t.Fatalf("cursors dir holds %q, want %q", names, wantNames)
	}
	for r := 0; r < readers; r++ {
		b, err := os.ReadFile(filepath.Join(cdir, "r"+strconv.Itoa(r)))
		if err != nil {
			t.Fatal(err)
		}
		var cur struct {
			Offset    *int64     `json:"offset"`
			UpdatedAt *time.Time `json:"updated_at"`
		}
		if err := json.Unmarshal(b, &cur); err != nil || cur.Offset == nil || cur.UpdatedAt == nil {
			t.Fatalf("cursor r%d is not a valid cursor record (%v): %q", r, err, b)
		}
		if *cur.Offset != whole.Size {
			t.Fatalf("cursor r%d at %d, want the log's end %d", r, *cur.Offset, whole.Size)
		}
	}
	loadSidecars(t, e, tk.ID)
}

// loadRace is one iteration of TestConcurrentLoadStopRacesExit.
type loadRace struct {
	name, fifo string
	task       task
	stop       result
	asJSON     bool
	err        string
}

// `bgmux stop` racing a task's own exit, twenty times in parallel: each
// task blocks reading a FIFO and, once it reads a line, pauses (from not
// at all to 2.2 s, by task) and exits 7; the test writes the line and
// calls stop at about the same moment (stop just after the write for half
// of them, stop launched just before it for the other half). Whatever
// wins, the outcome is consistent: the task ends either exited 7 or
// killed by SIGTERM, never lost or running, and stop's own
// output (JSON or text, "was already" only for a task that had exited by
// itself), status, list --json, the exit and history sidecars and wait's
// exit status all agree; no sidecar is torn and no process of the task
// (child, group or supervisor) is left.
func TestConcurrentLoadStopRacesExit(t *testing.T) {
	e := newEnv(t)
	const n = 20
	races := make([]*loadRace, n)
	for i := range races {
		rc := &loadRace{name: fmt.Sprintf("race%d", i), fifo: filepath.Join(e.Dir, fmt.Sprintf("fifo%d", i)), asJSON: i%4 < 2}
		if err := syscall.Mkfifo(rc.fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		races[i] = rc
	}
	starts := loadRunAll(e, n, func(i int) []string {
		// After the line the task pauses (not at all, then 10 ms growing
		// by 35% a task to 2.2 s), so that its own exit falls before,
		// around or after the moment stop's signal lands, however slow
		// the loaded machine makes stop. A sleep rather than a busy loop:
		// spinning shells would starve the stops of CPU.
		pause := "0"
		if i > 0 {
			pause = strconv.FormatFloat(0.01*math.Pow(1.35, float64(i-1)), 'f', 3, 64)
		}
		return []string{"start", "--json", "--name", races[i].name, "--env", "PAUSE=" + pause, "--",
			"read line < " + filepath.Base(races[i].fifo) + `; [ "$PAUSE" = 0 ] || sleep "$PAUSE"; exit 7`}
	})
	for i, r := range starts {
		if r.Code != 0 {
			t.Fatalf("start %s: exit %d: %s", races[i].name, r.Code, r.Err)
		}
		edgeOneJSON(t, "start --json", r.Out, &races[i].task)
	}

	// Each goroutine waits until its task has the FIFO open for reading
	// (opening the write end without blocking fails until then); all
	// then fire together.
	var ready, done sync.WaitGroup
	gate := make(chan struct{})
	for i, rc := range races {
		ready.Add(1)
		done.Add(1)
		go func(i int, rc *loadRace) {
			defer done.Done()
			var f *os.File
			opened := poll(30*time.Second, func() bool {
				var err error
				f, err = os.OpenFile(rc.fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
				return err == nil
			})
			ready.Done()
			if !opened {
				rc.err = "the task never opened its FIFO"
				return
			}
			defer f.Close()
			stopArgs := []string{"stop", rc.task.ID}
			if rc.asJSON {
				stopArgs = append(stopArgs, "--json")
			}
			<-gate
			if i%2 == 0 {
				// The line first, stop right after.
				if _, err := f.Write([]byte("go\n")); err != nil {
					rc.err = "write the FIFO: " + err.Error()
					return
				}
				f.Close()
				rc.stop = edgeRunBin(e, e.Dir, stopArgs...)
				return
			}
			// stop launched first, the line right after.
			cmd := exec.Command(bgmuxBin, stopArgs...)
			cmd.Dir, cmd.Env = e.Dir, e.Environ()
			var out, errb strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Start(); err != nil {
				rc.err = "start stop: " + err.Error()
				return
			}
			_, werr := f.Write([]byte("go\n"))
			f.Close()
			err := cmd.Wait()
			rc.stop = result{Out: out.String(), Err: errb.String()}
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				rc.stop.Code = ee.ExitCode()
			} else if err != nil {
				rc.stop.Code = -1
			}
			if werr != nil && !errors.Is(werr, syscall.EPIPE) {
				// EPIPE: stop killed the reader first.
				rc.err = "write the FIFO: " + werr.Error()
			}
		}(i, rc)
	}
	ready.Wait()
	close(gate)
	done.Wait()

	listByID := loadListByID(t, e)
	exited, killed, already, racedExit := 0, 0, 0, 0
	for _, rc := range races {
		if rc.err != "" {
			t.Fatalf("%s: %s", rc.name, rc.err)
		}
		o := loadCheckStop(t, e, rc, listByID[rc.task.ID])
		switch {
		case o.state == "killed":
			killed++
		case o.marker:
			exited++
			racedExit++
		default:
			exited++
		}
		if o.already {
			already++
		}
	}
	t.Logf("outcomes: %d exited 7 (%d of them while stop was at work), %d killed by SIGTERM; %d text stops found the task already exited",
		exited, racedExit, killed, already)
}

// loadStopOutcome is how one stop race ended.
type loadStopOutcome struct {
	state   string // exited or killed
	already bool   // stop's text said the task was already finished
	marker  bool   // stop left its stopped marker (it found the task live)
}

// loadCheckStop checks that a task of TestConcurrentLoadStopRacesExit
// (its command exits 7) ended exited 7 or killed by SIGTERM after rc.stop,
// and that stop's output, status, listed (its list --json entry), the exit
// and history sidecars and wait's exit status all say the same; that its
// sidecars parse; and that none of its processes is left.
func loadCheckStop(t *testing.T, e *env, rc *loadRace, listed task) loadStopOutcome {
	t.Helper()
	id := rc.task.ID
	var o loadStopOutcome
	if rc.stop.Code != 0 {
		t.Fatalf("stop %s: exit %d\nstdout: %s\nstderr: %s", rc.name, rc.stop.Code, rc.stop.Out, rc.stop.Err)
	}
	// How it ended, as stop reported it.
	var got task
	if rc.asJSON {
		edgeOneJSON(t, "stop --json", rc.stop.Out, &got)
		if got.ID != id {
			t.Fatalf("stop %s --json returned task %s", id, got.ID)
		}
	} else {
		got = e.status(id)
		re := regexp.MustCompile(`^` + rc.name + ` \(` + id + `\) (was already )?(exited 7|killed SIGTERM)\n$`)
		m := re.FindStringSubmatch(rc.stop.Out)
		if m == nil {
			t.Fatalf("stop %s said %q (stderr %q); want \"%s (%s) [was already ]exited 7|killed SIGTERM\"", rc.name, rc.stop.Out, rc.stop.Err, rc.name, id)
		}
		if o.already = m[1] != ""; o.already && m[2] != "exited 7" {
			t.Fatalf("stop %s said %q: only a task that exited by itself can have been finished already", rc.name, rc.stop.Out)
		}
		if wantText := map[string]string{"exited": "exited 7", "killed": "killed SIGTERM"}[got.State]; m[2] != wantText {
			t.Fatalf("stop %s said %q but status says %+v", rc.name, rc.stop.Out, got)
		}
	}
	o.state = got.State
	var wantStatus int
	switch {
	case got.State == "exited" && got.ExitCode != nil && *got.ExitCode == 7 && got.Signal == nil:
		wantStatus = 7
	case got.State == "killed" && got.Signal != nil && *got.Signal == "SIGTERM" && got.ExitCode == nil:
		wantStatus = 128 + int(syscall.SIGTERM)
	default:
		t.Fatalf("%s after stop: state %q exit_code %v signal %v; want exited 7 or killed SIGTERM",
			rc.name, got.State, loadIntp(got.ExitCode), loadStrp(got.Signal))
	}
	same := func(what string, o task) {
		t.Helper()
		if o.ID != id || o.State != got.State || loadIntp(o.ExitCode) != loadIntp(got.ExitCode) || loadStrp(o.Signal) != loadStrp(got.Signal) {
			t.Fatalf("%s: %s says %q %s/%s; stop said %s %s/%s", rc.name, what, o.State, loadIntp(o.ExitCode), loadStrp(o.Signal),
				got.State, loadIntp(got.ExitCode), loadStrp(got.Signal))
		}
	}
	same("status", e.status(id))
	same("list --json", listed)

	run := loadSidecars(t, e, id)
	var ex struct {
		Run      int     `json:"run"`
		ExitCode *int    `json:"exit_code"`
		Signal   *string `json:"signal"`
		Lost     bool    `json:"lost"`
	}
	b, err := os.ReadFile(filepath.Join(e.State, "tasks", id, "exit"))
	if err != nil || json.Unmarshal(b, &ex) != nil {
		t.Fatalf("%s: exit sidecar missing or unreadable (%v): %q", rc.name, err, b)
	}
	if ex.Run != 1 || ex.Lost || loadIntp(ex.ExitCode) != loadIntp(got.ExitCode) || loadStrp(ex.Signal) != loadStrp(got.Signal) {
		t.Fatalf("%s: exit sidecar %s disagrees with %s %s/%s", rc.name, b, got.State, loadIntp(got.ExitCode), loadStrp(got.Signal))
	}
	var hist []struct {
		ExitCode *int    `json:"exit_code"`
		Signal   *string `json:"signal"`
	}
	b, _ = os.ReadFile(filepath.Join(e.State, "tasks", id, "history"))
	if json.Unmarshal(b, &hist) != nil || len(hist) != 1 || loadIntp(hist[0].ExitCode) != loadIntp(got.ExitCode) || loadStrp(hist[0].Signal) != loadStrp(got.Signal) {
		t.Fatalf("%s: history sidecar %s disagrees with %s", rc.name, b, got.State)
	}
	// stop leaves its marker before it signals a live task, and only
	// then: a killed task has it, one stop found finished has not.
	_, serr := os.Stat(filepath.Join(e.State, "tasks", id, "stopped"))
	o.marker = serr == nil
	switch {
	case got.State == "killed" && !o.marker:
		t.Fatalf("%s: killed by SIGTERM, but stop left no stopped marker: %v", rc.name, serr)
	case o.already && o.marker:
		t.Fatalf("%s: stop said %q, yet left its stopped marker", rc.name, rc.stop.Out)
	case !rc.asJSON && !o.already && !o.marker:
		t.Fatalf("%s: stop said %q as for a live task, yet left no stopped marker", rc.name, rc.stop.Out)
	}
	w := e.run("wait", id)
	if w.Code != wantStatus {
		t.Fatalf("%s: wait exits %d (%s%s), want %d for %s", rc.name, w.Code, w.Out, w.Err, wantStatus, got.State)
	}
	if run.PID <= 0 || run.PGID != run.PID {
		t.Fatalf("%s: run record pid %d pgid %d", rc.name, run.PID, run.PGID)
	}
	if pidAlive(run.PID) || loadGroupAlive(run.PGID) {
		t.Fatalf("%s: the task's process %d (or its group) is still alive after stop returned", rc.name, run.PID)
	}
	if !poll(10*time.Second, func() bool { return !pidAlive(run.SupervisorPID) }) {
		t.Fatalf("%s: supervisor %d still alive after the task ended", rc.name, run.SupervisorPID)
	}
	// Nothing changes once the supervisor is gone.
	same("status after the supervisor ended", e.status(id))
	return o
}

// `bgmux stop` in the narrowest window of its race with a task's own
// exit, held open on purpose: the child has exited but its supervisor has
// not reaped it nor written the exit record. The test freezes the tmux
// server and each supervisor (SIGSTOP; tmux would otherwise resume a
// stopped pane process), lets the child exit, starts stop, and resumes the
// supervisor once stop has left its marker (so stop has surely found the
// task running). Four tasks at once: every stop returns the task's own
// exit (exited 7, never lost or running, not "was already"), and stop's
// output, status, list --json, the sidecars and wait agree; no process is
// left.
func TestConcurrentLoadStopBetweenExitAndRecord(t *testing.T) {
	e := newEnv(t)
	const n = 4
	races := make([]*loadRace, n)
	for i := range races {
		rc := &loadRace{name: fmt.Sprintf("gap%d", i), fifo: filepath.Join(e.Dir, fmt.Sprintf("fifo%d", i)), asJSON: i%2 == 0}
		if err := syscall.Mkfifo(rc.fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		races[i] = rc
	}
	starts := loadRunAll(e, n, func(i int) []string {
		return []string{"start", "--json", "--name", races[i].name, "--", "read line < " + filepath.Base(races[i].fifo) + "; exit 7"}
	})
	type proc struct{ pid, supervisor int }
	procs := make([]proc, n)
	fifos := make([]*os.File, n)
	for i, r := range starts {
		rc := races[i]
		if r.Code != 0 {
			t.Fatalf("start %s: exit %d: %s", rc.name, r.Code, r.Err)
		}
		edgeOneJSON(t, "start --json", r.Out, &rc.task)
		e.waitState(rc.task.ID, 30*time.Second, func(t task) bool { return t.State == "running" })
		run := loadSidecars(t, e, rc.task.ID)
		procs[i] = proc{run.PID, run.SupervisorPID}
		if !poll(30*time.Second, func() bool {
			f, err := os.OpenFile(rc.fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
			fifos[i] = f
			return err == nil
		}) {
			t.Fatalf("%s never opened its FIFO", rc.name)
		}
		defer fifos[i].Close()
	}

	out, err := e.tmux("display-message", "-p", "#{pid}")
	server, perr := strconv.Atoi(strings.TrimSpace(out))
	if err != nil || perr != nil {
		t.Fatalf("tmux server pid: %v %v %q", err, perr, out)
	}
	frozen := []int{server}
	for _, p := range procs {
		frozen = append(frozen, p.supervisor)
	}
	thaw := func() {
		for _, pid := range frozen {
			syscall.Kill(pid, syscall.SIGCONT)
		}
	}
	t.Cleanup(thaw) // runs before newEnv's cleanup, which needs tmux
	for _, pid := range frozen {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatalf("SIGSTOP %d: %v", pid, err)
		}
	}
	for _, pid := range frozen {
		if !poll(10*time.Second, func() bool { return loadProcState(pid) == "T" }) {
			t.Fatalf("process %d not stopped: state %q", pid, loadProcState(pid))
		}
	}
	// The children exit (7); their frozen supervisors cannot reap them.
	for i, f := range fifos {
		if _, err := f.Write([]byte("go\n")); err != nil {
			t.Fatalf("%s: write the FIFO: %v", races[i].name, err)
		}
		f.Close()
	}
	for i, p := range procs {
		if !poll(20*time.Second, func() bool { return !pidAlive(p.pid) }) {
			t.Fatalf("%s: child %d did not exit", races[i].name, p.pid)
		}
		id := races[i].task.ID
		if st := e.status(id); st.State != "running" {
			t.Fatalf("%s: state %q while its supervisor is frozen, want running", races[i].name, st.State)
		}
		if _, err := os.Stat(filepath.Join(e.State, "tasks", id, "exit")); err == nil {
			t.Fatalf("%s: exit record written by a frozen supervisor", races[i].name)
		}
	}

	// Stops, all at once; each finds its task running with no live child.
	type running struct {
		cmd       *exec.Cmd
		out, errb *strings.Builder
	}
	stops := make([]running, n)
	for i, rc := range races {
		args := []string{"stop", rc.task.ID}
		if rc.asJSON {
			args = append(args, "--json")
		}
		cmd := exec.Command(bgmuxBin, args...)
		cmd.Dir, cmd.Env = e.Dir, e.Environ()
		stops[i] = running{cmd, &strings.Builder{}, &strings.Builder{}}
		cmd.Stdout, cmd.Stderr = stops[i].out, stops[i].errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for _, rc := range races {
		marker := filepath.Join(e.State, "tasks", rc.task.ID, "stopped")
		if !poll(30*time.Second, func() bool { _, err := os.Stat(marker); return err == nil }) {
			t.Fatalf("%s: stop never left its marker", rc.name)
		}
	}
	thaw()
	for i, rc := range races {
		err := stops[i].cmd.Wait()
		rc.stop = result{Out: stops[i].out.String(), Err: stops[i].errb.String()}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			rc.stop.Code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
	}
	listByID := loadListByID(t, e)
	for _, rc := range races {
		o := loadCheckStop(t, e, rc, listByID[rc.task.ID])
		if o.state != "exited" || o.already || !o.marker {
			t.Fatalf("%s: stop said %q; want the task's own exit 7, found live by stop", rc.name, rc.stop.Out)
		}
	}
}

// loadProcState is the state letter of pid in /proc ("" if gone).
func loadProcState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || len(s) < i+3 {
		return ""
	}
	return s[i+2 : i+3]
}

// loadListByID runs list --json and returns its tasks by id.
func loadListByID(t *testing.T, e *env) map[string]task {
	t.Helper()
	var listed []task
	edgeOneJSON(t, "list --json", e.must("list", "--json"), &listed)
	byID := map[string]task{}
	for _, l := range listed {
		if _, dup := byID[l.ID]; dup {
			t.Fatalf("list --json lists task %s twice", l.ID)
		}
		byID[l.ID] = l
	}
	return byID
}

// loadGroupAlive reports whether any non-zombie process is in group pgid.
func loadGroupAlive(pgid int) bool {
	ents, _ := os.ReadDir("/proc")
	for _, d := range ents {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		f := strings.Fields(s[i+1:])
		if len(f) >= 3 && f[0] != "Z" && f[0] != "X" && f[2] == strconv.Itoa(pgid) {
			return true
		}
	}
	return false
}

func loadIntp(p *int) string {
	if p == nil {
		return "null"
	}
	return strconv.Itoa(*p)
}

func loadStrp(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}
