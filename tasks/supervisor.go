package tasks

import (
	"context"
	"errors"
	"fmt"
	"io"
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
// window: bgmux __supervise --state-dir DIR ID.
const SuperviseCommand = "__supervise"

// forwarded are the signals the supervisor passes on to the child's
// process group. Terminal-generated signals (Ctrl-C, window resize) reach
// the child directly because it is the terminal's foreground group.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// Supervise runs task id from the store at stateDir as the window's
// command: it starts the child in its own process group as the terminal's
// foreground group, forwards signals, writes the run and exit sidecars,
// prints a trailer line and returns the child's status (128+n for signal
// n) as its own exit status.
func Supervise(stateDir, id string) int {
	debug.SetGCPercent(20)
	st := OpenStore(stateDir)
	var spec Spec
	if err := readJSON(st.Path(id, SpecFile), &spec); err != nil {
		fmt.Fprintf(os.Stderr, "[bgmux] cannot read task %s: %v\n", id, err)
		return 125
	}
	sup := &supervisor{store: st, spec: &spec, out: os.Stdout}
	return sup.run()
}

type supervisor struct {
	store *Store
	spec  *Spec
	out   io.Writer
}

func (s *supervisor) run() int {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwarded...)
	signal.Notify(sigs, syscall.SIGTTOU, syscall.SIGTTIN)

	runNo := 1
	var prev Run
	if readJSON(s.store.Path(s.spec.ID, RunFile), &prev) == nil {
		runNo = prev.Run + 1
	}
	argv := s.spec.ChildArgv()
	env := childEnv(s.spec, os.Environ())
	started := time.Now()
	self := os.Getpid()
	rec := Run{
		Run: runNo, SupervisorPID: self, SupervisorStart: procStart(self),
		BootID: BootID(), StartedAt: started.UTC(), Pane: os.Getenv("TMUX_PANE"),
	}
	if seg, err := s.store.logSegments(s.spec.ID); err == nil {
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
		if err := writeJSON(s.store.Path(s.spec.ID, RunFile), rec); err != nil {
			fmt.Fprintf(os.Stderr, "[bgmux] cannot write run record: %v\n", err)
		}
		return s.finish(rec, Exit{Run: runNo, ExitCode: &code, Error: msg}, started)
	}
	pgid := cmd.Process.Pid
	rec.PID, rec.PGID, rec.PIDStart = pgid, pgid, procStart(pgid)
	if err := writeJSON(s.store.Path(s.spec.ID, RunFile), rec); err != nil {
		fmt.Fprintf(os.Stderr, "[bgmux] cannot write run record: %v\n", err)
	}

	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGTTOU || sig == syscall.SIGTTIN {
				continue
			}
			syscall.Kill(-pgid, sig.(syscall.Signal))
			continue
		case <-done:
		}
		break
	}
	ex := Exit{Run: runNo}
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
	return s.finish(rec, ex, started)
}

// finish prints the trailer, waits until it has reached the log (so that
// an exit record means the log is complete), writes the exit sidecar and
// closes the pane's output pipe.
func (s *supervisor) finish(rec Run, ex Exit, started time.Time) int {
	ex.EndedAt = time.Now().UTC()
	trailer := "[bgmux] " + describeExit(&ex, ex.EndedAt.Sub(started))
	logPath := s.store.Path(s.spec.ID, LogFile)
	_, werr := fmt.Fprintf(s.out, "\n%s\n", trailer)
	// A failed write means the pane is gone (its tmux server died): the
	// trailer will never reach the log, so do not wait for it.
	if rec.Pane != "" && werr == nil {
		waitLogged(logPath, trailer)
	}
	if err := writeJSON(s.store.Path(s.spec.ID, ExitFile), ex); err != nil {
		fmt.Fprintf(os.Stderr, "[bgmux] cannot write exit record: %v\n", err)
	}
	if rec.Pane != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		tmuxctl.New(s.spec.Socket).ClosePipe(ctx, rec.Pane)
		cancel()
	}
	return ex.StatusCode()
}

// waitLogged waits until the log ends with line, giving up when the log
// has not grown for two seconds (no pipe, or a full disk).
func waitLogged(path, line string) {
	want := []byte(line)
	lastSize, lastGrowth := int64(-1), time.Now()
	delay := time.Millisecond
	for time.Since(lastGrowth) < 2*time.Second {
		if st, err := os.Stat(path); err == nil {
			if st.Size() != lastSize {
				lastSize, lastGrowth = st.Size(), time.Now()
				if tailContains(path, st.Size(), want) {
					return
				}
			}
		}
		time.Sleep(delay)
		if delay < 20*time.Millisecond {
			delay *= 2
		}
	}
}

func tailContains(path string, size int64, want []byte) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	n := int64(len(want) + 16)
	if n > size {
		n = size
	}
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, size-n); err != nil && err != io.EOF {
		return false
	}
	return strings.Contains(string(buf), string(want))
}

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
