package tests

// Adversarial tests of issue 13 (the supervisor owns the task's
// terminal), written by the audit13 review. Each names the bug it found
// or the property it checks.

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// audit13TermTrap is a task that handles SIGTERM without ending (it says
// so in its log) and runs until SIGKILL.
const audit13TermTrap = `trap 'echo got-term' TERM; echo up; while :; do sleep 0.05; done`

// audit13Terms counts the "got-term" lines of ref's log.
func audit13Terms(e *env, ref string) int {
	return strings.Count(e.must("logs", ref), "got-term")
}

// TestAudit13StopDuringSocketRestart: bgmux stop while a bgmux restart
// (through the control socket) is waiting for the old run to end. The
// stop is the later request, and it returns 0: the task must end
// stopped. On the code under audit the supervisor carries out the
// restart anyway (an asked restart overrides the stop marker), so stop
// returns with the task running a new run.
func TestAudit13StopDuringSocketRestart(t *testing.T) {
	e := newEnv(t)
	e.useConfig("stop_grace: 10s\n") // the grace outlasts the test's steps, however slow
	tk := e.start("--name", "trap", "--", audit13TermTrap)
	e.waitLog(tk.ID, "up", 20*time.Second)
	restarted := make(chan result, 1)
	go func() {
		r, _ := auditRunWithin(e, time.Minute, "restart", "--json", tk.ID)
		restarted <- r
	}()
	// The restart's TERM reached the task: it is in its grace period.
	if !poll(20*time.Second, func() bool { return audit13Terms(e, tk.ID) >= 1 }) {
		t.Fatal("the restart never sent SIGTERM to the task")
	}
	stop := e.run("stop", tk.ID)
	if stop.Code != 0 {
		t.Fatalf("stop: exit %d: %s %s", stop.Code, stop.Out, stop.Err)
	}
	r := <-restarted
	t.Logf("restart during the stop: exit %d %s %s", r.Code, strings.TrimSpace(r.Out), strings.TrimSpace(r.Err))
	// Whatever the restart says, after a stop that returned 0 the task
	// is finished and stays finished.
	st := e.status(tk.ID)
	if st.State == "running" || st.State == "starting" || st.State == "restarting" {
		t.Fatalf("bgmux stop returned 0 during a restart, yet the task is %s: the restart started a new run after the stop", ptyDesc(st))
	}
}

// TestAudit13TermSupervisorDuringRestart: kill -TERM of the supervisor
// ends the task with the restart policy off. Sent while a socket restart
// waits for the old run to end, the TERM is lost: the supervisor starts
// the new run anyway.
func TestAudit13TermSupervisorDuringRestart(t *testing.T) {
	e := newEnv(t)
	e.useConfig("stop_grace: 10s\n") // the grace outlasts the test's steps, however slow
	tk := e.start("--name", "trap", "--", audit13TermTrap)
	e.waitLog(tk.ID, "up", 20*time.Second)
	var run ptyRun
	scReadSidecar(t, e, tk.ID, "run", &run)
	restarted := make(chan result, 1)
	go func() {
		r, _ := auditRunWithin(e, time.Minute, "restart", "--json", tk.ID)
		restarted <- r
	}()
	if !poll(20*time.Second, func() bool { return audit13Terms(e, tk.ID) >= 1 }) {
		t.Fatal("the restart never sent SIGTERM to the task")
	}
	if err := syscall.Kill(run.SupervisorPID, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := <-restarted
	t.Logf("restart: exit %d %s %s", r.Code, strings.TrimSpace(r.Out), strings.TrimSpace(r.Err))
	if !poll(15*time.Second, func() bool { return !pidAlive(run.SupervisorPID) }) {
		st := e.status(tk.ID)
		t.Fatalf("kill -TERM of the supervisor during a restart: the supervisor lives on, task %s", ptyDesc(st))
	}
}

// TestAudit13PaneResumesWithoutNewline: after the pane fell behind (tmux
// stopped) and the oldest bytes were dropped, the pane must show the
// task's later output (and the "not shown here" note) once tmux
// resumes. On the code under audit the pane sink skips everything up to
// the next line break after a drop: output without one (a progress bar
// redrawn with \r, a full-screen program) is never shown again, nor is
// the note.
func TestAudit13PaneResumesWithoutNewline(t *testing.T) {
	e := newEnv(t)
	tk := e.start("--name", "bar", "--", ptyGate("go")+`head -c 600000 /dev/zero | tr '\0' x; printf '\rDONE-MARK'; sleep 1000`)
	_, resume := auditStopServer(t, e)
	ptyOpen(t, e, "go")
	if !poll(20*time.Second, func() bool { return strings.Contains(string(ptyRaw(t, e, tk.ID)), "DONE-MARK") }) {
		t.Fatal("the task's output never reached its log with tmux stopped")
	}
	resume()
	var shown string
	if !poll(10*time.Second, func() bool {
		shown = strings.Join(ptyScreen(e, tk.ID), "\n")
		return strings.Contains(shown, "DONE-MARK") && strings.Contains(shown, "not shown here")
	}) {
		t.Fatalf("tmux resumed, but the pane never showed the task's last output (DONE-MARK) and the note of what it dropped; it shows:\n%.2000s", shown)
	}
}

// TestAudit13HupKeepsPane: kill -HUP of the supervisor (by a person; its
// pane is still there) does not end the task, and must not leave the
// task's window frozen either. On the code under audit a SIGHUP is taken
// for the pane having gone: the pane stops showing output for good.
func TestAudit13HupKeepsPane(t *testing.T) {
	e := newEnv(t)
	tk := e.start("--name", "tick", "--", ptyTicker)
	e.waitLog(tk.ID, "tick 3\n", 20*time.Second)
	var run ptyRun
	scReadSidecar(t, e, tk.ID, "run", &run)
	if err := syscall.Kill(run.SupervisorPID, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	seen := ptyCounter(t, e, tk.ID)
	if st := e.status(tk.ID); st.State != "running" || st.Runs != 1 {
		t.Fatalf("after kill -HUP of the supervisor: %s, want still running run 1", ptyDesc(st))
	}
	ptyWaitScreen(t, e, tk.ID, "a tick later than the HUP", func(lines []string) bool {
		ticks := ptyTicks(strings.Join(lines, "\n"))
		return len(ticks) > 0 && ticks[len(ticks)-1] > seen+5
	})
}

// TestAudit13TmuxStoppedSupervisorExits: with the tmux server stopped, a
// task that ends has its exit recorded at once, and its supervisor ends
// within a few seconds (it holds nothing a person needs any more).
// Measured 5.1s: finish's last window mark waits out its 5s tmux
// timeout; the bound is that plus finish's 3s for the panes.
func TestAudit13TmuxStoppedSupervisorExits(t *testing.T) {
	e := newEnv(t)
	tk := e.start("--name", "end", "--", ptyGate("go")+"echo bye; exit 3")
	var run ptyRun
	scReadSidecar(t, e, tk.ID, "run", &run)
	auditStopServer(t, e)
	ptyOpen(t, e, "go")
	began := time.Now()
	if !poll(10*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(e.State, "tasks", tk.ID, "exit"))
		return err == nil
	}) {
		t.Fatal("no exit record with tmux stopped")
	}
	recorded := time.Since(began)
	if !poll(30*time.Second, func() bool { return !pidAlive(run.SupervisorPID) }) {
		t.Fatal("the supervisor never ended with tmux stopped")
	}
	took := time.Since(began)
	t.Logf("exit recorded after %v, supervisor gone after %v", recorded, took)
	if took > 9*time.Second {
		t.Fatalf("with tmux stopped the supervisor took %v to end after its task did (exit recorded after %v)", took, recorded)
	}
}

// audit13Onlcr is what a terminal with onlcr makes of b.
func audit13Onlcr(b []byte) []byte {
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}

// TestAudit13ExactRandomBytes: 1 MB of random bytes cat'ed by the task
// (which exits at once, its output still in the terminal's buffers):
// logs --raw is exactly the bytes with \n made \r\n, and the exit record
// is written only after all of it is in the log.
func TestAudit13ExactRandomBytes(t *testing.T) {
	e := newEnv(t)
	ref := make([]byte, 1<<20)
	rand.Read(ref)
	// Terminal answers to sequences in the output would be typed into
	// the task's terminal by tmux; termreply drops them. Keep ESC out so
	// the reference is what the task wrote whatever tmux answers.
	ref = bytes.ReplaceAll(ref, []byte{0x1b}, []byte{'E'})
	if err := os.WriteFile(filepath.Join(e.Dir, "ref.bin"), ref, 0o600); err != nil {
		t.Fatal(err)
	}
	tk := e.start("--name", "rnd", "--", "stty -icanon -echo -isig -ixon; cat ref.bin")
	e.waitFinished(tk.ID)
	got := ptyRaw(t, e, tk.ID)
	ptySame(t, "logs --raw of 1 MB of random bytes", got, audit13Onlcr(ref))
}

// TestAudit13HolderAndDaemon: the child ends while a background process
// that ignores SIGHUP, and a daemon that setsid'ed away (before the child
// ended: otherwise the session leader's exit hangs it up, as on any
// terminal), still hold the
// terminal and print a moment later: both lines are in the log when the
// exit record is written. A daemon that holds the terminal for good
// delays the exit record by at most the bounded drain.
func TestAudit13HolderAndDaemon(t *testing.T) {
	e := newEnv(t)
	tk := e.start("--name", "hold", "--", `(trap '' HUP; sleep 0.3; echo holder-late) & setsid sh -c ': > sid; sleep 0.4; echo daemon-late' & while [ ! -e sid ]; do sleep 0.01; done; echo main-done`)
	e.waitFinished(tk.ID)
	log := e.must("logs", tk.ID)
	for _, want := range []string{"main-done", "holder-late", "daemon-late"} {
		if !strings.Contains(log, want) {
			t.Fatalf("exit recorded, but the log lacks %q:\n%s", want, log)
		}
	}
	tk2 := e.start("--name", "daemon", "--", `setsid sh -c 'echo $$ > sid2.tmp; mv sid2.tmp sid2; exec sleep 300' & while [ ! -e sid2 ]; do sleep 0.01; done; echo main-done`)
	t.Cleanup(func() {
		// The daemon is in a session of its own: the harness's reap
		// does not reach it.
		if b, err := os.ReadFile(filepath.Join(e.Dir, "sid2")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	began := time.Now()
	e.waitFinished(tk2.ID)
	t.Logf("exit of a task whose setsid daemon holds the terminal recorded after %v", time.Since(began))
	if d := time.Since(began); d > 6*time.Second {
		t.Fatalf("a setsid daemon holding the terminal held the exit record back %v", d)
	}
}

// TestAudit13RotationFlood: 4 MB of lines into a log limited to 1 MB:
// what logs --raw returns is a suffix of what the terminal produced,
// starting at a line, and nothing is duplicated.
func TestAudit13RotationFlood(t *testing.T) {
	e := newEnv(t)
	tk := e.start("--name", "rot", "--max-log-size", "1MB", "--", "seq 1 500000; echo END")
	e.waitFinished(tk.ID)
	got := ptyRaw(t, e, tk.ID)
	want := ptySeq(500000)
	if len(got) == 0 || !bytes.HasSuffix(want, got) {
		i := len(got) - 1
		for i >= 0 && len(want)-len(got)+i >= 0 && got[i] == want[len(want)-len(got)+i] {
			i--
		}
		t.Fatalf("logs --raw after rotations (%d bytes) is not a suffix of the terminal's output (%d bytes); first difference from the end at byte %d", len(got), len(want), i)
	}
	if off := len(want) - len(got); off > 0 && want[off-1] != '\n' {
		t.Fatalf("logs --raw after rotations begins mid-line: %q", got[:min(40, len(got))])
	}
}

// audit13LongEnv is an env whose state dir is long enough that the
// control socket's path exceeds a sockaddr_un's 108 bytes.
func audit13LongEnv(t *testing.T) *env {
	e := newEnv(t)
	e.State = filepath.Join(e.State, strings.Repeat("d", 100))
	return e
}

// TestAudit13LongStateDir: with a state dir whose control socket path is
// over 108 bytes, restart goes through the socket (same supervisor),
// send reaches a windowless task, and attach gives it a viewer window
// that shows its output.
func TestAudit13LongStateDir(t *testing.T) {
	e := audit13LongEnv(t)
	tk := e.start("--name", "echo", "--", ptyEcho)
	sock := filepath.Join(e.State, "tasks", tk.ID, "control.sock")
	if len(sock) <= 108 {
		t.Fatalf("socket path %d bytes: not long enough for the test", len(sock))
	}
	e.waitLog(tk.ID, "tick 2\n", 20*time.Second)
	var first, second ptyRun
	scReadSidecar(t, e, tk.ID, "run", &first)
	e.must("restart", tk.ID)
	scReadSidecar(t, e, tk.ID, "run", &second)
	if second.Run != first.Run+1 || second.SupervisorPID != first.SupervisorPID {
		t.Fatalf("restart with a %d-byte socket path: run %d supervisor %d, then run %d supervisor %d; want the same supervisor (through its socket)", len(sock), first.Run, first.SupervisorPID, second.Run, second.SupervisorPID)
	}
	ptyKillServer(t, e)
	e.must("send", tk.ID, "hello-long")
	e.waitLog(tk.ID, "got:hello-long", 10*time.Second)
	ptyWindow(t, e, tk.ID)
	ticks := ptyTicks(e.must("logs", tk.ID))
	seen := ticks[len(ticks)-1]
	ptyWaitScreen(t, e, tk.ID, "a later tick in the viewer", func(lines []string) bool {
		ticks := ptyTicks(strings.Join(lines, "\n"))
		return len(ticks) > 0 && ticks[len(ticks)-1] > seen
	})
}

// TestAudit13StaleSocket: a SIGKILLed supervisor leaves its control.sock
// behind; the next restart still works (a new supervisor, which replaces
// the stale socket and answers on it).
func TestAudit13StaleSocket(t *testing.T) {
	e := newEnv(t)
	tk := e.start("--name", "tick", "--", ptyTicker)
	e.waitLog(tk.ID, "tick 2\n", 20*time.Second)
	var first ptyRun
	scReadSidecar(t, e, tk.ID, "run", &first)
	syscall.Kill(first.SupervisorPID, syscall.SIGKILL)
	e.waitState(tk.ID, 10*time.Second, func(s task) bool { return s.State == "lost" })
	sock := filepath.Join(e.State, "tasks", tk.ID, "control.sock")
	if _, err := os.Stat(sock); err != nil {
		t.Logf("no stale socket left: %v", err)
	}
	e.must("restart", tk.ID)
	st := e.waitState(tk.ID, 20*time.Second, func(s task) bool { return s.State == "running" })
	var second ptyRun
	scReadSidecar(t, e, tk.ID, "run", &second)
	if second.SupervisorPID == first.SupervisorPID || st.Runs != 2 {
		t.Fatalf("restart after a SIGKILLed supervisor: %s, supervisor %d", ptyDesc(st), second.SupervisorPID)
	}
	e.must("restart", tk.ID)
	var third ptyRun
	scReadSidecar(t, e, tk.ID, "run", &third)
	if third.SupervisorPID != second.SupervisorPID || third.Run != 3 {
		t.Fatalf("second restart did not go through the new supervisor's socket: run %d supervisor %d, before %d", third.Run, third.SupervisorPID, second.SupervisorPID)
	}
}

// audit13Dial connects to ref's control socket.
func audit13Dial(t *testing.T, e *env, id string) net.Conn {
	t.Helper()
	c, err := net.Dial("unix", filepath.Join(e.State, "tasks", id, "control.sock"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestAudit13SocketGarbage: garbage, a line of 4 MB without a newline,
// a connection that never says anything and an unknown op on the
// control socket leave the task and its supervisor unaffected: the task
// runs on, and an input request and a restart still work.
func TestAudit13SocketGarbage(t *testing.T) {
	e := newEnv(t)
	tk := e.start("--name", "echo", "--", ptyEcho)
	e.waitLog(tk.ID, "tick 2\n", 20*time.Second)
	silent := audit13Dial(t, e, tk.ID)
	_ = silent
	g := audit13Dial(t, e, tk.ID)
	g.Write([]byte("\x00\xff{not json\n"))
	huge := audit13Dial(t, e, tk.ID)
	go huge.Write(bytes.Repeat([]byte("a"), 4<<20))
	u := audit13Dial(t, e, tk.ID)
	fmt.Fprintf(u, `{"op":"frobnicate"}`+"\n")
	u.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := bufio.NewReader(u).ReadString('\n')
	if !strings.Contains(line, "unknown op") {
		t.Fatalf("unknown op answered %q", line)
	}
	in := audit13Dial(t, e, tk.ID)
	fmt.Fprintf(in, `{"op":"input","data":"%s"}`+"\n", base64.StdEncoding.EncodeToString([]byte("via-socket\r")))
	e.waitLog(tk.ID, "got:via-socket", 10*time.Second)
	var first, second ptyRun
	scReadSidecar(t, e, tk.ID, "run", &first)
	e.must("restart", tk.ID)
	scReadSidecar(t, e, tk.ID, "run", &second)
	if second.SupervisorPID != first.SupervisorPID || second.Run != first.Run+1 {
		t.Fatalf("restart after garbage on the socket: run %d supervisor %d, before run %d supervisor %d", second.Run, second.SupervisorPID, first.Run, first.SupervisorPID)
	}
}

// TestAudit13OtherUser: another user can neither reach the control
// socket (its mode is 0600) nor, should its mode be widened, type into
// the task through it (the supervisor checks the peer's uid).
func TestAudit13OtherUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a client as another uid")
	}
	e := newEnv(t)
	tk := e.start("--name", "echo", "--", ptyEcho)
	e.waitLog(tk.ID, "tick 2\n", 20*time.Second)
	sock := filepath.Join(e.State, "tasks", tk.ID, "control.sock")
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control socket: %v mode %v, want 0600", err, fi.Mode())
	}
	// Widen every directory on the way and the socket, as a careless
	// umask or chmod would: only the uid check is left.
	for d := sock; d != "/" && d != "."; d = filepath.Dir(d) {
		os.Chmod(d, 0o777)
	}
	script := `import socket,sys,base64
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b'{"op":"input","data":"'+base64.b64encode(b"intruder\r")+b'"}\n')
s.settimeout(3)
try: print(s.recv(100))
except Exception as e: print("no answer", e)`
	cmd := exec.Command("/usr/bin/python3", "-c", script, sock)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	t.Logf("client as uid 65534: %v %s", err, out)
	e.waitLog(tk.ID, "tick 20\n", 20*time.Second)
	if strings.Contains(e.must("logs", tk.ID), "got:intruder") {
		t.Fatal("another user typed into the task through its control socket")
	}
}

// audit13Viewers lists the pids of live bgmux __view processes of e.
func audit13Viewers(e *env) []int {
	var pids []int
	for _, p := range ptyProcs() {
		if p.Comm == "bgmux" && bytes.Contains(p.Cmdline, []byte("__view\x00")) && bytes.Contains(p.Cmdline, []byte(e.State)) {
			pids = append(pids, p.PID)
		}
	}
	return pids
}

// audit13Bgmux lists the live bgmux processes of e (supervisors,
// viewers; a tmux server's command line may name the state dir too).
func audit13Bgmux(e *env) []string {
	var out []string
	for _, p := range ptyProcs() {
		if p.Comm == "bgmux" && bytes.Contains(p.Cmdline, []byte(e.State)) {
			out = append(out, fmt.Sprintf("%d %q", p.PID, p.Cmdline))
		}
	}
	return out
}

// audit13Capture is what tmux shows in target now.
func audit13Capture(e *env, target string) string {
	out, _ := e.tmux("capture-pane", "-p", "-J", "-t", target)
	return out
}

// TestAudit13TwoViewers: after kill-server, two viewers of one task at
// once; one is stopped (SIGSTOP: it never reads), the other SIGKILLed in
// the middle of a 300,000-line flood. The flood is not held up, the log
// holds exactly what the terminal produced, the stopped viewer catches
// up when continued, and after stop nothing of bgmux's is left running.
func TestAudit13TwoViewers(t *testing.T) {
	e := newEnv(t)
	tk := e.start("--name", "flood", "--", "echo ready; "+ptyGate("go")+"seq 1 300000; echo END; exec sleep 1000")
	e.waitLog(tk.ID, "ready", 20*time.Second)
	ptyKillServer(t, e)
	winA := ptyWindow(t, e, tk.ID)
	out, err := e.tmux("new-window", "-d", "-P", "-F", "#{window_id}", "--", bgmuxBin, "__view", "--state-dir", e.State, tk.ID)
	if err != nil {
		t.Fatalf("second viewer window: %v %s", err, out)
	}
	winB := strings.TrimSpace(out)
	if !poll(20*time.Second, func() bool {
		return strings.Contains(audit13Capture(e, winA), "ready") && strings.Contains(audit13Capture(e, winB), "ready")
	}) {
		t.Fatalf("the viewers never showed the recent output: A %q B %q", audit13Capture(e, winA), audit13Capture(e, winB))
	}
	viewers := audit13Viewers(e)
	if len(viewers) != 2 {
		t.Fatalf("want 2 viewer processes, found %v", viewers)
	}
	pidOf := func(win string) int {
		out, _ := e.tmux("display-message", "-p", "-t", win, "#{pane_pid}")
		pid, _ := strconv.Atoi(strings.TrimSpace(out))
		return pid
	}
	stopped, killed := pidOf(winA), pidOf(winB)
	syscall.Kill(stopped, syscall.SIGSTOP)
	t.Cleanup(func() { syscall.Kill(stopped, syscall.SIGCONT) })
	began := time.Now()
	ptyOpen(t, e, "go")
	e.waitLog(tk.ID, "\n1000\n", 20*time.Second)
	syscall.Kill(killed, syscall.SIGKILL)
	e.waitLog(tk.ID, "END", 60*time.Second)
	t.Logf("300,000 lines with one viewer stopped and one killed midway: %v", time.Since(began))
	want := append([]byte("ready\r\n"), ptySeq(300000)...)
	ptySame(t, "logs --raw with two viewers", ptyRaw(t, e, tk.ID), want)
	if st := e.status(tk.ID); st.State != "running" || st.Runs != 1 {
		t.Fatalf("after the viewers: %s", ptyDesc(st))
	}
	syscall.Kill(stopped, syscall.SIGCONT)
	if !poll(20*time.Second, func() bool {
		c := audit13Capture(e, winA)
		return strings.Contains(c, "END") || strings.Contains(c, "not shown here")
	}) {
		t.Fatalf("the continued viewer never caught up: %q", audit13Capture(e, winA))
	}
	e.must("stop", tk.ID)
	st := e.waitFinished(tk.ID)
	if st.State != "killed" || st.Signal == nil || *st.Signal != "SIGTERM" {
		t.Fatalf("stop: %s", ptyDesc(st))
	}
	if !poll(10*time.Second, func() bool { return len(audit13Bgmux(e)) == 0 }) {
		t.Fatalf("after stop, bgmux processes are left: %v", audit13Bgmux(e))
	}
}

// TestAudit13NoLeftovers: kill-server then stop, and stop then rm of a
// task with a viewer window, leave no bgmux process running.
func TestAudit13NoLeftovers(t *testing.T) {
	e := newEnv(t)
	a := e.start("--name", "a", "--", ptyTicker)
	b := e.start("--name", "b", "--", ptyTicker)
	e.waitLog(a.ID, "tick 2\n", 20*time.Second)
	e.waitLog(b.ID, "tick 2\n", 20*time.Second)
	ptyKillServer(t, e)
	e.must("stop", a.ID)
	ptyWindow(t, e, b.ID)
	if !poll(10*time.Second, func() bool { return len(audit13Viewers(e)) == 1 }) {
		t.Fatalf("viewer of b not running: %v", audit13Viewers(e))
	}
	e.must("stop", b.ID)
	e.must("rm", a.ID, b.ID)
	if !poll(10*time.Second, func() bool { return len(audit13Bgmux(e)) == 0 }) {
		t.Fatalf("after stop and rm, bgmux processes are left: %v", audit13Bgmux(e))
	}
}

// audit13GoRunCopy puts a copy of the binary under test where go run
// puts its build (a go-build directory) and returns its path and a
// function that deletes it, as go run does when it exits.
func audit13GoRunCopy(t *testing.T) (string, func()) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "go-build123", "b001", "exe")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(bgmuxBin)
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "bgmux")
	if err := os.WriteFile(exe, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return exe, func() { os.RemoveAll(filepath.Dir(filepath.Dir(dir))) }
}

// audit13RunExe runs exe (a bgmux binary) with args in e's world.
func audit13RunExe(t *testing.T, e *env, exe string, args ...string) string {
	t.Helper()
	cmd := exec.Command(exe, args...)
	cmd.Dir, cmd.Env = e.Dir, e.Environ()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", exe, args, err, out)
	}
	return string(out)
}

// TestAudit13GoRunViewer: a task started by a go run binary (deleted
// when go run exits) survives kill-server, and a later go run's attach
// gives it a viewer window (the copy in $STATE/bin) that shows its live
// output; restart still goes through the same supervisor.
func TestAudit13GoRunViewer(t *testing.T) {
	e := newEnv(t)
	exe, remove := audit13GoRunCopy(t)
	out := audit13RunExe(t, e, exe, "start", "--json", "--name", "tick", "--", ptyTicker)
	remove()
	var tk task
	if err := json.Unmarshal([]byte(out), &tk); err != nil {
		t.Fatal(err)
	}
	e.waitLog(tk.ID, "tick 2\n", 20*time.Second)
	ptyKillServer(t, e)
	exe2, remove2 := audit13GoRunCopy(t)
	audit13RunExe(t, e, exe2, "attach", "--print", tk.ID)
	remove2()
	ticks := ptyTicks(e.must("logs", tk.ID))
	seen := ticks[len(ticks)-1]
	ptyWaitScreen(t, e, tk.ID, "a later tick in the go run viewer", func(lines []string) bool {
		ticks := ptyTicks(strings.Join(lines, "\n"))
		return len(ticks) > 0 && ticks[len(ticks)-1] > seen
	})
	var first, second ptyRun
	scReadSidecar(t, e, tk.ID, "run", &first)
	e.must("restart", tk.ID)
	scReadSidecar(t, e, tk.ID, "run", &second)
	if second.SupervisorPID != first.SupervisorPID {
		t.Fatalf("restart of a go run task: supervisor %d then %d", first.SupervisorPID, second.SupervisorPID)
	}
}

// TestAudit13TermSupervisorPolicyOff: kill -TERM of the supervisor of a
// --restart always task ends it killed by SIGTERM, with no next run;
// kill -HUP before that changed nothing.
func TestAudit13TermSupervisorPolicyOff(t *testing.T) {
	e := newEnv(t)
	tk := e.start("--name", "tick", "--restart", "always", "--", ptyTicker)
	e.waitLog(tk.ID, "tick 2\n", 20*time.Second)
	var run ptyRun
	scReadSidecar(t, e, tk.ID, "run", &run)
	syscall.Kill(run.SupervisorPID, syscall.SIGHUP)
	n := len(ptyTicks(e.must("logs", tk.ID)))
	e.waitLog(tk.ID, fmt.Sprintf("tick %d\n", n+5), 10*time.Second)
	if st := e.status(tk.ID); st.State != "running" || st.Runs != 1 {
		t.Fatalf("after kill -HUP: %s", ptyDesc(st))
	}
	syscall.Kill(run.SupervisorPID, syscall.SIGTERM)
	st := e.waitFinished(tk.ID)
	if st.State != "killed" || st.Signal == nil || *st.Signal != "SIGTERM" || st.Runs != 1 {
		t.Fatalf("after kill -TERM of the supervisor: %s, want killed by SIGTERM, run 1", ptyDesc(st))
	}
	if !poll(10*time.Second, func() bool { return !pidAlive(run.SupervisorPID) }) {
		t.Fatal("the supervisor lives on after kill -TERM")
	}
	if st := e.status(tk.ID); st.Runs != 1 {
		t.Fatalf("restarted after kill -TERM: %s", ptyDesc(st))
	}
}

// TestAudit13CtrlBackslash: Ctrl-\ and Ctrl-C typed in the pane reach
// the task only: the task's traps see them and the supervisor lives on.
func TestAudit13CtrlBackslash(t *testing.T) {
	e := newEnv(t)
	tk := e.start("--name", "keys", "--", `trap 'echo got-quit' QUIT; trap 'echo got-int' INT; echo up; while :; do sleep 0.05; done`)
	e.waitLog(tk.ID, "up", 20*time.Second)
	var run ptyRun
	scReadSidecar(t, e, tk.ID, "run", &run)
	e.must("send", "--key", `C-\`, tk.ID)
	e.waitLog(tk.ID, "got-quit", 10*time.Second)
	e.must("send", "--key", "C-c", tk.ID)
	e.waitLog(tk.ID, "got-int", 10*time.Second)
	if !pidAlive(run.SupervisorPID) {
		t.Fatal("the supervisor died of a key typed in its pane")
	}
	if st := e.status(tk.ID); st.State != "running" {
		t.Fatalf("after Ctrl-\\ and Ctrl-C: %s", ptyDesc(st))
	}
}

// TestAudit13RestartDuringPause: a bgmux restart while the restart
// policy waits (backoff) starts the next run at once, in the same
// supervisor, with contiguous run numbers.
func TestAudit13RestartDuringPause(t *testing.T) {
	e := newEnv(t)
	tk := e.start("--name", "fail", "--restart", "on-failure", "--", "echo run; sleep 0.2; exit 1")
	var run ptyRun
	scReadSidecar(t, e, tk.ID, "run", &run)
	for i := 0; i < 3; i++ {
		// Wait for a pause: an exit record with next_restart_at.
		if !poll(30*time.Second, func() bool {
			var ex struct {
				Next *string `json:"next_restart_at"`
			}
			b, err := os.ReadFile(filepath.Join(e.State, "tasks", tk.ID, "exit"))
			return err == nil && json.Unmarshal(b, &ex) == nil && ex.Next != nil
		}) {
			t.Fatal("never waiting to restart")
		}
		e.must("restart", tk.ID)
	}
	var now ptyRun
	scReadSidecar(t, e, tk.ID, "run", &now)
	if now.SupervisorPID != run.SupervisorPID {
		t.Fatalf("restart during the policy's pause changed the supervisor: %d then %d", run.SupervisorPID, now.SupervisorPID)
	}
	runs, cur := ptyHistory(t, e, tk.ID)
	for i, r := range runs {
		if r != i+1 {
			t.Fatalf("history runs %v (current %d): not contiguous", runs, cur)
		}
	}
}

// TestAudit13KillServerDuringFlood: tmux kill-server while a task
// prints 300,000 lines: the task goes on and its log is exact.
func TestAudit13KillServerDuringFlood(t *testing.T) {
	e := newEnv(t)
	tk := e.start("--name", "flood", "--", ptyGate("go")+"seq 1 300000; echo END; exec sleep 1000")
	ptyOpen(t, e, "go")
	e.waitLog(tk.ID, "\n100\n", 20*time.Second)
	ptyKillServer(t, e)
	e.waitLog(tk.ID, "END", 60*time.Second)
	ptySame(t, "logs --raw after kill-server during a flood", ptyRaw(t, e, tk.ID), ptySeq(300000))
	if st := e.status(tk.ID); st.State != "running" {
		t.Fatalf("after kill-server during a flood: %s", ptyDesc(st))
	}
}

// TestAudit13RestartWhileFlowing: ten restarts of a task printing fast:
// each run's output in the log is a prefix of seq's, each run begins on a
// line of its own, and nothing of one run appears after the next began.
func TestAudit13RestartWhileFlowing(t *testing.T) {
	e := newEnv(t)
	tk := e.start("--name", "seq", "--", "echo BEGIN; seq 1 100000000")
	logPath := filepath.Join(e.State, "tasks", tk.ID, "output.log")
	for i := 0; i <= 10; i++ {
		// Restart (the 11th time: stop) once this run has begun printing (a run ended before
		// its shell printed BEGIN would have none): it is then printing.
		if !poll(20*time.Second, func() bool {
			b, _ := os.ReadFile(logPath)
			return bytes.Count(b, []byte("BEGIN\r\n")) > i
		}) {
			t.Fatalf("run %d never printed BEGIN", i+1)
		}
		if i == 10 {
			break
		}
		e.must("restart", tk.ID)
	}
	e.must("stop", tk.ID)
	e.waitFinished(tk.ID)
	raw := string(ptyRaw(t, e, tk.ID))
	parts := strings.Split(raw, "BEGIN\r\n")
	if len(parts) != 12 || parts[0] != "" {
		t.Fatalf("log has %d runs' beginnings, want 11", len(parts)-1)
	}
	for i, p := range parts[1:] {
		want := 1
		// A run cut mid-line is ended with \r\n before the next begins
		// (a run starts on a line of its own).
		lines := strings.Split(strings.TrimSuffix(p, "\r\n"), "\r\n")
		for j, l := range lines {
			if j == len(lines)-1 {
				// The last line may be cut by the end of the run.
				if l = strings.TrimSuffix(l, "\r"); l != "" && !strings.HasPrefix(strconv.Itoa(want), l) {
					t.Fatalf("run %d: last line %q, want a prefix of %d", i+1, l, want)
				}
				break
			}
			if l != strconv.Itoa(want) {
				t.Fatalf("run %d: line %d is %q, want %d", i+1, j, l, want)
			}
			want++
		}
	}
}
