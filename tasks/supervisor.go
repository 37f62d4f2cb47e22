package tasks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/bgmux/bgmux/tmuxctl"
	"golang.org/x/sys/unix"
)

// SuperviseCommand is the hidden subcommand that runs inside each task's
// window: bgmux __supervise --state-dir DIR [--launch TOKEN] ID.
const SuperviseCommand = "__supervise"

// forwarded are the signals the supervisor passes on to the child's
// process group. Terminal-generated signals (Ctrl-C, window resize) reach
// the child directly because it is the terminal's foreground group.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// Supervise runs task id from the store at stateDir as the window's
// command: it starts the child in its own process group as the terminal's
// foreground group, forwards signals, writes the log from the pane's
// output pipe, writes the run and exit sidecars, prints a trailer line in
// its pane (the log writer consumes it: it is not the task's output),
// applies the restart policy, and returns the last run's status (128+n
// for signal n) as its own exit status.
//
// It first claims the task (see claim): a supervisor that tmux started
// after its start or restart gave up runs nothing. A supervisor whose
// task is gone when it ends (removed meanwhile) closes its pane.
func Supervise(stateDir, id, launch string) int {
	if !ValidID(id) {
		fmt.Fprintf(os.Stderr, "[bgmux] %q is not a task id\n", id)
		return 125
	}
	st := OpenStore(stateDir)
	// One open record lock for the supervisor's whole life: the claim
	// and every record write take it (a second descriptor on the same
	// directory would wait on this process's own flock).
	records, err := st.openRecordLock(id)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return withdrawn(st, id, "the task does not exist (removed, or its start gave up)")
		}
		fmt.Fprintf(os.Stderr, "[bgmux] cannot open the task's record lock: %v\n", err)
	}
	defer records.close()
	release, why := claim(st, id, launch, records)
	if why != "" {
		return withdrawn(st, id, why)
	}
	defer release()
	var spec Spec
	if err := readJSON(st.Path(id, SpecFile), &spec); err != nil {
		fmt.Fprintf(os.Stderr, "[bgmux] cannot read task %s: %v\n", id, err)
		return 125
	}
	sup := &supervisor{store: st, spec: &spec, out: os.Stdout, pane: os.Getenv("TMUX_PANE"), claimed: release, records: records}
	code := sup.main()
	if _, err := os.Stat(st.TaskDir(id)); errors.Is(err, os.ErrNotExist) {
		ctx, cancel := context.WithTimeout(context.Background(), tmuxctl.DefaultTimeout)
		defer cancel()
		tmuxctl.CloseOwnPane(ctx)
	}
	return code
}

type supervisor struct {
	store   *Store
	spec    *Spec
	out     io.Writer
	pane    string
	log     *logWriter
	logFifo *os.File
	// reserve is disk space held so that the run and exit records can
	// still be written when the disk is full (see ReserveFile).
	reserve *diskReserve
	sigs    chan os.Signal
	// claimed releases the claim on the task (see claim) once the first
	// run record is written.
	claimed func()
	// stopping is set once a termination signal reached the supervisor
	// itself: the restart policy ends.
	stopping bool
	// records is the task's record lock (see tasklock.go).
	records *recordLock
	// self and selfStart identify this supervisor in the run record.
	self      int
	selfStart uint64
	// tty reports that the supervisor began with a terminal (its pane).
	tty bool
	// superseded is set once the task's current run is not this
	// supervisor's (its pane was given to a new one, which took the run
	// record): it records nothing more and leaves the window alone.
	superseded bool
}

// Restart backoff: doubling from backoffMin to backoffMax, back to
// backoffMin after a run that stayed up healthyAfter.
const (
	backoffMin   = time.Second
	backoffMax   = 60 * time.Second
	healthyAfter = 60 * time.Second
)

// nextBackoff is the wait before the next restart, given the previous
// wait (0 before the first restart) and how long the last run stayed up:
// it doubles from backoffMin to backoffMax, and starts over after a run
// that stayed up healthyAfter.
func nextBackoff(prev, ranFor time.Duration) time.Duration {
	if prev == 0 || ranFor >= healthyAfter {
		return backoffMin
	}
	if prev*2 > backoffMax {
		return backoffMax
	}
	return prev * 2
}

func (s *supervisor) main() int {
	s.sigs = make(chan os.Signal, 16)
	signal.Notify(s.sigs, forwarded...)
	signal.Notify(s.sigs, syscall.SIGTTOU, syscall.SIGTTIN)
	s.self = os.Getpid()
	s.selfStart = procStart(s.self)
	s.tty = isTerminal(1)
	s.store.takeOverReserve(s.spec.ID)
	s.reserve = newDiskReserve(s.store.Path(s.spec.ID, ReserveFile))
	defer s.reserve.remove()
	s.openLog()

	restarts, backoff := 0, time.Duration(0)
	var last Exit
	ran := false
	for {
		ex, started, ok := s.runOnce(restarts)
		if !ok {
			break
		}
		ran, last = true, ex
		restart := s.wantsRestart(&ex, restarts)
		var delay time.Duration
		if restart {
			delay = nextBackoff(backoff, time.Since(started))
			backoff = delay
			next := time.Now().Add(delay).UTC()
			ex.NextRestartAt = &next
		}
		recorded := s.record(&ex, started, delay)
		if recorded {
			s.eventEnded(ex, delay, restarts)
		}
		if !recorded || !restart {
			break
		}
		s.markWindow("restarting", false)
		if !s.pause(delay) {
			// Stopped while waiting to restart: the last run is final.
			ex.NextRestartAt = nil
			s.recordExit(ex, false)
			s.paneNote("[bgmux] stopped; not restarting\n")
			break
		}
		restarts++
		s.markWindow("running", false)
	}
	if !ran {
		s.closeLog("failed")
		return 125
	}
	s.closeLog(finalState(&last, fileExists(s.store.Path(s.spec.ID, StopFile))))
	return last.StatusCode()
}

// ownsPane reports whether the supervisor's pane is still its own: a
// pane respawned for a new supervisor (or gone with its tmux server)
// hangs up the old one's terminal.
func (s *supervisor) ownsPane() bool {
	return s.pane != "" && !s.superseded && (!s.tty || isTerminal(1))
}

// nextRun is the number of the run about to start: one more than the
// current run record's (or the last exit record's). The caller holds the
// record lock, so two supervisors never claim the same number. A run
// record that cannot be read is set aside, never written over.
func (s *supervisor) nextRun() int {
	runPath := s.store.Path(s.spec.ID, RunFile)
	var prev Run
	err := readJSON(runPath, &prev)
	if err == nil {
		return prev.Run + 1
	}
	if ce := (*CorruptError)(nil); errors.As(err, &ce) {
		if dst := setAsideFile(runPath); dst != "" {
			fmt.Fprintf(os.Stderr, "[bgmux] the run record %s; it was set aside as %s\n", ce.problem(), dst)
		}
	}
	var ex Exit
	if readJSON(s.store.Path(s.spec.ID, ExitFile), &ex) == nil {
		return ex.Run + 1
	}
	return 1
}

// ownsRun reports whether the current run record is this supervisor's
// record of run; the caller holds the record lock.
func (s *supervisor) ownsRun(run int) bool {
	var r Run
	return readJSON(s.store.Path(s.spec.ID, RunFile), &r) == nil &&
		r.Run == run && r.SupervisorPID == s.self && r.SupervisorStart == s.selfStart
}

// openLog starts copying the pane's output (arriving through the FIFO that
// pipe-pane writes to) into the log. Opening the FIFO read-write never
// blocks and never sees end-of-file between writers. Output a killed
// supervisor left in the FIFO goes to the log first, and a line it left
// cut short is ended, before this supervisor's first run begins.
func (s *supervisor) openLog() {
	w, err := openLogWriter(s.store, s.spec.ID, s.spec.MaxLogSize)
	if err != nil {
		fmt.Fprintf(os.Stderr, "[bgmux] cannot open the log: %v\n", err)
		return
	}
	w.saveLoss = func(l LogLoss) error {
		// Half of the reserve stays for the exit record.
		err := s.writeRecord(LogLossFile, l, reserveSize/2)
		if err != nil && noSpace(err) {
			err = fmt.Errorf("the disk is full and the reserve spent")
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "[bgmux] cannot record the output lost: %v\n", err)
		}
		return err
	}
	path := s.store.Path(s.spec.ID, PipeFile)
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		fmt.Fprintf(os.Stderr, "[bgmux] cannot open the output pipe: %v\n", err)
		w.close()
		return
	}
	w.drainStale(fd)
	w.endCutLine()
	fifo := os.NewFile(uintptr(fd), path)
	s.log = w
	go func() {
		w.copyFrom(fifo)
		fifo.Close()
	}()
	s.logFifo = fifo
}

// finalState is the window-list state of a finished task: "stopped"
// when bgmux stop ended it (stopped: its marker file is there), whatever
// the exit status, else "ok" for exit status 0 and "failed" for anything
// else.
func finalState(ex *Exit, stopped bool) string {
	if stopped {
		return "stopped"
	}
	if ex.ExitCode != nil && *ex.ExitCode == 0 {
		return "ok"
	}
	return "failed"
}

// markWindow sets the window's state for the window list, closing the
// pane's output pipe too when closePipe is set (one tmux call).
func (s *supervisor) markWindow(state string, closePipe bool) {
	if !s.ownsPane() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tmuxctl.New(s.spec.Socket).SetWindowState(ctx, s.pane, state, closePipe)
}

// closeLog marks the window with the task's final state, ends the pane's
// pipe (so the pipe process does not linger beside a dead pane) and the
// log.
func (s *supervisor) closeLog(state string) {
	s.markWindow(state, true)
	if s.log != nil {
		s.logFifo.Close()
		s.log.close()
	}
}

// wantsRestart applies the restart policy to a finished run.
func (s *supervisor) wantsRestart(ex *Exit, restarts int) bool {
	if s.stopping || fileExists(s.store.Path(s.spec.ID, StopFile)) {
		return false
	}
	if s.spec.MaxRestarts != nil && restarts >= *s.spec.MaxRestarts {
		return false
	}
	switch s.spec.Restart {
	case "always":
		return true
	case "on-failure":
		return ex.Signal != nil || ex.ExitCode == nil || *ex.ExitCode != 0
	}
	return false
}

// pause waits before a restart; it returns false if the task was stopped
// meanwhile (a termination signal, or bgmux stop's marker file).
func (s *supervisor) pause(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-timer.C:
			return !fileExists(s.store.Path(s.spec.ID, StopFile))
		case sig := <-s.sigs:
			if sig != syscall.SIGTTOU && sig != syscall.SIGTTIN && sig != syscall.SIGUSR1 && sig != syscall.SIGUSR2 {
				return false
			}
		case <-tick.C:
			if fileExists(s.store.Path(s.spec.ID, StopFile)) {
				return false
			}
		}
	}
}

// runOnce claims the next run number, starts the child, records the run,
// forwards signals until the child ends and returns how it ended. It
// starts nothing, and returns false, when the run could not be recorded
// or its pane is no longer this supervisor's: a run is started and its
// record written under the record lock, and never by a supervisor whose
// pane was given to another (which would then take the run record).
func (s *supervisor) runOnce(restarts int) (Exit, time.Time, bool) {
	argv := s.spec.ChildArgv()
	env := childEnv(s.spec, os.Environ())
	unlock := s.records.lock()
	locked := true
	defer func() {
		if locked {
			unlock()
		}
	}()
	if s.tty && !isTerminal(1) {
		s.superseded = true
		fmt.Fprintf(os.Stderr, "[bgmux] the pane was given to another run (or its tmux server went away): not starting\n")
		return Exit{}, time.Time{}, false
	}
	if s.reserve.held() == 0 {
		fmt.Fprintf(os.Stderr, "[bgmux] not starting: the file system of state directory %s is full, so the run could not be recorded; free some space and restart the task\n", s.store.Dir)
		return Exit{}, time.Time{}, false
	}
	runNo := s.nextRun()
	started := time.Now()
	rec := Run{
		Run: runNo, Restarts: restarts, SupervisorPID: s.self, SupervisorStart: s.selfStart,
		BootID: BootID(), StartedAt: started.UTC(), Pane: s.pane,
	}
	if s.log != nil {
		rec.LogOffset = s.log.end()
	} else if seg, err := s.store.logSegments(s.spec.ID); err == nil {
		rec.LogOffset = seg.end()
	}
	path, code, lookErr := lookPath(argv[0], env, s.spec.Cwd)
	var cmd *exec.Cmd
	if lookErr == nil {
		cmd = &exec.Cmd{Path: path, Args: argv, Env: env, Dir: s.spec.Cwd, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if isTerminal(0) {
			cmd.SysProcAttr.Foreground = true
			cmd.SysProcAttr.Ctty = 0
		}
		if err := cmd.Start(); err != nil {
			lookErr, code = err, 126
			if errors.Is(err, os.ErrNotExist) {
				code = 127
			}
		}
	}
	if lookErr != nil {
		msg := fmt.Sprintf("%s: %v", argv[0], lookErr)
		fmt.Fprintf(os.Stderr, "bgmux: %s\n", msg)
		if s.writeRun(rec) != nil {
			return Exit{}, started, false
		}
		return Exit{Run: runNo, ExitCode: &code, Error: msg, StartedAt: rec.StartedAt}, started, true
	}
	pgid := cmd.Process.Pid
	rec.PID, rec.PGID, rec.PIDStart = pgid, pgid, procStart(pgid)
	s.eventStarted(rec)
	if s.writeRun(rec) != nil {
		// A run that cannot be recorded does not go on.
		syscall.Kill(-pgid, syscall.SIGKILL)
		cmd.Wait()
		fmt.Fprintf(os.Stderr, "[bgmux] the run could not be recorded, so it was stopped\n")
		return Exit{}, started, false
	}
	unlock()
	locked = false
	// The supervisor now mostly waits: hand start-up garbage back to the
	// system, so hundreds of live tasks cost little memory, and keep the
	// heap small from here on. (Start-up runs with Go's default GC
	// target, which spares it collections it does not need.)
	trimMemory()
	debug.SetGCPercent(20)

	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	hangup, hadTerminal := false, isTerminal(1)
	for waiting := true; waiting; {
		select {
		case sig := <-s.sigs:
			switch sig {
			case syscall.SIGTTOU, syscall.SIGTTIN:
				continue
			case syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT:
				s.stopping = true
			}
			hangup = hangup || sig == syscall.SIGHUP
			syscall.Kill(-pgid, sig.(syscall.Signal))
		case <-done:
			waiting = false
		}
	}
	// The child may end (a write to its terminal failing) before the
	// hangup signal reaches the supervisor: a terminal that no longer
	// answers tells the same.
	hangup = hangup || hadTerminal && !isTerminal(1)
	ex := Exit{Run: runNo, StartedAt: rec.StartedAt, Hangup: hangup}
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		name := SignalName(ws.Signal())
		ex.Signal = &name
	} else {
		c := ws.ExitStatus()
		ex.ExitCode = &c
	}
	// Like a terminal that closes, hang up what the child left behind in
	// its process group.
	if groupAlive(pgid) {
		syscall.Kill(-pgid, syscall.SIGHUP)
	}
	return ex, started, true
}

func (s *supervisor) writeRun(rec Run) error {
	err := s.writeRecord(RunFile, rec, 0)
	if err != nil {
		fmt.Fprintf(os.Stderr, "[bgmux] cannot write run record: %v\n", err)
	}
	if err == nil && s.claimed != nil {
		s.claimed()
	}
	return err
}

// writeRecord writes one of the task's sidecars, using the disk reserve
// (down to floor bytes) when the disk is full.
func (s *supervisor) writeRecord(file string, v any, floor int64) error {
	return writeJSONReserved(s.store.Path(s.spec.ID, file), v, s.reserve, floor)
}

// record sets ex.EndedAt, prints the trailer, waits until it has come
// through the pipe, where the log writer consumes it (so that
// an exit record means the log is complete), then writes the logloss
// sidecar (when output was lost), adds the run to the history and writes
// the exit sidecar, using the disk reserve if the disk is full. It
// returns false when the task's current run is no longer this
// supervisor's: nothing is recorded then.
func (s *supervisor) record(ex *Exit, started time.Time, restartIn time.Duration) bool {
	ex.EndedAt = time.Now().UTC()
	trailer := "[bgmux] " + describeExit(ex, ex.EndedAt.Sub(started))
	if ex.NextRestartAt != nil {
		trailer += "; restarting in " + roundDuration(restartIn)
	}
	s.paneNote("\n" + trailer + "\n")
	if s.log != nil {
		// Space freed from the reserve goes to the records, not to
		// output waiting to be written; and the record of output lost
		// is final before the exit record says the run is over.
		s.log.hold(true)
		defer s.log.hold(false)
		s.log.flushLoss(true)
	}
	return s.recordExit(*ex, true)
}

// paneNote prints out (the supervisor's own words, not the task's
// output) in the pane and waits until it has come through the pipe,
// where the log writer consumes it: the log holds the task's output only,
// and everything printed before out is in it.
func (s *supervisor) paneNote(out string) {
	if s.log != nil {
		s.log.expect(out)
	}
	_, werr := io.WriteString(s.out, out)
	// A failed write means the pane is gone (its tmux server died): out
	// will never reach the log, so do not wait for it.
	if s.log != nil && s.pane != "" && werr == nil {
		// After a hangup the terminal no longer answers: the pane is gone.
		s.log.waitSeen(2*time.Second, func() bool { return !isTerminal(1) })
	} else if s.log != nil {
		s.log.waitSeen(0, nil) // disarm
	}
}

// exitRecordRetry bounds how long a supervisor keeps trying to write the
// exit record (and history) of its run when writing fails (a full disk,
// a state dir made read-only or immutable for a while): a run whose end
// is not recorded would be reported lost forever.
const exitRecordRetry = 10 * time.Minute

// recordExit writes the exit record of run ex.Run, after adding it to the
// history when history is set (the exit record is the last word on a
// run: whoever sees it, such as status, wait, restart or restore, sees
// the run in the history too). Each attempt holds the record lock and
// writes only while the current run record is this supervisor's record
// of that run; a failed attempt is tried again, with backoff, for up to
// exitRecordRetry. It returns false when the run is no longer this
// supervisor's.
func (s *supervisor) recordExit(ex Exit, history bool) bool {
	deadline := time.Now().Add(exitRecordRetry)
	delay := 100 * time.Millisecond
	histDone, failing := !history, false
	for {
		own := true
		var err error
		unlock := s.records.lock()
		if !s.ownsRun(ex.Run) {
			own = false
		} else if !histDone {
			if hist, ok := readHistory(s.store.Path(s.spec.ID, HistoryFile)); !ok {
				fmt.Fprintf(os.Stderr, "[bgmux] the run history cannot be read or set aside; it is left as it is\n")
				histDone = true
			} else if err = s.writeRecord(HistoryFile, appendHistory(hist, ex), 0); err == nil {
				histDone = true
			} else {
				err = fmt.Errorf("cannot write run history: %w", err)
			}
		}
		if own && histDone {
			if err = s.writeRecord(ExitFile, ex, 0); err != nil {
				err = fmt.Errorf("cannot write exit record: %w", err)
			}
		}
		unlock()
		switch {
		case !own:
			s.superseded = true
			fmt.Fprintf(os.Stderr, "[bgmux] run %d is no longer this window's (the task was restarted or removed meanwhile): its end is not recorded\n", ex.Run)
			return false
		case err == nil:
			if failing {
				fmt.Fprintf(os.Stderr, "[bgmux] exit record written\n")
			}
			return true
		case time.Now().After(deadline):
			fmt.Fprintf(os.Stderr, "[bgmux] %v; gave up after %v\n", err, exitRecordRetry)
			return true
		case !failing:
			fmt.Fprintf(os.Stderr, "[bgmux] %v; trying again for up to %v\n", err, exitRecordRetry)
			failing = true
		}
		time.Sleep(delay)
		delay = min(2*delay, 5*time.Second)
	}
}

// appendHistory adds ex to the run history hist, replacing an entry of
// the same run (a run is recorded once) and keeping at most maxHistory.
func appendHistory(hist []Exit, ex Exit) []Exit {
	if n := len(hist); n > 0 && hist[n-1].Run == ex.Run {
		hist = hist[:n-1]
	}
	hist = append(hist, ex)
	if len(hist) > maxHistory {
		hist = hist[len(hist)-maxHistory:]
	}
	return hist
}

// maxHistory bounds the run history kept per task.
const maxHistory = 100

// describeExit is the one-line summary shown in the pane and the log.
func describeExit(ex *Exit, d time.Duration) string {
	after := " after " + roundDuration(d)
	switch {
	case ex.Error != "":
		return "could not start: " + ex.Error
	case ex.Signal != nil:
		return "killed by " + *ex.Signal + after
	default:
		return fmt.Sprintf("exited %d%s", *ex.ExitCode, after)
	}
}

func roundDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// childEnv is the child's environment: the starting client's environment,
// the pane's terminal variables, the task's --env values, then the
// BGMUX_* variables naming the task.
func childEnv(spec *Spec, own []string) []string {
	base := spec.BaseEnv
	if base == nil {
		base = own
	}
	vars := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	for _, kv := range base {
		if k, v, ok := strings.Cut(kv, "="); ok {
			set(k, v)
		}
	}
	for _, kv := range own {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "TERM", "TMUX", "TMUX_PANE", "COLORTERM":
			set(k, v)
		}
	}
	keys := make([]string, 0, len(spec.Env))
	for k := range spec.Env {
		keys = append(keys, k)
	}
	for _, k := range sortedStrings(keys) {
		set(k, spec.Env[k])
	}
	set("BGMUX_TASK_ID", spec.ID)
	set("BGMUX_TASK_NAME", spec.Name)
	set("BGMUX_GROUP", spec.Group)
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+vars[k])
	}
	return out
}

// lookPath finds prog the way a shell would, using the child's PATH and
// working directory; the code is 127 for not found and 126 for not
// executable.
func lookPath(prog string, env []string, cwd string) (string, int, error) {
	check := func(p string) error {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st.IsDir() || st.Mode()&0o111 == 0 {
			return os.ErrPermission
		}
		return nil
	}
	if strings.Contains(prog, "/") {
		p := prog
		if !filepath.IsAbs(p) {
			p = filepath.Join(cwd, p)
		}
		if err := check(p); err != nil {
			if errors.Is(err, os.ErrPermission) {
				return "", 126, errors.New("permission denied")
			}
			return "", 127, errors.New("no such file or directory")
		}
		return p, 0, nil
	}
	pathVar := "/usr/local/bin:/usr/bin:/bin"
	for _, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			pathVar = kv[5:]
		}
	}
	denied := false
	for _, dir := range filepath.SplitList(pathVar) {
		if dir == "" {
			dir = "."
		}
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(cwd, dir)
		}
		p := filepath.Join(dir, prog)
		err := check(p)
		if err == nil {
			return p, 0, nil
		}
		if errors.Is(err, os.ErrPermission) {
			denied = true
		}
	}
	if denied {
		return "", 126, errors.New("permission denied")
	}
	return "", 127, errors.New("command not found")
}

func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	return err == nil
}
