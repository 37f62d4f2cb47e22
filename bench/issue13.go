package main

// The rows of issue 13 (the supervisor owns the task's terminal): output
// with the tmux server stopped, logs --raw against what a terminal
// produced, tasks surviving tmux kill-server, and what tmux forks per
// window. Each case is bounded in time: one that blocks or fails is
// reported as missed with what was seen, and the bench goes on.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
)

// bgmuxT is e.bgmux bounded by limit: the process is killed when it
// runs longer, and the error says so.
func (e *env) bgmuxT(limit time.Duration, extraEnv []string, args ...string) (stdout, stderr []byte, err error) {
	ctx, cancel := context.WithTimeout(runCtx, limit)
	defer cancel()
	inflight.RLock()
	defer inflight.RUnlock()
	cmd := exec.CommandContext(ctx, e.bin, args...)
	cmd.WaitDelay = 2 * time.Second
	cmd.Dir = e.work
	cmd.Env = append(e.environ, extraEnv...)
	var o, s bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &s
	err = cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("bgmux %s: still running after %v (killed)", strings.Join(args, " "), limit)
	} else if err != nil {
		err = fmt.Errorf("bgmux %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(s.String()))
	}
	return o.Bytes(), s.Bytes(), err
}

// tmuxT is e.tmux bounded by limit.
func (e *env) tmuxT(limit time.Duration, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(runCtx, limit)
	defer cancel()
	inflight.RLock()
	defer inflight.RUnlock()
	cmd := exec.CommandContext(ctx, "tmux", append([]string{"-L", e.socket, "-f", os.DevNull}, args...)...)
	cmd.WaitDelay = 2 * time.Second
	var s bytes.Buffer
	cmd.Stderr = &s
	out, err := cmd.Output()
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("tmux %s: still running after %v (killed)", strings.Join(args, " "), limit)
	} else if err != nil {
		err = fmt.Errorf("tmux %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(s.String()))
	}
	return out, err
}

// startT starts a bgmux task, bounded by limit, and returns its id.
func (e *env) startT(limit time.Duration, args ...string) (string, error) {
	out, _, err := e.bgmuxT(limit, nil, append([]string{"start"}, args...)...)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// sub makes a second private world next to e: its own tmux server, state
// directory and work directory (group "work"), the same binary. The
// cases that stop or kill the tmux server run there, so the rest of the
// run keeps its server. e.cleanup cleans it up too.
func (e *env) sub(name string) (*env, error) {
	root := filepath.Join(e.root, name)
	s := &env{
		root:    root,
		bin:     e.bin,
		state:   filepath.Join(root, "state"),
		work:    filepath.Join(root, "work"),
		socket:  e.socket + "-" + name,
		session: "work",
		raw:     "raw",
	}
	for _, d := range []string{s.state, s.work} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	s.environ = append(os.Environ(),
		"BGMUX_SOCKET="+s.socket,
		"BGMUX_STATE_DIR="+s.state,
		"XDG_CONFIG_HOME="+filepath.Join(e.root, "config"),
	)
	subsMu.Lock()
	subs = append(subs, s)
	subsMu.Unlock()
	return s, nil
}

var (
	subsMu sync.Mutex
	subs   []*env
	// stopped is the pid of a tmux server the bench has SIGSTOPped (0
	// when none): cleanup continues it before killing it.
	stopped struct {
		sync.Mutex
		pid int
	}
)

// stopServer sends SIGSTOP (cont false) or SIGCONT (cont true) to a tmux
// server and remembers which one is stopped.
func stopServer(pid int, cont bool) error {
	stopped.Lock()
	defer stopped.Unlock()
	if cont {
		stopped.pid = 0
		return syscall.Kill(pid, syscall.SIGCONT)
	}
	stopped.pid = pid
	return syscall.Kill(pid, syscall.SIGSTOP)
}

// continueStopped continues the server stopServer stopped, if any.
func continueStopped() {
	stopped.Lock()
	defer stopped.Unlock()
	if stopped.pid > 0 {
		_ = syscall.Kill(stopped.pid, syscall.SIGCONT)
		stopped.pid = 0
	}
}

// killServer kills e's tmux server (bounded) and then every process left
// that belongs to e (see reap): once tasks outlive the tmux server,
// kill-server alone no longer ends them.
func (e *env) killServer() {
	sock, _ := e.tmuxT(5*time.Second, "display-message", "-p", "#{socket_path}")
	_, _ = e.tmuxT(10*time.Second, "kill-server")
	p := strings.TrimSpace(string(sock))
	if p == "" { // the server was gone already; its socket may be left
		dir := os.Getenv("TMUX_TMPDIR")
		if dir == "" {
			dir = "/tmp"
		}
		p = filepath.Join(dir, fmt.Sprintf("tmux-%d", os.Getuid()), e.socket)
	}
	_ = os.Remove(p)
	reap(e.root)
}

// procInfo is what /proc/PID/stat says about a process.
type procInfo struct {
	pid, ppid, pgid int
	comm            string
}

// procs lists the processes in /proc.
func procs() []procInfo {
	ents, _ := os.ReadDir("/proc")
	var ps []procInfo
	for _, d := range ents {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok {
			ps = append(ps, p)
		}
	}
	return ps
}

func readProc(pid int) (procInfo, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procInfo{}, false
	}
	s := string(b)
	i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if i < 0 || j < i {
		return procInfo{}, false
	}
	f := strings.Fields(s[j+1:])
	if len(f) < 3 {
		return procInfo{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	pgid, _ := strconv.Atoi(f[2])
	return procInfo{pid: pid, ppid: ppid, pgid: pgid, comm: s[i+1 : j]}, true
}

// reap kills, by pid, the processes of this run left under root: every
// process whose command line names a path under root (supervisors,
// viewers, cat), and the process group of each of their children (the
// tasks).
func reap(root string) {
	self, ownGroup := os.Getpid(), syscall.Getpgrp()
	mine := map[int]bool{}
	for _, p := range procs() {
		cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.pid))
		if err != nil || p.pid == self {
			continue
		}
		if strings.Contains(string(cmd), root+"/") {
			mine[p.pid] = true
		}
	}
	if len(mine) == 0 {
		return
	}
	for _, p := range procs() {
		if mine[p.ppid] && !mine[p.pid] && p.pgid > 1 && p.pgid != ownGroup {
			_ = syscall.Kill(-p.pgid, syscall.SIGKILL)
		}
	}
	for pid := range mine {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// serverPID is the pid of e's tmux server.
func (e *env) serverPID() (int, error) {
	out, err := e.tmuxT(10*time.Second, "display-message", "-p", "#{pid}")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(out)))
}

// forksPerWindow runs create and reports the processes that appeared as
// children of the tmux server within half a second (what the server
// forked for the new window and still runs), by command name.
func forksPerWindow(spid int, create func() error) ([]string, error) {
	before := map[int]bool{}
	for _, p := range procs() {
		if p.ppid == spid {
			before[p.pid] = true
		}
	}
	if err := create(); err != nil {
		return nil, err
	}
	time.Sleep(500 * time.Millisecond)
	var names []string
	for _, p := range procs() {
		if p.ppid == spid && !before[p.pid] {
			names = append(names, p.comm)
		}
	}
	sort.Strings(names)
	return names, nil
}

func forkStr(names []string) string {
	return fmt.Sprintf("%d (%s)", len(names), strings.Join(names, ", "))
}

// taskStatus is the part of status --json the issue-13 rows read.
type taskStatus struct {
	ID       string  `json:"id"`
	State    string  `json:"state"`
	Signal   *string `json:"signal"`
	ExitCode *int    `json:"exit_code"`
	PID      *int    `json:"pid"`
	LogPath  string  `json:"log_path"`
}

func (e *env) status(id string) (taskStatus, error) {
	out, _, err := e.bgmuxT(15*time.Second, nil, "status", "--json", id)
	if err != nil {
		return taskStatus{}, err
	}
	var t taskStatus
	if err := json.Unmarshal(out, &t); err != nil {
		return taskStatus{}, fmt.Errorf("status --json %s: %w: %q", id, err, out)
	}
	return t, nil
}

// logSize sums the sizes of the files of the task's log (output.log and
// its segments) in its state directory.
func (e *env) logSize(id string) int64 {
	ents, _ := os.ReadDir(filepath.Join(e.state, "tasks", id))
	var n int64
	for _, d := range ents {
		if strings.HasPrefix(d.Name(), "output.log") {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
	}
	return n
}

// rssMB is a process's RSS in MB from smaps_rollup, 0 when unreadable.
func rssMB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	return rollupField(b, "Rss:") / 1024
}

// stoppedResult is the output run with the tmux server SIGSTOPped.
type stoppedResult struct {
	wall      float64 // start → exit record, seconds; 0 when blocked
	blocked   string  // what was seen when the run did not end in time
	afterCont string  // what happened once tmux continued, when blocked
	complete  string  // whether the log holds every line
	good      bool
	rssMax    float64 // max supervisor RSS sampled during the run, MB
}

// stoppedOutput runs `seq 1 N` as a bgmux task on its own tmux server,
// stops that server right after start returned and times until the task
// has exited (bgmux wait, which makes no tmux call), bounded by limit;
// then checks the log holds every line.
func stoppedOutput(e *env, lines int, limit time.Duration) (res stoppedResult, err error) {
	s, err := e.sub("stopped")
	if err != nil {
		return res, err
	}
	defer s.killServer()
	defer continueStopped()
	// A first task brings the server and the session up, so the timed
	// start does not pay for them and its pid is known beforehand.
	if _, err := s.startT(30*time.Second, "--name", "probe", "--", "sleep", "100000"); err != nil {
		return res, err
	}
	spid, err := s.serverPID()
	if err != nil {
		return res, err
	}
	marker := filepath.Join(s.root, "seq-done")
	t0 := time.Now()
	id, err := s.startT(30*time.Second, "--name", "out-stopped", "--max-log-size", "1GiB", "--", fmt.Sprintf("seq 1 %d; touch %s", lines, shellQuote(marker)))
	if err != nil {
		return res, err
	}
	if err := stopServer(spid, false); err != nil {
		return res, err
	}
	// The supervisor: the parent of the task's process.
	sup := 0
	if st, err := s.status(id); err == nil && st.PID != nil {
		if p, ok := readProc(*st.PID); ok {
			sup = p.ppid
		}
	}
	waited := make(chan error, 1)
	go func() {
		_, _, err := s.bgmuxT(limit, nil, "wait", id, "--timeout", fmt.Sprintf("%ds", int(limit.Seconds())))
		waited <- err
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var werr error
wait:
	for {
		select {
		case werr = <-waited:
			break wait
		case <-tick.C:
			if sup > 0 {
				res.rssMax = max(res.rssMax, rssMB(sup))
			}
		}
	}
	wall := time.Since(t0)
	_, seqErr := os.Stat(marker)
	if werr == nil {
		res.wall = wall.Seconds()
	} else {
		res.blocked = fmt.Sprintf("no exit after %.0f s (seq finished: %v; log %.1f MB of %.1f MB; wait: %s)",
			wall.Seconds(), seqErr == nil, float64(s.logSize(id))/1e6, float64(seqBytes(lines))/1e6, firstLine(werr.Error()))
	}
	if werr != nil {
		// Let tmux go on and see whether the task ends then.
		t1 := time.Now()
		_ = stopServer(spid, true)
		_, _, err := s.bgmuxT(120*time.Second, nil, "wait", id, "--timeout", "110s")
		if err != nil {
			res.afterCont = "still no exit 120 s after SIGCONT"
		} else {
			res.afterCont = fmt.Sprintf("exited %.1f s after SIGCONT", time.Since(t1).Seconds())
		}
	}
	// The log is read while tmux is still stopped when the task ended
	// without it: reading a log must not need tmux either.
	good, _, complete, err := checkLogCtx(s, id, lines, 120*time.Second)
	when := "read with tmux stopped"
	if werr != nil {
		when = "read after SIGCONT"
	}
	switch {
	case err != nil:
		res.complete = fmt.Sprintf("log not read (%s): %s", when, firstLine(err.Error()))
	case complete:
		res.complete = fmt.Sprintf("all %d lines (%s)", lines, when)
		res.good = werr == nil
	default:
		res.complete = fmt.Sprintf("%d of %d lines in order (%s)", good, lines, when)
	}
	return res, nil
}

// seqBytes is the size of the output of seq 1 n.
func seqBytes(n int) int64 {
	var total int64
	for d, lo := 1, 1; lo <= n; d, lo = d+1, lo*10 {
		hi := min(n, lo*10-1)
		total += int64(hi-lo+1) * int64(d+1)
	}
	return total
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// underPty runs argv on a new pseudo-terminal (default termios: cooked,
// onlcr) and returns everything read from its master until EOF.
func underPty(argv []string, limit time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(runCtx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	copied := make(chan error, 1)
	go func() { _, err := io.Copy(&buf, f); copied <- err }()
	werr := cmd.Wait()
	select {
	case err = <-copied: // EIO once the last slave descriptor is closed
	case <-ctx.Done():
		err = ctx.Err()
	}
	if werr != nil {
		return nil, fmt.Errorf("%v under a pty: %w", argv, werr)
	}
	var pe *os.PathError
	if err != nil && !(errors.As(err, &pe) && errors.Is(pe.Err, syscall.EIO)) {
		return nil, fmt.Errorf("reading the pty of %v: %w", argv, err)
	}
	return buf.Bytes(), nil
}

// exactCase compares `logs --raw` with what a terminal produced for argv.
func exactCase(e *env, name string, argv []string) (row, error) {
	label := "`logs --raw` equals, byte for byte, what a terminal produced: " + name
	ref, err := underPty(argv, 120*time.Second)
	if err != nil {
		return row{}, err
	}
	missed := func(seen string) row {
		return row{label, seen, fmt.Sprintf("terminal: %d bytes", len(ref)), "–", "equal", metStr(false)}
	}
	id, err := e.startT(30*time.Second, append([]string{"--name", "exact-" + argv[0], "--max-log-size", "1GiB", "--"}, argv...)...)
	if err != nil {
		return missed("not started: " + firstLine(err.Error())), nil
	}
	defer e.bgmuxT(30*time.Second, nil, "rm", "--force", id)
	if _, _, err := e.bgmuxT(120*time.Second, nil, "wait", id, "--timeout", "110s"); err != nil {
		return missed("did not end: " + firstLine(err.Error())), nil
	}
	got, _, err := e.bgmuxT(120*time.Second, nil, "logs", id, "--raw")
	if err != nil {
		return missed("logs --raw failed: " + firstLine(err.Error())), nil
	}
	if bytes.Equal(got, ref) {
		return row{label, fmt.Sprintf("equal (%d bytes)", len(got)), fmt.Sprintf("terminal: %d bytes", len(ref)), "–", "equal", metStr(true)}, nil
	}
	i := 0
	for i < len(got) && i < len(ref) && got[i] == ref[i] {
		i++
	}
	around := func(b []byte) string {
		lo, hi := max(0, i-4), min(len(b), i+8)
		return fmt.Sprintf("%q", b[lo:hi])
	}
	return missed(fmt.Sprintf("not equal: first difference at byte %d (log %d bytes, terminal %d); log there %s, terminal %s",
		i, len(got), len(ref), around(got), around(ref))), nil
}

// exactRows are the two byte-for-byte cases: 1 MB of random bytes and
// 10^6 lines.
func exactRows(e *env) ([]row, error) {
	file := filepath.Join(e.root, "random.bin")
	b := make([]byte, 1000000)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		return nil, err
	}
	r1, err := exactCase(e, "1 MB of random bytes (`cat FILE`)", []string{"cat", file})
	if err != nil {
		return nil, err
	}
	r2, err := exactCase(e, "10^6 lines (`seq 1 1000000`)", []string{"seq", "1", "1000000"})
	if err != nil {
		return nil, err
	}
	return []row{r1, r2}, nil
}

// counterLog reads a counter task's log: the values of its complete
// lines, whether they are 0, 1, 2, ... without a gap, and how many other
// lines it holds.
type counterLog struct {
	last   int // last value, -1 when none
	gapAt  int // first missing value, -1 when none
	others int
	err    error
}

func (e *env) readCounter(id string) counterLog {
	out, _, err := e.bgmuxT(30*time.Second, nil, "logs", id, "--raw")
	c := counterLog{last: -1, gapAt: -1, err: err}
	if err != nil {
		return c
	}
	if i := bytes.LastIndexByte(out, '\n'); i >= 0 {
		out = out[:i+1] // a partial last line is still being written
	} else {
		out = nil
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r")
		v, err := strconv.Atoi(l)
		if err != nil {
			c.others++
			continue
		}
		if v != c.last+1 && c.gapAt < 0 {
			c.gapAt = c.last + 1
		}
		c.last = v
	}
	return c
}

// tally renders counts of what was seen, most frequent first.
func tally(m map[string]int) string {
	type kv struct {
		k string
		n int
	}
	var kvs []kv
	for k, n := range m {
		kvs = append(kvs, kv{k, n})
	}
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].n > kvs[j].n || kvs[i].n == kvs[j].n && kvs[i].k < kvs[j].k })
	var parts []string
	for _, x := range kvs {
		parts = append(parts, fmt.Sprintf("%d %s", x.n, x.k))
	}
	return strings.Join(parts, "; ")
}

// survivalRows: n tasks printing a counter every 50 ms on their own tmux
// server, then tmux kill-server; 2 s later, how many still run and log
// without a gap; attach --print gives each a window again; bgmux stop
// records SIGTERM for each.
func survivalRows(e *env, n int) ([]row, error) {
	s, err := e.sub("surv")
	if err != nil {
		return nil, err
	}
	defer s.killServer()
	const loop = `i=0; while :; do echo $i; i=$((i+1)); sleep 0.05; done`
	var ids []string
	for i := 0; i < n; i++ {
		id, err := s.startT(30*time.Second, "--name", fmt.Sprintf("surv-%02d", i), "--", loop)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	time.Sleep(time.Second)
	before := make([]int, n)
	for i, id := range ids {
		before[i] = s.readCounter(id).last
	}
	label := fmt.Sprintf("survival: %d tasks printing a counter every 50 ms, `tmux kill-server`", n)
	var rows []row
	if _, err := s.tmuxT(10*time.Second, "kill-server"); err != nil {
		return append(rows, row{label, "kill-server failed: " + firstLine(err.Error()), "–", "–", "–", metStr(false)}), nil
	}
	time.Sleep(2 * time.Second)

	// Still running?
	running, states := 0, map[string]int{}
	for _, id := range ids {
		st, err := s.status(id)
		switch {
		case err != nil:
			states[errKey("status failed", err, id)]++
		case st.State == "running":
			running++
		default:
			k := st.State
			if st.Signal != nil {
				k += " " + *st.Signal
			} else if st.ExitCode != nil {
				k += fmt.Sprintf(" %d", *st.ExitCode)
			}
			states[k]++
		}
	}
	rows = append(rows, row{label + "; 2 s later, still `running` (`status --json`)", seen(running, n, states), "–", "–", fmt.Sprintf("%d/%d", n, n), metStr(running == n)})

	// Logging on, without a gap?
	growing, logSeen := 0, map[string]int{}
	for i, id := range ids {
		c := s.readCounter(id)
		switch {
		case c.err != nil:
			logSeen[errKey("logs failed", c.err, id)]++
		case c.gapAt >= 0:
			logSeen[fmt.Sprintf("gap (first missing value %d)", c.gapAt)]++
		case c.last <= before[i]+5:
			logSeen["stopped growing"]++
		default:
			growing++
		}
	}
	rows = append(rows, row{"…their logs kept growing after kill-server, every counter value present", seen(growing, n, logSeen), "–", "–", fmt.Sprintf("%d/%d", n, n), metStr(growing == n)})

	// A window again.
	attachErr := map[string]int{}
	for _, id := range ids {
		if _, _, err := s.bgmuxT(15*time.Second, nil, "attach", "--print", id); err != nil {
			attachErr[errKey("attach --print failed", err, id)]++
		}
	}
	windows := 0
	out, err := s.tmuxT(10*time.Second, "list-windows", "-a", "-F", "#{@bgmux_id}\t#{window_name}")
	if err != nil {
		attachErr["list-windows: "+firstLine(err.Error())]++
	} else {
		have := map[string]bool{}
		for _, l := range strings.Split(string(out), "\n") {
			for _, f := range strings.Split(l, "\t") {
				have[f] = true
			}
		}
		for i, id := range ids {
			if have[id] || have[fmt.Sprintf("surv-%02d", i)] {
				windows++
			}
		}
	}
	rows = append(rows, row{"…then `bgmux attach --print TASK` for each: a window for it again (`tmux list-windows -a`)", seen(windows, n, attachErr), "–", "–", fmt.Sprintf("%d/%d", n, n), metStr(windows == n)})

	// Stopped with the signal recorded.
	stoppedOK, stopSeen := 0, map[string]int{}
	for _, id := range ids {
		if _, _, err := s.bgmuxT(30*time.Second, nil, "stop", id); err != nil {
			stopSeen[errKey("stop failed", err, id)]++
			continue
		}
		st, err := s.status(id)
		switch {
		case err != nil:
			stopSeen[errKey("status failed", err, id)]++
		case st.State == "killed" && st.Signal != nil && *st.Signal == "SIGTERM":
			stoppedOK++
		default:
			k := st.State
			if st.Signal != nil {
				k += " " + *st.Signal
			}
			stopSeen[k]++
		}
	}
	rows = append(rows, row{"…then `bgmux stop TASK`: state killed, signal SIGTERM recorded", seen(stoppedOK, n, stopSeen), "–", "–", fmt.Sprintf("%d/%d", n, n), metStr(stoppedOK == n)})

	// The whole log, read after stop: no gap across kill-server and the
	// new windows, and lines after the kill.
	whole, wholeSeen, mostPast := 0, map[string]int{}, -1
	for i, id := range ids {
		c := s.readCounter(id)
		switch {
		case c.err != nil:
			wholeSeen[errKey("logs failed", c.err, id)]++
		case c.gapAt >= 0:
			wholeSeen[fmt.Sprintf("gap (first missing value %d)", c.gapAt)]++
		case c.last <= before[i]+40: // 2 s at 50 ms a line, at least
			wholeSeen["end within 40 values of the kill"]++
			mostPast = max(mostPast, c.last-before[i])
		default:
			whole++
		}
		if c.others > 0 {
			wholeSeen["with lines that are not counter values"]++
		}
	}
	got := seen(whole, n, wholeSeen)
	if mostPast >= 0 {
		got += fmt.Sprintf("; of those, the most values past the kill: %d", mostPast)
	}
	rows = append(rows, row{"…each whole log, read after stop: 0, 1, 2, … without a gap, going on past the kill", got, "–", "–", fmt.Sprintf("%d/%d", n, n), metStr(whole == n)})
	return rows, nil
}

// errKey is an error as a tally key: the task's id replaced by TASK and
// the harness's prefix dropped, so that the same failure of n tasks
// counts once n times.
func errKey(what string, err error, id string) string {
	m := err.Error()
	if i := strings.LastIndex(m, ": bgmux: "); i >= 0 {
		m = m[i+len(": bgmux: "):]
	}
	return what + ": " + firstLine(strings.ReplaceAll(m, id, "TASK"))
}

func seen(ok, n int, other map[string]int) string {
	s := fmt.Sprintf("%d/%d", ok, n)
	if len(other) > 0 {
		s += " (seen: " + tally(other) + ")"
	}
	return s
}
