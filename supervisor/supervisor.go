package supervisor

import (
	"bytes"
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
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bgmux/bgmux/control"
	"github.com/bgmux/bgmux/fileutil"
	"github.com/bgmux/bgmux/proc"
	"github.com/bgmux/bgmux/tasklog"
	"github.com/bgmux/bgmux/tasks"

	"github.com/bgmux/bgmux/tmuxctl"
	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// supStderr is where the supervisor's own messages go: its pane's
// terminal (line endings made "\r\n" once the pane is in raw mode), or
// nowhere once the pane has gone.
var supStderr io.Writer = os.Stderr

// supErrorf writes one of the supervisor's own messages.
func supErrorf(format string, a ...any) { fmt.Fprintf(supStderr, format, a...) }

// crlfWriter writes to a terminal in raw mode, ending lines with "\r\n".
type crlfWriter struct{ w io.Writer }

func (c crlfWriter) Write(p []byte) (int, error) {
	if _, err := c.w.Write(bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// forwarded are the signals the supervisor passes on to the child's
// process group when they are sent to the supervisor itself. Keys typed
// in a window (Ctrl-C, Ctrl-Z) reach the child through its own terminal.
// SIGHUP is not among them: it means the supervisor's pane went away (its
// tmux server was killed, its window closed), and the task goes on.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// Supervise runs task id from the store at stateDir as the window's
// command. Each run gets a pseudo-terminal of its own: the child is its
// session leader and foreground group, and the supervisor is the only
// reader of it, writing every byte to the log first and copying it to
// its pane (and to viewers) through bounded buffers, so the task never
// waits for tmux. It relays what is typed in the pane to the child's
// terminal, keeps the terminal's size that of the pane, writes the run
// and exit sidecars (the exit only once the terminal has been drained),
// prints a trailer line in its pane (never in the log), answers on the
// task's control socket, applies the restart policy, and returns the
// last run's status (128+n for signal n) as its own exit status. The
// task outlives the pane: when tmux goes away the supervisor goes on.
//
// It first claims the task (see claim): a supervisor that tmux started
// after its start or restart gave up runs nothing. A supervisor whose
// task already has a live supervisor shows that one's output instead
// (see View). A supervisor whose task is gone when it ends (removed
// meanwhile) closes its pane.
func Supervise(stateDir, id, launch string) int {
	if !tasks.ValidID(id) {
		fmt.Fprintf(os.Stderr, "[bgmux] %q is not a task id\n", id)
		return 125
	}
	st := tasks.OpenStore(stateDir)
	// One open record lock for the supervisor's whole life: the claim
	// and every record write take it (a second descriptor on the same
	// directory would wait on this process's own flock).
	records, err := st.OpenRecordLock(id)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return withdrawn(st, id, "the task does not exist (removed, or its start gave up)")
		}
		fmt.Fprintf(os.Stderr, "[bgmux] cannot open the task's record lock: %v\n", err)
	}
	defer records.Close()
	release, why := claim(st, id, launch, records)
	if why != "" {
		return withdrawn(st, id, why)
	}
	var live tasks.Run
	if tasks.ReadRecord(st.Path(id, tasks.RunFile), &live) == nil && live.SupervisorPID != os.Getpid() && proc.Alive(live.SupervisorPID, live.SupervisorStart) {
		// The task runs under another supervisor (its window was given a
		// new one by hand): show it rather than run it twice.
		release()
		records.Close()
		if exe, err := os.Executable(); err == nil {
			syscall.Exec(exe, []string{exe, tasks.ViewCommand, "--state-dir", stateDir, id}, os.Environ())
		}
		return View(stateDir, id)
	}
	var spec tasks.Spec
	if err := tasks.ReadRecord(st.Path(id, tasks.SpecFile), &spec); err != nil {
		release()
		fmt.Fprintf(os.Stderr, "[bgmux] cannot read task %s: %v\n", id, err)
		return 125
	}
	sup := &supervisor{store: st, spec: &spec, pane: os.Getenv("TMUX_PANE"), claimed: release, records: records}
	code := sup.main()
	if _, err := os.Stat(st.TaskDir(id)); errors.Is(err, os.ErrNotExist) {
		ctx, cancel := context.WithTimeout(context.Background(), tmuxctl.DefaultTimeout)
		defer cancel()
		tmuxctl.CloseOwnPane(ctx)
	}
	return code
}

type supervisor struct {
	store *tasks.Store
	spec  *tasks.Spec
	pane  string
	log   *tasklog.Writer
	// fan copies the output to the panes showing it: own (the
	// supervisor's pane) and viewers.
	fan *fanout
	own *paneSink
	// tty says the supervisor began with a terminal (its pane), which
	// it put in raw mode (ttyState restores it).
	tty      bool
	ttyState *term.State
	// paneGone is set once the pane hung up (tmux went away).
	paneGone atomic.Bool
	// viewers counts the viewers connected; detached is the pane of the
	// task's window that went away last (see tasks.Run.Detached).
	viewers  atomic.Int32
	detached atomic.Int64
	detaches chan int
	// ptyMu guards master (the current run's terminal) and size (the
	// terminal size runs get).
	ptyMu  sync.Mutex
	master *os.File
	size   *pty.Winsize
	// ctl is the control socket; restarts are the restarts asked on it
	// (one at a time); ending is set, under ctlMu, once none is taken.
	ctl      *control.Listener
	ctlPath  string
	ctlMu    sync.Mutex
	restarts chan *restartAsk
	ending   bool
	// asked is the restart asked through the socket that ended the
	// current run, answered once the next run is recorded.
	asked *restartAsk
	marks chan string
	// lastTrailer is the trailer of the last run, shown in the pane.
	lastTrailer string
	// reserve is disk space held so that the run and exit records can
	// still be written when the disk is full (see tasks.ReserveFile).
	reserve *tasks.DiskReserve
	sigs    chan os.Signal
	// claimed releases the claim on the task (see claim) once the first
	// run record is written.
	claimed func()
	// stopping is set once a termination signal reached the supervisor
	// itself: the restart policy ends.
	stopping bool
	// records is the task's record lock (see tasklock.go).
	records *tasks.RecordLock
	// self and selfStart identify this supervisor in the run record.
	self      int
	selfStart uint64
	// superseded is set once the task's current run is not this
	// supervisor's (another took the run record): it records nothing
	// more and leaves the window alone.
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
	signal.Notify(s.sigs, syscall.SIGHUP, syscall.SIGTTOU, syscall.SIGTTIN, syscall.SIGWINCH)
	s.self = os.Getpid()
	s.selfStart = proc.Start(s.self)
	s.restarts = make(chan *restartAsk, 1)
	s.detaches = make(chan int, 4)
	s.fan = newFanout()
	s.openPane()
	defer s.restorePane()
	s.store.TakeOverReserve(s.spec.ID)
	s.reserve = tasks.NewDiskReserve(s.store.Path(s.spec.ID, tasks.ReserveFile))
	defer s.reserve.Remove()
	s.openLog()
	s.serveControl()

	restarts, backoff := 0, time.Duration(0)
	var last tasks.Exit
	ran := false
	for {
		ex, started, ok := s.runOnce(restarts)
		if !ok {
			s.answerAsked(control.Reply{Error: "the next run could not be started (see the task's window)"})
			break
		}
		ran, last = true, ex
		if s.asked != nil && (s.stopping || fileExists(s.store.Path(s.spec.ID, tasks.StopFile))) {
			// Stopped after the restart was asked (restart removes the
			// stop marker before asking): the stop is the last word.
			s.answerAsked(control.Reply{Error: "the task was stopped meanwhile"})
		}
		asked := s.asked != nil
		restart := asked || s.wantsRestart(&ex, restarts)
		var delay time.Duration
		if restart && !asked {
			delay = nextBackoff(backoff, time.Since(started))
			backoff = delay
			next := time.Now().Add(delay).UTC()
			ex.NextRestartAt = &next
		}
		recorded := s.record(&ex, started, delay)
		if recorded {
			s.eventEnded(ex, delay, restarts)
		}
		if !recorded {
			break
		}
		if !restart {
			// The last run: unless a restart was asked meanwhile.
			if s.asked = s.closeControl(); s.asked == nil {
				break
			}
			restarts, backoff = 0, 0
			s.markWindow("running")
			continue
		}
		if asked {
			restarts, backoff = 0, 0
			continue
		}
		s.markWindow("restarting")
		if !s.pause(delay) {
			// Stopped while waiting to restart: the last run is final.
			ex.NextRestartAt = nil
			s.recordExit(ex, false)
			s.paneNote("[bgmux] stopped; not restarting\r\n")
			s.closeControl()
			break
		}
		if s.asked != nil {
			restarts, backoff = 0, 0
		} else {
			restarts++
		}
		s.markWindow("running")
	}
	s.closeControl()
	state := "failed"
	if ran {
		state = finalState(&last, fileExists(s.store.Path(s.spec.ID, tasks.StopFile)))
	}
	s.finish(state)
	if !ran {
		return 125
	}
	return last.StatusCode()
}

// answerAsked answers the restart asked through the control socket, if
// one is waiting: once the run it asked for is recorded (or could not
// be started).
func (s *supervisor) answerAsked(rep control.Reply) {
	if s.asked != nil {
		s.asked.reply <- rep
		s.asked = nil
	}
}

// ownsPane reports whether the supervisor's pane is still its own: a
// pane that hung up (its tmux server went away, its window was closed)
// is not.
func (s *supervisor) ownsPane() bool {
	return s.pane != "" && !s.superseded && !s.paneGone.Load() && (!s.tty || isTerminal(0))
}

// openPane puts the supervisor's pane in raw mode (every key reaches the
// task's terminal as typed) and starts copying output to it and what is
// typed in it to the task.
func (s *supervisor) openPane() {
	s.marks = make(chan string, 8)
	go s.markWorker()
	s.size = &pty.Winsize{Rows: 24, Cols: 80}
	s.own = newPaneSink(os.Stdout, s.spec.Name)
	s.fan.add(s.own, false)
	if !isTerminal(0) {
		return
	}
	s.tty = true
	if sz, err := pty.GetsizeFull(os.Stdin); err == nil && sz.Rows > 0 && sz.Cols > 0 {
		s.size = sz
	}
	if st, err := term.MakeRaw(0); err == nil {
		s.ttyState = st
		supStderr = crlfWriter{os.Stderr}
	}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := os.Stdin.Read(buf)
			if n > 0 {
				s.paneInput(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
}

// restorePane gives the pane its terminal modes back.
func (s *supervisor) restorePane() {
	if s.ttyState != nil && !s.paneGone.Load() {
		term.Restore(0, s.ttyState)
	}
}

// input types p into the current run's terminal (nothing between runs).
func (s *supervisor) input(p []byte) {
	s.ptyMu.Lock()
	m := s.master
	s.ptyMu.Unlock()
	if m != nil && len(p) > 0 {
		m.Write(p)
	}
}

// paneInput types p, read from a pane (the supervisor's or a viewer's),
// into the task's terminal, less a terminal's answer the task did not
// ask for (see unaskedReply).
func (s *supervisor) paneInput(p []byte) {
	s.ptyMu.Lock()
	m := s.master
	s.ptyMu.Unlock()
	if m != nil && len(p) > 0 && !unaskedReply(m, p) {
		m.Write(p)
	}
}

// resize gives the task's terminal the size sz (a pane's or a viewer's:
// the latest wins); the child gets SIGWINCH when it changes.
func (s *supervisor) resize(sz *pty.Winsize) {
	if sz == nil || sz.Rows == 0 || sz.Cols == 0 {
		return
	}
	s.ptyMu.Lock()
	defer s.ptyMu.Unlock()
	s.size = sz
	if s.master != nil {
		setWinsize(s.master, sz)
	}
}

// openLog opens the task's log for the output of this supervisor's
// runs, first ending a line a killed supervisor left cut short.
func (s *supervisor) openLog() {
	w, err := tasklog.OpenWriter(s.store.TaskDir(s.spec.ID), s.spec.MaxLogSize)
	if err != nil {
		supErrorf("[bgmux] cannot open the log: %v\n", err)
		return
	}
	w.SaveLoss = func(l tasks.LogLoss) error {
		// Half of the reserve stays for the exit record.
		err := s.writeRecord(tasks.LogLossFile, l, tasks.ReserveSize/2)
		if err != nil && tasks.NoSpace(err) {
			err = fmt.Errorf("the disk is full and the reserve spent")
		}
		if err != nil {
			supErrorf("[bgmux] cannot record the output lost: %v\n", err)
		}
		return err
	}
	w.Warn = func(msg string) { s.fan.each(func(p *paneSink) { p.push([]byte(msg)) }) }
	w.EndCutLine()
	s.log = w
}

// finalState is the window-list state of a finished task: "stopped"
// when bgmux stop ended it (stopped: its marker file is there), whatever
// the exit status, else "ok" for exit status 0 and "failed" for anything
// else.
func finalState(ex *tasks.Exit, stopped bool) string {
	if stopped {
		return "stopped"
	}
	if ex.ExitCode != nil && *ex.ExitCode == 0 {
		return "ok"
	}
	return "failed"
}

// markWindow asks for the window's state in the window list to be set
// (restarting, running); it never waits for tmux.
func (s *supervisor) markWindow(state string) {
	select {
	case s.marks <- state:
	default:
	}
}

func (s *supervisor) markWorker() {
	for state := range s.marks {
		s.setWindowState(state)
	}
}

// setWindowState sets the state of the task's window: the supervisor's
// own pane, or once that is gone, the viewer window the task was given.
func (s *supervisor) setWindowState(state string) {
	pane := ""
	if s.ownsPane() {
		pane = s.pane
	} else if !s.superseded {
		var rec tasks.WindowRecord
		if tasks.ReadRecord(s.store.Path(s.spec.ID, tasks.WindowFile), &rec) == nil && rec.Viewer && rec.Socket == s.spec.Socket {
			pane = rec.Pane
		}
	}
	if pane == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tmuxctl.New(s.spec.Socket).SetWindowState(ctx, pane, state)
}

// finish marks the window with the task's final state, shows the panes
// the last of the output and the trailer (each for a bounded time: a
// stopped tmux server does not hold the supervisor), and closes the log.
func (s *supervisor) finish(state string) {
	close(s.marks)
	if s.log != nil {
		s.log.Close()
	}
	s.setWindowState(state)
	// The records are final: the supervisor may now wait a while for its
	// own pane to show the end (a stopped tmux server that resumes), and
	// briefly for viewers, which go on without it.
	var wg sync.WaitGroup
	s.fan.each(func(p *paneSink) {
		wait := viewerDrain
		if p == s.own {
			wait = paneDrain
		}
		wg.Add(1)
		go func() { defer wg.Done(); p.close(wait) }()
	})
	wg.Wait()
	s.paneShown()
}

// paneShown waits, for a bounded time, until tmux has read everything
// written to the supervisor's own pane: tmux 3.3a may drop what a pane's
// process wrote just before it exits. The supervisor sets the pane's
// title last (OSC 2, the end of the task) and waits until tmux reports
// it: tmux reads a pane's output in order, so all before it was read.
func (s *supervisor) paneShown() {
	if !s.ownsPane() || s.own.isDead() {
		return
	}
	title := s.spec.Name + ": " + strings.TrimPrefix(s.lastTrailer, "[bgmux] ")
	if _, err := fmt.Fprintf(os.Stdout, "\x1b]2;%s\x1b\\", strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, title)); err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	srv := tmuxctl.New(s.spec.Socket)
	for ctx.Err() == nil {
		if got, err := srv.PaneTitle(ctx, s.pane); err != nil || got == title {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// paneDrain and viewerDrain bound how long an ending supervisor waits for
// its own pane and for a viewer to show the last output and the trailer.
const (
	paneDrain   = 30 * time.Second
	viewerDrain = 2 * time.Second
)

// wantsRestart applies the restart policy to a finished run.
func (s *supervisor) wantsRestart(ex *tasks.Exit, restarts int) bool {
	if s.stopping || fileExists(s.store.Path(s.spec.ID, tasks.StopFile)) {
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
// meanwhile (a termination signal, or bgmux stop's marker file). A
// restart asked through the control socket ends the wait at once.
func (s *supervisor) pause(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-timer.C:
			return !fileExists(s.store.Path(s.spec.ID, tasks.StopFile))
		case ask := <-s.restarts:
			s.asked = ask
			return true
		case pid := <-s.detaches:
			s.markDetached(pid)
		case sig := <-s.sigs:
			switch sig {
			case syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT:
				return false
			}
			s.otherSignal(sig)
		case <-tick.C:
			if fileExists(s.store.Path(s.spec.ID, tasks.StopFile)) {
				return false
			}
		}
	}
}

// otherSignal handles a signal that does not end the task: the pane
// hanging up, or being resized.
func (s *supervisor) otherSignal(sig os.Signal) {
	switch sig {
	case syscall.SIGHUP:
		if s.tty && isTerminal(0) {
			// Sent by hand: a pane that went away is hung up, and its
			// terminal answers nothing any more.
			return
		}
		if !s.paneGone.Swap(true) && s.pane != "" {
			s.markDetached(s.self)
		}
		s.own.closeNow()
	case syscall.SIGWINCH:
		if s.tty && !s.paneGone.Load() {
			if sz, err := pty.GetsizeFull(os.Stdin); err == nil {
				s.resize(sz)
			}
		}
	}
}

// nextRun is the number of the run about to start: one more than the
// current run record's (or the last exit record's). The caller holds the
// record lock, so two supervisors never claim the same number. A run
// record that cannot be read is set aside, never written over.
func (s *supervisor) nextRun() int {
	runPath := s.store.Path(s.spec.ID, tasks.RunFile)
	var prev tasks.Run
	err := tasks.ReadRecord(runPath, &prev)
	if err == nil {
		return prev.Run + 1
	}
	if ce := (*tasks.CorruptError)(nil); errors.As(err, &ce) {
		if dst := fileutil.SetAside(runPath); dst != "" {
			fmt.Fprintf(os.Stderr, "[bgmux] the run record %s; it was set aside as %s\n", ce.Problem(), dst)
		}
	}
	var ex tasks.Exit
	if tasks.ReadRecord(s.store.Path(s.spec.ID, tasks.ExitFile), &ex) == nil {
		return ex.Run + 1
	}
	return 1
}

// ownsRun reports whether the current run record is this supervisor's
// record of run; the caller holds the record lock.
func (s *supervisor) ownsRun(run int) bool {
	var r tasks.Run
	return tasks.ReadRecord(s.store.Path(s.spec.ID, tasks.RunFile), &r) == nil &&
		r.Run == run && r.SupervisorPID == s.self && r.SupervisorStart == s.selfStart
}

// runOnce claims the next run number, starts the child on a terminal
// of its own, records the run, and relays until the child has ended and
// its terminal is drained; it returns how the run ended. It starts
// nothing, and returns false, when the run could not be recorded: a run
// is started and its record written under the record lock. A restart
// asked through the control socket meanwhile ends the run (TERM, then
// KILL after its grace) and is kept in s.asked for the main loop.
func (s *supervisor) runOnce(restarts int) (tasks.Exit, time.Time, bool) {
	argv := s.spec.ChildArgv()
	env := childEnv(s.spec, os.Environ())
	unlock := s.records.Lock()
	locked := true
	defer func() {
		if locked {
			unlock()
		}
	}()
	if s.reserve.Held() == 0 {
		supErrorf("[bgmux] not starting: the file system of state directory %s is full, so the run could not be recorded; free some space and restart the task\n", s.store.Dir)
		return tasks.Exit{}, time.Time{}, false
	}
	runNo := s.nextRun()
	started := time.Now()
	rec := tasks.Run{
		Run: runNo, Restarts: restarts, SupervisorPID: s.self, SupervisorStart: s.selfStart,
		BootID: proc.BootID(), StartedAt: started.UTC(), Pane: s.pane,
	}
	rec.Detached = int(s.detached.Load())
	if s.log != nil {
		// A run starts on a line of its own.
		s.log.EndCutLine()
		rec.LogOffset = s.log.End()
	} else if seg, err := s.store.Log(s.spec.ID).Segments(); err == nil {
		rec.LogOffset = seg.End()
	}
	path, code, lookErr := lookPath(argv[0], env, s.spec.Cwd)
	var cmd *exec.Cmd
	var master *os.File
	if lookErr == nil {
		var err error
		if cmd, master, err = s.startChild(path, argv, env); err != nil {
			lookErr, code = err, 126
			if errors.Is(err, os.ErrNotExist) {
				code = 127
			}
		}
	}
	if lookErr != nil {
		msg := fmt.Sprintf("%s: %v", argv[0], lookErr)
		s.paneNote("bgmux: " + msg + "\r\n")
		if s.writeRun(rec) != nil {
			return tasks.Exit{}, started, false
		}
		s.answerAsked(control.Reply{OK: true, Run: runNo})
		return tasks.Exit{Run: runNo, ExitCode: &code, Error: msg, StartedAt: rec.StartedAt}, started, true
	}
	pgid := cmd.Process.Pid
	rec.PID, rec.PGID, rec.PIDStart = pgid, pgid, proc.Start(pgid)
	drained := make(chan struct{})
	go s.pump(master, drained)
	s.eventStarted(rec)
	if s.writeRun(rec) != nil {
		// A run that cannot be recorded does not go on.
		syscall.Kill(-pgid, syscall.SIGKILL)
		cmd.Wait()
		s.endTerminal(master, drained, pgid)
		supErrorf("[bgmux] the run could not be recorded, so it was stopped\n")
		return tasks.Exit{}, started, false
	}
	unlock()
	locked = false
	s.answerAsked(control.Reply{OK: true, Run: runNo})
	// The supervisor now mostly waits: hand start-up garbage back to the
	// system, so hundreds of live tasks cost little memory, and keep the
	// heap small from here on. (Start-up runs with Go's default GC
	// target, which spares it collections it does not need.)
	trimMemory()
	debug.SetGCPercent(20)

	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	var kill <-chan time.Time
	for waiting := true; waiting; {
		select {
		case sig := <-s.sigs:
			switch sig {
			case syscall.SIGTTOU, syscall.SIGTTIN:
				continue
			case syscall.SIGHUP, syscall.SIGWINCH:
				s.otherSignal(sig)
				continue
			case syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT:
				s.stopping = true
			}
			syscall.Kill(-pgid, sig.(syscall.Signal))
		case ask := <-s.restarts:
			if s.asked != nil {
				// Already ending this run for a restart: answered by it.
				ask.reply <- control.Reply{Error: "busy"}
				continue
			}
			s.asked = ask
			syscall.Kill(-pgid, syscall.SIGTERM)
			kill = time.After(ask.grace)
		case <-kill:
			syscall.Kill(-pgid, syscall.SIGKILL)
		case pid := <-s.detaches:
			s.markDetached(pid)
		case <-done:
			waiting = false
		}
	}
	ex := tasks.Exit{Run: runNo, StartedAt: rec.StartedAt}
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		name := tasks.SignalName(ws.Signal())
		ex.Signal = &name
	} else {
		c := ws.ExitStatus()
		ex.ExitCode = &c
	}
	s.endTerminal(master, drained, pgid)
	return ex, started, true
}

// markDetached records that the task's window, whose pane's process was
// pid, went away while the task runs on: status then no longer names its
// ids (see tasks.Run.Detached). Only the main loop calls it.
func (s *supervisor) markDetached(pid int) {
	s.detached.Store(int64(pid))
	unlock := s.records.Lock()
	defer unlock()
	var r tasks.Run
	path := s.store.Path(s.spec.ID, tasks.RunFile)
	if tasks.ReadRecord(path, &r) != nil || r.SupervisorPID != s.self || r.SupervisorStart != s.selfStart {
		return
	}
	r.Detached = pid
	s.writeRecord(tasks.RunFile, r, 0)
}

// drainAfterHangup bounds how long the supervisor waits, after the
// child ended and what it left in its process group was hung up, for
// the rest of the run's output: a process that ignores the hangup and
// keeps the terminal open does not hold the exit record back forever.
const drainAfterHangup = 2 * time.Second

// startChild starts argv on a new terminal, sized like the pane: the
// child leads a session of its own, with the terminal as its controlling
// terminal and its process group in the foreground.
func (s *supervisor) startChild(path string, argv, env []string) (*exec.Cmd, *os.File, error) {
	master, tty, err := openPTY()
	if err != nil {
		return nil, nil, fmt.Errorf("cannot open a terminal: %w", err)
	}
	s.ptyMu.Lock()
	size := s.size
	s.ptyMu.Unlock()
	if size != nil {
		setWinsize(master, size)
	}
	cmd := &exec.Cmd{Path: path, Args: argv, Env: env, Dir: s.spec.Cwd, Stdin: tty, Stdout: tty, Stderr: tty}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	err = cmd.Start()
	// The child has the terminal now: the supervisor keeps only the
	// master, so that the end of the child (and of whatever it left
	// holding the terminal) reads as the end of the output.
	tty.Close()
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	s.ptyMu.Lock()
	s.master = master
	s.ptyMu.Unlock()
	return cmd, master, nil
}

// pump reads the run's terminal until it ends: every byte goes to the
// log first, then to the panes.
func (s *supervisor) pump(master *os.File, drained chan struct{}) {
	defer close(drained)
	buf := make([]byte, 64<<10)
	for {
		n, err := master.Read(buf)
		if n > 0 {
			if s.log != nil {
				s.log.Append(buf[:n])
			}
			s.fan.write(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

// endTerminal ends the run's terminal once its child has ended: like a
// terminal that closes, it hangs up what the child left in its process
// group, then waits until all output is read (every process holding the
// terminal closed it), at most drainAfterHangup after the hangup.
func (s *supervisor) endTerminal(master *os.File, drained chan struct{}, pgid int) {
	select {
	case <-drained:
	case <-time.After(50 * time.Millisecond):
		if proc.GroupAlive(pgid) {
			syscall.Kill(-pgid, syscall.SIGHUP)
		}
		select {
		case <-drained:
		case <-time.After(drainAfterHangup):
		}
	}
	s.ptyMu.Lock()
	s.master = nil
	s.ptyMu.Unlock()
	master.Close()
	<-drained
}

func (s *supervisor) writeRun(rec tasks.Run) error {
	err := s.writeRecord(tasks.RunFile, rec, 0)
	if err != nil {
		supErrorf("[bgmux] cannot write run record: %v\n", err)
	}
	if err == nil && s.claimed != nil {
		s.claimed()
	}
	return err
}

// writeRecord writes one of the task's sidecars, using the disk reserve
// (down to floor bytes) when the disk is full.
func (s *supervisor) writeRecord(file string, v any, floor int64) error {
	return tasks.WriteJSONReserved(s.store.Path(s.spec.ID, file), v, s.reserve, floor)
}

// record sets ex.EndedAt, shows the trailer in the panes (never in the
// log: the run's terminal is drained already, so the exit record means
// the log is complete), then writes the logloss sidecar (when output was
// lost), adds the run to the history and writes the exit sidecar, using
// the disk reserve if the disk is full. It returns false when the task's
// current run is no longer this supervisor's: nothing is recorded then.
func (s *supervisor) record(ex *tasks.Exit, started time.Time, restartIn time.Duration) bool {
	ex.EndedAt = time.Now().UTC()
	trailer := "[bgmux] " + tasks.DescribeExit(ex, ex.EndedAt.Sub(started))
	if ex.NextRestartAt != nil {
		trailer += "; restarting in " + tasks.RoundDuration(restartIn)
	}
	lead := "\r\n"
	if s.log != nil && s.log.EndsLine() {
		lead = ""
	}
	s.paneNote(lead + trailer + "\r\n")
	s.lastTrailer = trailer
	if s.log != nil {
		// Space freed from the reserve goes to the records, not to
		// output waiting to be written; and the record of output lost
		// is final before the exit record says the run is over.
		s.log.Hold(true)
		defer s.log.Hold(false)
		s.log.FlushLoss(true)
	}
	return s.recordExit(*ex, true)
}

// paneNote shows out (the supervisor's own words, not the task's
// output) in the panes, after the output they were given so far.
func (s *supervisor) paneNote(out string) {
	s.fan.each(func(p *paneSink) { p.pushNote(out) })
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
func (s *supervisor) recordExit(ex tasks.Exit, history bool) bool {
	deadline := time.Now().Add(exitRecordRetry)
	delay := 100 * time.Millisecond
	histDone, failing := !history, false
	for {
		own := true
		var err error
		unlock := s.records.Lock()
		if !s.ownsRun(ex.Run) {
			own = false
		} else if !histDone {
			if hist, ok := tasks.ReadHistory(s.store.Path(s.spec.ID, tasks.HistoryFile)); !ok {
				supErrorf("[bgmux] the run history cannot be read or set aside; it is left as it is\n")
				histDone = true
			} else if err = s.writeRecord(tasks.HistoryFile, tasks.AppendHistory(hist, ex), 0); err == nil {
				histDone = true
			} else {
				err = fmt.Errorf("cannot write run history: %w", err)
			}
		}
		if own && histDone {
			if err = s.writeRecord(tasks.ExitFile, ex, 0); err != nil {
				err = fmt.Errorf("cannot write exit record: %w", err)
			}
		}
		unlock()
		switch {
		case !own:
			s.superseded = true
			supErrorf("[bgmux] run %d is no longer this window's (the task was restarted or removed meanwhile): its end is not recorded\n", ex.Run)
			return false
		case err == nil:
			if failing {
				supErrorf("[bgmux] exit record written\n")
			}
			return true
		case time.Now().After(deadline):
			supErrorf("[bgmux] %v; gave up after %v\n", err, exitRecordRetry)
			return true
		case !failing:
			supErrorf("[bgmux] %v; trying again for up to %v\n", err, exitRecordRetry)
			failing = true
		}
		time.Sleep(delay)
		delay = min(2*delay, 5*time.Second)
	}
}

// childEnv is the child's environment: the starting client's environment,
// the pane's terminal variables, the task's --env values, then the
// BGMUX_* variables naming the task.
func childEnv(spec *tasks.Spec, own []string) []string {
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
	slices.Sort(keys)
	for _, k := range keys {
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
