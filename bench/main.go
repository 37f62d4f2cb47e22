// Command bench measures bgmux side by side with raw tmux on one private
// tmux server and writes BENCHMARKS.md in the module root.
//
// Run it from the repository root:
//
//	go run ./bench [-quick] [-only SECTIONS] [-lines N] [-stop-limit D] [-o FILE]
//
// -only runs some sections (comma-separated): status, start, output,
// exact, survival, memory, list, prune, latency. The rows of issue 13
// alone: -only output,exact,survival,start,memory. A run with -only
// writes no file unless -o names one.
//
// It builds bgmux into a temporary directory, points it at a private tmux
// socket (bgmux-bench-<hex>) and a temporary state directory, and removes
// both when it ends, also on SIGINT or SIGTERM.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// config holds the sizes of one run.
type config struct {
	quick     bool
	reps      int // repetitions of the fast commands
	tasks     int // live tasks in the bench's own group
	grpTasks  int // more live tasks, spread over groups
	groups    int
	prune     int // finished tasks removed by one prune
	memTasks  int // live tasks when supervisor memory is sampled
	outLines  int // lines printed by the output benchmark (seq 1 N)
	outReps   int
	waitReps  int
	createPar int
	only      map[string]bool // sections to run; nil runs all
	stopLimit time.Duration   // bound on the output run with tmux stopped
	survTasks int
}

// sections are the parts of a run -only can pick, in the order they run.
var sections = []string{"status", "start", "output", "exact", "survival", "memory", "list", "prune", "latency"}

// want reports whether the run includes section s.
func (c config) want(s string) bool { return c.only == nil || c.only[s] }

// env is the private world one run works in.
type env struct {
	root    string // temporary directory holding everything below
	bin     string // the built bgmux binary
	state   string // BGMUX_STATE_DIR
	work    string // working directory of started tasks; its base name is the group
	socket  string // tmux -L name
	session string // tmux session bgmux uses (the group)
	raw     string // tmux session for the raw tmux baselines
	environ []string
}

// row is one line of the result table.
type row struct {
	name, bgmux, tmux, ratio, target, met string
}

func main() {
	quick := flag.Bool("quick", false, "small sizes (100 tasks, few repetitions); finishes in under a minute")
	only := flag.String("only", "", "run only these sections, comma-separated: "+strings.Join(sections, ","))
	lines := flag.Int("lines", 0, "lines printed by the output runs (seq 1 N); default 13000000, 1000000 with -quick")
	stopLimit := flag.Duration("stop-limit", 0, "bound on the output run with the tmux server stopped; default 90s, 30s with -quick")
	out := flag.String("o", "", "file to write the results to (default: BENCHMARKS.md in the module root; none with -only)")
	flag.Parse()
	cfg := config{quick: *quick, reps: 20, tasks: 1000, grpTasks: 1000, groups: 50, prune: 100, memTasks: 200, outLines: 13000000, outReps: 2, waitReps: 10, createPar: 4,
		stopLimit: 90 * time.Second, survTasks: 20}
	if cfg.quick {
		cfg = config{quick: true, reps: 10, tasks: 100, grpTasks: 100, groups: 10, prune: 20, memTasks: 100, outLines: 1000000, outReps: 1, waitReps: 5, createPar: 4,
			stopLimit: 30 * time.Second, survTasks: 20}
	}
	if *lines > 0 {
		cfg.outLines = *lines
	}
	if *stopLimit > 0 {
		cfg.stopLimit = *stopLimit
	}
	if *only != "" {
		cfg.only = map[string]bool{}
		for _, s := range strings.Split(*only, ",") {
			s = strings.TrimSpace(s)
			known := false
			for _, k := range sections {
				known = known || k == s
			}
			if !known {
				fmt.Fprintf(os.Stderr, "bench: -only: unknown section %q (known: %s)\n", s, strings.Join(sections, ","))
				os.Exit(2)
			}
			cfg.only[s] = true
		}
	}
	os.Exit(run(cfg, *out))
}

func run(cfg config, outFile string) int {
	began := time.Now()
	modDir, err := moduleDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	e, err := setup(modDir)
	if e != nil {
		defer e.cleanup()
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		go func() {
			s := <-sig
			fmt.Fprintf(os.Stderr, "bench: %v: cleaning up\n", s)
			e.cleanup()
			os.Exit(130)
		}()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	rows, notes, err := measure(cfg, e)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	elapsed := time.Since(began).Round(time.Second)
	notes = append(notes, fmt.Sprintf("Whole run: %v.", elapsed))
	table := renderTable(rows)
	fmt.Println()
	fmt.Print(table)
	for _, n := range notes {
		fmt.Println(n)
	}
	doc := machineHeader(cfg) + "\n" + table + "\n" + notesText(notes)
	out := outFile
	if out == "" {
		if cfg.only != nil {
			fmt.Println("(-only: no file written; -o FILE writes one)")
			return 0
		}
		out = filepath.Join(modDir, "BENCHMARKS.md")
	}
	if err := os.WriteFile(out, []byte(doc), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	fmt.Println("wrote", out)
	return 0
}

// moduleDir is the directory holding the bgmux go.mod.
func moduleDir() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	p := strings.TrimSpace(string(out))
	if p == "" || p == os.DevNull {
		return "", errors.New("run from inside the bgmux module")
	}
	return filepath.Dir(p), nil
}

func setup(modDir string) (*env, error) {
	root, err := os.MkdirTemp("", "bgmux-bench-")
	if err != nil {
		return nil, err
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	e := &env{
		root:    root,
		bin:     filepath.Join(root, "bin", "bgmux"),
		state:   filepath.Join(root, "state"),
		work:    filepath.Join(root, "work"),
		socket:  "bgmux-bench-" + hex.EncodeToString(b),
		session: "work",
		raw:     "raw",
	}
	for _, d := range []string{e.state, e.work, filepath.Join(root, "config")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return e, err
		}
	}
	e.environ = append(os.Environ(),
		"BGMUX_SOCKET="+e.socket,
		"BGMUX_STATE_DIR="+e.state,
		"XDG_CONFIG_HOME="+filepath.Join(root, "config"),
	)
	fmt.Fprintf(os.Stderr, "bench: building bgmux into %s\n", e.bin)
	build := exec.Command("go", "build", "-tags", "urfave_cli_no_docs", "-o", e.bin, ".")
	build.Dir = modDir
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return e, fmt.Errorf("go build: %w", err)
	}
	return e, nil
}

var (
	cleanupOnce sync.Once
	// runCtx ends on SIGINT or SIGTERM; every child process is started with it.
	runCtx, stopRun = context.WithCancel(context.Background())
	// inflight is held for reading while a child process runs, so cleanup
	// can wait until no child is left to restart the tmux server.
	inflight sync.RWMutex
)

// command is exec.Command bound to the run's context, registered as in flight.
func command(name string, args ...string) (*exec.Cmd, func()) {
	inflight.RLock()
	return exec.CommandContext(runCtx, name, args...), inflight.RUnlock
}

// cleanup kills the private tmux server and removes the temporary tree.
func (e *env) cleanup() {
	cleanupOnce.Do(func() {
		stopRun()
		inflight.Lock() // every child has been killed and reaped
		defer inflight.Unlock()
		continueStopped()
		subsMu.Lock()
		all := append([]*env{e}, subs...)
		subsMu.Unlock()
		for _, x := range all {
			kill := func(args ...string) []byte {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				out, _ := exec.CommandContext(ctx, "tmux", append([]string{"-L", x.socket}, args...)...).Output()
				return out
			}
			sock := kill("display-message", "-p", "#{socket_path}")
			kill("kill-server")
			if p := strings.TrimSpace(string(sock)); p != "" {
				_ = os.Remove(p)
			}
		}
		// Tasks may outlive their tmux server (issue 13): end what is
		// left of this run by pid.
		reap(e.root)
		var err error
		for i := 0; i < 20; i++ {
			if err = os.RemoveAll(e.root); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		fmt.Fprintln(os.Stderr, "bench: cleanup:", err)
	})
}

// bgmux runs the binary in the work directory with the private environment.
func (e *env) bgmux(extraEnv []string, args ...string) (stdout, stderr []byte, err error) {
	cmd, done := command(e.bin, args...)
	defer done()
	cmd.Dir = e.work
	cmd.Env = append(e.environ, extraEnv...)
	var o, s bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &s
	err = cmd.Run()
	if err != nil {
		err = fmt.Errorf("bgmux %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(s.String()))
	}
	return o.Bytes(), s.Bytes(), err
}

// tmux runs one tmux command on the private server.
func (e *env) tmux(args ...string) ([]byte, error) {
	cmd, done := command("tmux", append([]string{"-L", e.socket, "-f", os.DevNull}, args...)...)
	defer done()
	var s bytes.Buffer
	cmd.Stderr = &s
	out, err := cmd.Output()
	if err != nil {
		err = fmt.Errorf("tmux %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(s.String()))
	}
	return out, err
}

// start starts a bgmux task and returns its id.
func (e *env) start(args ...string) (string, error) {
	out, _, err := e.bgmux(nil, append([]string{"start"}, args...)...)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// timeN runs f n times and returns the durations.
func timeN(n int, f func(i int) error) ([]time.Duration, error) {
	ds := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		t := time.Now()
		if err := f(i); err != nil {
			return nil, err
		}
		ds = append(ds, time.Since(t))
	}
	return ds, nil
}

// stats is the median and 10th/90th percentiles of a sample.
type stats struct{ p10, med, p90 float64 }

func summarize(xs []float64) stats {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	q := func(p float64) float64 {
		if len(s) == 0 {
			return 0
		}
		i := p * float64(len(s)-1)
		lo := int(i)
		if lo+1 >= len(s) {
			return s[lo]
		}
		return s[lo] + (s[lo+1]-s[lo])*(i-float64(lo))
	}
	return stats{q(0.1), q(0.5), q(0.9)}
}

func ms(ds []time.Duration) stats {
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = float64(d) / float64(time.Millisecond)
	}
	return summarize(xs)
}

func (s stats) fmt(unit string) string {
	return fmt.Sprintf("%.2f %s (%.2f–%.2f)", s.med, unit, s.p10, s.p90)
}

func metStr(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func measure(cfg config, e *env) ([]row, []string, error) {
	var rows []row
	var notes []string
	step := func(s string) { fmt.Fprintf(os.Stderr, "bench: %s %s\n", time.Now().Format("15:04:05"), s) }

	// The first task creates the bgmux session; the raw session holds the
	// bare tmux windows.
	step("setup")
	first, err := e.start("--name", "status-probe", "--", "sleep", "100000")
	if err != nil {
		return nil, nil, err
	}
	if _, err := e.tmux("new-session", "-d", "-s", e.raw, "sleep", "100000"); err != nil {
		return nil, nil, err
	}

	live := 1
	// 1. status by id vs display-message.
	if cfg.want("status") {
		step("status")
		var stB, stT []time.Duration
		for i := 0; i < cfg.reps; i++ { // interleaved, so drift hits both
			d, err := timeN(1, func(int) error { _, _, err := e.bgmux(nil, "status", first); return err })
			if err != nil {
				return nil, nil, err
			}
			stB = append(stB, d...)
			d, err = timeN(1, func(int) error { _, err := e.tmux("display-message", "-p", "#{pid}"); return err })
			if err != nil {
				return nil, nil, err
			}
			stT = append(stT, d...)
		}
		sb, stt := ms(stB), ms(stT)
		rows = append(rows, row{"`status TASK` (by id) vs `display-message -p '#{pid}'`", sb.fmt("ms"), stt.fmt("ms"),
			fmt.Sprintf("%.2f", sb.med/stt.med), "ratio <= 1.0", metStr(sb.med/stt.med <= 1.0)})
		step("start-up profile")
		prof, err := startupProfile(e, first, cfg.reps)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, prof...)
	}

	// 3a. start with ~0 tasks vs new-window.
	var s0B, s0T stats
	if cfg.want("start") {
		step("start at ~0 tasks")
		var s0In stats
		var err error
		s0B, s0T, s0In, err = startPair(cfg.reps, e, "s0")
		if err != nil {
			return nil, nil, err
		}
		live += cfg.reps
		r0 := s0B.med / s0T.med
		rows = append(rows, row{"`start -- sleep 100000`, ~0 tasks, vs `new-window -d`", s0B.fmt("ms"), s0T.fmt("ms"),
			fmt.Sprintf("%.2f", r0), "ratio <= 2.0", metStr(r0 <= 2.0)})
		rows = append(rows, row{"start profile: its one tmux call (new-window with the task's options, as timed inside bgmux)", s0In.fmt("ms"), s0T.fmt("ms"),
			fmt.Sprintf("%.2f", s0In.med/s0T.med), "–", "(explains the start ratio)"})
		rows = append(rows, row{"start profile: the rest of start (Go start-up, checks, spec written with fsync, window record, run record)", fmt.Sprintf("%.2f ms (medians' difference)", s0B.med-s0In.med), "–", "–", "–", "(explains the start ratio)"})
		spid, err := e.serverPID()
		if err != nil {
			return nil, nil, err
		}
		fb, err := forksPerWindow(spid, func() error {
			_, err := e.start("--name", "forks-probe", "--", "sleep", "100000")
			return err
		})
		if err != nil {
			return nil, nil, err
		}
		live++
		ft, err := forksPerWindow(spid, func() error {
			_, err := e.tmux("new-window", "-d", "-t", "="+e.raw+":", "sleep", "100000")
			return err
		})
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, row{"start profile: processes the tmux server forked for one new window (its new children, 0.5 s after)", forkStr(fb), forkStr(ft), "–", "1 (issue 13)", metStr(len(fb) == 1)})
	}

	// 4. Output volume, before the scale phase: tmux's own handling of
	// output slows with the number of windows in the server (106 MB took
	// 5.6 s in a bare server and about 60 s beside 2,000 windows here),
	// for both sides alike, and the harness must finish in 10 minutes.
	if cfg.want("output") {
		step("output")
		outRes, err := outputPair(e, cfg)
		if err != nil {
			return nil, nil, err
		}
		ob, ot, got := outRes.bgmux, outRes.bare, outRes.complete
		ro := ob.med / ot.med
		rows = append(rows, row{fmt.Sprintf("task printing `seq 1 %d` (%.0f MB) vs same in bare window (wall)", cfg.outLines, float64(outRes.size)/1e6),
			ob.fmt("s"), ot.fmt("s"), fmt.Sprintf("%.2f", ro), "ratio <= 1.1", metStr(ro <= 1.1)})
		rows = append(rows, row{"…its log (`logs --raw`) holds every line, in order", fmt.Sprintf("%s of %d runs complete", got, cfg.outReps), "–", "–", "all lines", metStr(got == fmt.Sprintf("%d/%d", cfg.outReps, cfg.outReps))})
		rows = append(rows, row{"output profile, for comparison: the same in a bare window with `pipe-pane -O 'cat > /dev/null'` (the floor of the capture bgmux used before issue 13)", outRes.piped.fmt("s"), ot.fmt("s"),
			fmt.Sprintf("%.2f", outRes.piped.med/ot.med), "–", "(explains the output ratio)"})
		rows = append(rows, row{"output profile: tmux server CPU seconds during the bgmux run / the piped bare run (raw: the bare run)", outRes.cpuBgmux.fmt("s") + " / " + outRes.cpuPiped.fmt("s"), outRes.cpuBare.fmt("s"),
			fmt.Sprintf("%.2f", outRes.cpuBgmux.med/outRes.cpuBare.med), "–", "(explains the output ratio)"})

		step(fmt.Sprintf("output with the tmux server stopped (bounded: %v)", cfg.stopLimit))
		sr, err := stoppedOutput(e, cfg.outLines, cfg.stopLimit)
		if err != nil {
			return nil, nil, err
		}
		label := fmt.Sprintf("the same `seq 1 %d` with its tmux server SIGSTOPped right after `start` returned: start → exit (`bgmux wait`) vs the bare window (wall)", cfg.outLines)
		if sr.blocked != "" {
			rows = append(rows, row{label, "blocked: " + sr.blocked + "; then " + sr.afterCont, ot.fmt("s"), "–", "ratio <= 1.1", metStr(false)})
		} else {
			rs := sr.wall / ot.med
			rows = append(rows, row{label, fmt.Sprintf("%.2f s", sr.wall), ot.fmt("s"), fmt.Sprintf("%.2f", rs), "ratio <= 1.1", metStr(rs <= 1.1)})
		}
		rows = append(rows, row{"…its log (`logs --raw`) holds every line, in order, by the time the task exited with tmux stopped", sr.complete, "–", "–", "all lines", metStr(sr.good)})
		rows = append(rows, row{"…its supervisor's RSS during that run (largest sample, every 100 ms)", fmt.Sprintf("%.2f MB", sr.rssMax), "–", "–", "RSS <= 5 MB", metStr(sr.rssMax > 0 && sr.rssMax <= 5)})
	}

	if cfg.want("exact") {
		step("exact: logs --raw vs a terminal")
		ex, err := exactRows(e)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, ex...)
	}

	if cfg.want("survival") {
		step(fmt.Sprintf("survival: %d tasks, tmux kill-server", cfg.survTasks))
		sv, err := survivalRows(e, cfg.survTasks)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, sv...)
	}

	// Fill up to memTasks, sample supervisor memory, then fill up to tasks.
	scale := cfg.want("start") || cfg.want("list") || cfg.want("prune")
	var creating time.Duration
	createdN := 0
	if scale {
		note, restore := ensurePTYs(2 * (cfg.tasks + cfg.grpTasks + cfg.prune + 64))
		defer restore()
		if note != "" {
			notes = append(notes, note)
		}
	}
	if cfg.want("memory") || scale {
		step(fmt.Sprintf("creating tasks up to %d", cfg.memTasks))
		created := time.Now()
		n, err := createTasks(e, cfg.memTasks-live, cfg.createPar, 0)
		creating = time.Since(created)
		live += n
		createdN += n
		if err != nil {
			return nil, nil, err
		}
	}
	if cfg.want("memory") {
		step("supervisor memory")
		mem, count, err := supervisorMemory(e)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, row{fmt.Sprintf("supervisor memory per live supervisor, %d live tasks", count),
			"RSS " + mem.rss.fmt("MB") + "; PSS " + mem.pss.fmt("MB") + "; private " + mem.uss.fmt("MB"), "–", "–", "RSS <= 5 MB", metStr(mem.rss.med <= 5)})
	}

	if cfg.want("prune") {
		step(fmt.Sprintf("%d tasks that finish, for prune", cfg.prune))
		if err := preparePrune(e, cfg.prune, cfg.createPar); err != nil {
			return nil, nil, err
		}
	}

	if scale {
		step(fmt.Sprintf("creating tasks up to %d", cfg.tasks))
		created := time.Now()
		n, err := createTasks(e, cfg.tasks-live, cfg.createPar, live)
		creating += time.Since(created)
		live += n
		createdN += n
		if err != nil {
			return nil, nil, err
		}
	}
	if createdN > 0 {
		notes = append(notes, fmt.Sprintf("Creating %d tasks with `bgmux start --name tN -- sleep 100000`, %d at a time, took %v (%.1f ms per task wall).",
			createdN, cfg.createPar, creating.Round(time.Millisecond), float64(creating)/float64(time.Millisecond)/float64(createdN)))
	}

	// 2. list --json at scale vs list-panes -a.
	var lt stats
	if cfg.want("list") {
		step("list")
		out, _, err := e.bgmux(nil, "list", "--json")
		if err != nil {
			return nil, nil, err
		}
		var listed []json.RawMessage
		if err := json.Unmarshal(out, &listed); err != nil {
			return nil, nil, fmt.Errorf("list --json: %w", err)
		}
		var lB, lT []time.Duration
		for i := 0; i < cfg.reps; i++ {
			d, err := timeN(1, func(int) error { _, _, err := e.bgmux(nil, "list", "--json"); return err })
			if err != nil {
				return nil, nil, err
			}
			lB = append(lB, d...)
			d, err = timeN(1, func(int) error {
				_, err := e.tmux("list-panes", "-a", "-F", "#{session_name} #{window_id} #{pane_id} #{pane_pid} #{pane_dead} #{@bgmux_id}")
				return err
			})
			if err != nil {
				return nil, nil, err
			}
			lT = append(lT, d...)
		}
		var lb stats
		lb, lt = ms(lB), ms(lT)
		rows = append(rows, row{fmt.Sprintf("`list --json`, %d live tasks, vs `list-panes -a -F ...`", len(listed)), lb.fmt("ms"), lt.fmt("ms"),
			fmt.Sprintf("%.2f", lb.med/lt.med), "bgmux < 100 ms", metStr(lb.med < 100)})
		_, errOut, err := e.bgmux([]string{"BGMUX_DEBUG_TMUX=1"}, "list", "--json")
		if err != nil {
			return nil, nil, err
		}
		calls := tmuxCalls(errOut)
		rows = append(rows, row{"tmux invocations made by one `list --json` (BGMUX_DEBUG_TMUX=1)", strconv.Itoa(calls), "1", "–", "<= 1", metStr(calls <= 1)})
	}

	// Scale across groups: grpTasks more live tasks in groups g00...
	if scale {
		step(fmt.Sprintf("creating %d tasks across %d groups", cfg.grpTasks, cfg.groups))
		gn, err := createGroupTasks(e, cfg.grpTasks, cfg.groups, cfg.createPar)
		live += gn
		if err != nil {
			return nil, nil, err
		}
	}
	if cfg.want("list") {
		step("list and status across groups")
		all, err := countListed(e, "--all", "--state", "running")
		if err != nil {
			return nil, nil, err
		}
		la, err := timeBgmux(e, cfg.reps, "list", "--all", "--json")
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, row{fmt.Sprintf("`list --all --json`, %d live tasks in %d groups (and the %d finished ones of group done)", all, cfg.groups+1, cfg.prune), la.fmt("ms"), "–", "–",
			fmt.Sprintf("< %d ms (100 ms per 1,000)", 100*all/1000), metStr(la.med < float64(100*all)/1000)})
		lg, err := timeBgmux(e, cfg.reps, "list", "--group", "g07", "--json")
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, row{fmt.Sprintf("`list --group g07 --json` (%d of %d tasks)", cfg.grpTasks/cfg.groups, all), lg.fmt("ms"), lt.fmt("ms"),
			fmt.Sprintf("%.2f", lg.med/lt.med), "bgmux < 100 ms", metStr(lg.med < 100)})
		var snB, snT []time.Duration
		for i := 0; i < cfg.reps; i++ {
			d, err := timeN(1, func(int) error { _, _, err := e.bgmux(nil, "status", "status-probe"); return err })
			if err != nil {
				return nil, nil, err
			}
			snB = append(snB, d...)
			d, err = timeN(1, func(int) error { _, err := e.tmux("display-message", "-p", "#{pid}"); return err })
			if err != nil {
				return nil, nil, err
			}
			snT = append(snT, d...)
		}
		snb, snt := ms(snB), ms(snT)
		rows = append(rows, row{fmt.Sprintf("`status NAME` (by name), %d tasks, vs `display-message -p`", all), snb.fmt("ms"), snt.fmt("ms"),
			fmt.Sprintf("%.2f", snb.med/snt.med), "ratio <= 1.0", metStr(snb.med/snt.med <= 1.0)})
	}

	// 3b. start at scale vs new-window at scale.
	if cfg.want("start") {
		step("start at scale")
		sNB, sNT, sNIn, err := startPair(cfg.reps, e, "sN")
		if err != nil {
			return nil, nil, err
		}
		rN := sNB.med / sNT.med
		rows = append(rows, row{fmt.Sprintf("`start -- sleep 100000`, %d tasks, vs `new-window -d`", live), sNB.fmt("ms"), sNT.fmt("ms"),
			fmt.Sprintf("%.2f", rN), "ratio <= 2.0", metStr(rN <= 2.0)})
		rows = append(rows, row{fmt.Sprintf("start profile at %d tasks: its one tmux call, as timed inside bgmux", live), sNIn.fmt("ms"), sNT.fmt("ms"),
			fmt.Sprintf("%.2f", sNIn.med/sNT.med), "–", "(explains the start ratio)"})
		rows = append(rows, row{fmt.Sprintf("start profile at %d tasks: the rest of start", live), fmt.Sprintf("%.2f ms (medians' difference)", sNB.med-sNIn.med), "–", "–", "–", "(explains the start ratio)"})
		flat := sNB.med / s0B.med
		rows = append(rows, row{fmt.Sprintf("`start` flatness: median at %d tasks / at ~0", live), fmt.Sprintf("%.2f", flat),
			fmt.Sprintf("%.2f", sNT.med/s0T.med), "–", "<= 1.25 (flat)", metStr(flat <= 1.25)})
		live += cfg.reps
		_, errOut, err := e.bgmux([]string{"BGMUX_DEBUG_TMUX=1"}, "start", "--name", "debug-start", "--", "sleep", "100000")
		if err != nil {
			return nil, nil, err
		}
		live++
		calls := tmuxCalls(errOut)
		rows = append(rows, row{"tmux invocations made by one `start` (BGMUX_DEBUG_TMUX=1)", strconv.Itoa(calls), "1", "–", "1 (DESIGN.md)", metStr(calls <= 1)})
	}
	if cfg.want("status") {
		_, errOut, err := e.bgmux([]string{"BGMUX_DEBUG_TMUX=1"}, "status", first)
		if err != nil {
			return nil, nil, err
		}
		calls := tmuxCalls(errOut)
		rows = append(rows, row{"tmux invocations made by one `status TASK` (BGMUX_DEBUG_TMUX=1)", strconv.Itoa(calls), "1", "–", "0 (DESIGN.md)", metStr(calls == 0)})
	}

	if cfg.want("prune") {
		step(fmt.Sprintf("prune of %d finished tasks", cfg.prune))
		pd, pcalls, removed, err := pruneAtScale(e, cfg.prune)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, row{fmt.Sprintf("`prune --group done`: %d finished tasks among %d", cfg.prune, live+cfg.prune), fmt.Sprintf("%.1f ms, %d removed", float64(pd)/float64(time.Millisecond), removed), "–", "–",
			"all removed", metStr(removed == cfg.prune)})
		// One listing, then the kill-windows at most 64 a call (tmuxctl's
		// batch bound since issue 10): never one call per task.
		maxCalls := 1 + (cfg.prune+63)/64
		rows = append(rows, row{"tmux invocations made by that `prune` (BGMUX_DEBUG_TMUX=1)", strconv.Itoa(pcalls), "–", "–", fmt.Sprintf("<= 1 + windows/64 (%d), not one per task", maxCalls), metStr(pcalls <= maxCalls)})
	}

	// 6. wait --for latency.
	if cfg.want("latency") {
		step("wait --for latency")
		lat, err := waitLatency(e, cfg.waitReps)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, row{"`wait TASK --for LINE`: line written → wait exits", lat.fmt("ms"), "–", "–", "< 50 ms", metStr(lat.med < 50)})
		step("logs --new latency")
		lp, lf, err := logsNewLatency(e, cfg.waitReps)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, row{"`logs --new` polled back to back: line written → returned", lp.fmt("ms"), "–", "–", "< 50 ms", metStr(lp.med < 50)})
		rows = append(rows, row{"`logs --new --follow`: line written → printed", lf.fmt("ms"), "–", "–", "< 50 ms", metStr(lf.med < 50)})
	}

	notes = append(notes,
		"Times are wall clock per process, measured from the harness (fork+exec included for both sides); median (p10–p90).",
		fmt.Sprintf("Repetitions: %d for status, list and start; %d for wait --for; %d for output.", cfg.reps, cfg.waitReps, cfg.outReps),
		"Started tasks get unique `--name`s so concurrent creation does not contend on the default name.",
		"Output: measured before the scale phase, with the start benchmark's tasks live; both sides run `sh -c 'seq 1 N; touch MARKER'` and are timed from the start command until the marker appears (polled every 2 ms); the bgmux task uses `--max-log-size 1GiB`, and its log is read back after `bgmux wait` with `bgmux logs --raw`.",
		"wait --for: the task blocks reading a FIFO and then prints a unique line; `bgmux wait` is started first, and the time is from the harness's write to the FIFO until `wait` exits (raw, no baseline subtracted).",
		fmt.Sprintf("Scale: %d live tasks in the bench's own group, then %d more in %d groups (`--group gNN`); `start` at scale runs with all of them live.", cfg.tasks, cfg.grpTasks, cfg.groups),
		"Prune: the finished tasks ran `true` in group `done`; they are made before the scale phase (a window costs tmux more the more windows its server has) and prune is timed once, with every scale task live, after all of them exited.",
		"logs --new: the task echoes each line the harness writes to a FIFO; polled means `logs --new --reader R` called back to back until the line comes back; follow means one `logs --new --follow` process, timed until the line is on its stdout.",
		"About `status` (target ratio 1.0): it makes no tmux call; what it costs is starting a Go process. The start-up profile rows split that: a Go program with an empty main already costs most of one tmux client round trip here, and each minor page fault is expensive on this VM; bgmux adds its package initialisation (inittrace row: mostly yaml.v3, the ANSI parser's table and urfave/cli), the page faults of a larger binary and its reads of four sidecars. Fixes made from this profile: the MCP SDK moved to the companion binary bgmux-mcp (about 270 faults fewer per process), `-tags urfave_cli_no_docs` (about 90 fewer), the tasks package compiles its patterns on first use (its init went from 0.57 ms to 0.002 ms). What is left is Go's own start-up plus yaml.v3's init, which a smaller config parser could remove.",
		"About `start` (target ratio 2.0, issue 13; it was 1.5): start makes exactly one tmux call, timed inside bgmux in the start profile rows; since issue 13 the tmux server forks one process per window (the supervisor), as for a bare `new-window`, with no pipe-pane shell or `cat`. The rest is bgmux's: two Go process start-ups (bgmux and the supervisor, which opens the task's pty and must have started the child so that start reports an observed pid), the spec written with fsync, the window record. At scale both sides slow down because the tmux server walks all its panes on every turn of its event loop (a bare `display-message` costs about 4 times more at 1,500 windows than at none here); the profile rows at scale show how much of that lands in start's tmux call.",
		"About output (target ratio 1.1, issue 13; it was 1.2): since issue 13 the task writes to a pty of its own that only its supervisor reads; every byte goes to output.log first and is copied to the window through a 256 KiB buffer that drops what the window cannot keep up with (saying so in the window). So the task runs at the speed of the log's writes, not of tmux's rendering, which is what bounds the bare window (its tmux server's CPU seconds in the profile row are close to its wall time); with the tmux server stopped the task finishes all the same.",
		"About `list` at 1,000 tasks (target < 100 ms): it makes no tmux call; per task it reads four sidecars and the supervisor's /proc/PID/stat and decodes them. perf showed half of its time in allocating and zeroing read buffers and in decoding each spec's copy of the starting client's environment; list now reuses its read buffers, leaves that environment undecoded and parses /proc without allocating (on a store of 1,000 tasks: 160 ms to 90 ms, 4,900 to 1,700 page faults). This VM runs everything about 2.5 times slower than the machine of 2026-11-24, where list took 69 ms before these fixes. A listing of one group reads only that group (the name index).",
		fmt.Sprintf("Output with tmux stopped (issue 13): on a tmux server of its own (socket bgmux-bench-<hex>-stopped, its own state directory), a first task brings the server up; the timed task runs `sh -c 'seq 1 N; touch MARKER'` with `--max-log-size 1GiB`, the server gets SIGSTOP as soon as `start` returned, and the time is from the start command until `bgmux wait` (which makes no tmux call) returns, bounded at %v; when that bound passes, the server gets SIGCONT and the row says what happened then. The log is read with `logs --raw` while tmux is still stopped when the task ended without it. The supervisor (the task's parent) has its RSS sampled every 100 ms meanwhile.", cfg.stopLimit),
		"Exact (issue 13): the reference is the same argv run by the bench on a pseudo-terminal it opens (github.com/creack/pty, 80x24, the kernel's default termios: cooked, onlcr), reading the master to EOF; the bgmux task runs the same argv and its log is read with `logs --raw` after `bgmux wait`. A difference shows its first offset and the bytes around it on each side.",
		fmt.Sprintf("Survival (issue 13): on a tmux server of its own (socket bgmux-bench-<hex>-surv), %d tasks run `i=0; while :; do echo $i; i=$((i+1)); sleep 0.05; done` for 1 s before `tmux kill-server`. Still running: `status --json` 2 s after; kept growing: their logs hold 0, 1, 2, … without a gap and more than 5 values past what they held before the kill; a window again: after `attach --print TASK` for each, a window of `tmux list-windows -a` has the task's @bgmux_id or name; then `bgmux stop TASK` and `status --json` must say killed by SIGTERM; last, each whole log read after stop is checked again (without a gap, at least 40 values past the kill). Every bgmux and tmux call there is bounded (15-30 s) and a failure is counted in the row's seen list.", cfg.survTasks),
		"Forks per window: the children of the tmux server that appeared within 0.5 s of one `bgmux start` (and of one raw `new-window -d`), by command name; pipe-pane's `exec cat` shows as cat.",
		"Cleanup: after `kill-server`, every process left whose command line names the run's temporary directory (supervisors, viewers) is killed by pid, and the process groups of their children, since tasks may outlive tmux.",
		"Supervisor memory: RSS counts the pages of the bgmux binary that the process touched, which all supervisors share; PSS divides shared pages among the processes sharing them; private is Private_Clean + Private_Dirty.")
	return rows, notes, nil
}

// tmuxCalls counts the "bgmux: tmux [...]" lines BGMUX_DEBUG_TMUX prints.
func tmuxCalls(stderr []byte) int {
	n := 0
	for _, l := range strings.Split(string(stderr), "\n") {
		if strings.HasPrefix(l, "bgmux: tmux ") {
			n++
		}
	}
	return n
}

// createTasks starts n sleeping tasks, par at a time.
func createTasks(e *env, n, par, base int) (int, error) {
	return startMany(e, n, par, func(i int) []string {
		return []string{"--name", fmt.Sprintf("t%d", base+i), "--", "sleep", "100000"}
	})
}

func waitFile(path string, limit time.Duration) error {
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("%s did not appear within %v", path, limit)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
