package tests

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

type txDoctorReport struct {
	OK     bool `json:"ok"`
	Checks []struct {
		Name   string `json:"name"`
		OK     bool   `json:"ok"`
		Detail string `json:"detail"`
		Fix    string `json:"fix"`
	} `json:"checks"`
}

// txDoctorJSON runs doctor --json with the environment changes in set.
func txDoctorJSON(t *testing.T, e *env, set ...string) (txDoctorReport, result) {
	t.Helper()
	r := txRunWith(e, set, "doctor", "--json")
	var rep txDoctorReport
	if err := json.Unmarshal([]byte(r.Out), &rep); err != nil {
		t.Fatalf("doctor --json is not one JSON document: %v\n%s\nstderr: %s", err, r.Out, r.Err)
	}
	return rep, r
}

func (d txDoctorReport) check(t *testing.T, name string) (ok bool, detail, fix string) {
	t.Helper()
	for _, c := range d.Checks {
		if c.Name == name {
			return c.OK, c.Detail, c.Fix
		}
	}
	t.Fatalf("doctor has no %q check: %+v", name, d)
	return
}

// txServerRunning asks tmux directly (never starting a server) whether the
// test's server runs.
func txServerRunning(e *env, set ...string) bool {
	_, err := txTmuxEnv(e, set, "list-sessions")
	return err == nil
}

func TestDoctorHealthy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.run("doctor")
	if r.Code != 0 {
		t.Fatalf("doctor on a healthy env: exit %d\n%s%s", r.Code, r.Out, r.Err)
	}
	for _, name := range []string{"tmux", "socket", "state_dir"} {
		if !strings.Contains(r.Out, "ok   "+name) {
			t.Fatalf("doctor output lacks an ok %s line:\n%s", name, r.Out)
		}
	}
	if strings.Contains(r.Out, "FAIL") {
		t.Fatalf("doctor reported a failure:\n%s", r.Out)
	}
	rep, r := txDoctorJSON(t, e)
	if r.Code != 0 || !rep.OK || len(rep.Checks) != 3 {
		t.Fatalf("doctor --json: exit %d, %+v", r.Code, rep)
	}
	for _, name := range []string{"tmux", "socket", "state_dir"} {
		if ok, detail, _ := rep.check(t, name); !ok {
			t.Fatalf("check %s failed: %s", name, detail)
		}
	}
	if _, detail, _ := rep.check(t, "socket"); !strings.Contains(detail, e.Socket) || !strings.Contains(detail, "no server") {
		t.Fatalf("socket check %q should name the socket and say no server runs", detail)
	}
	if txServerRunning(e) {
		t.Fatal("doctor started a tmux server")
	}

	// With a server running, doctor reports its pid.
	txSettle(e)
	e.start("--", "sleep", "1000")
	pid, err := e.tmux("display-message", "-p", "#{pid}")
	if err != nil {
		t.Fatal(err)
	}
	rep, r = txDoctorJSON(t, e)
	ok, detail, _ := rep.check(t, "socket")
	if r.Code != 0 || !ok || !strings.Contains(detail, "server pid "+strings.TrimSpace(pid)+",") {
		t.Fatalf("doctor with a running server: exit %d, socket check %v %q; want server pid %s", r.Code, ok, detail, strings.TrimSpace(pid))
	}
}

func TestDoctorStateDirMode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := os.MkdirAll(e.State, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(e.State, 0o755); err != nil {
		t.Fatal(err)
	}
	r := e.run("doctor")
	if r.Code != 1 {
		t.Fatalf("doctor with a 0755 state dir: exit %d, want 1\n%s%s", r.Code, r.Out, r.Err)
	}
	if !strings.Contains(r.Out, "FAIL state_dir") || !strings.Contains(r.Out, "fix: chmod 700 "+e.State) {
		t.Fatalf("doctor output should fail state_dir and say chmod 700 %s:\n%s", e.State, r.Out)
	}
	rep, r := txDoctorJSON(t, e)
	ok, detail, fix := rep.check(t, "state_dir")
	if r.Code != 1 || rep.OK || ok || !strings.Contains(detail, "0755") || !strings.HasPrefix(fix, "chmod 700 ") {
		t.Fatalf("doctor --json: exit %d ok %v; state_dir %v %q fix %q", r.Code, rep.OK, ok, detail, fix)
	}
	if st, err := os.Stat(e.State); err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("doctor changed the state dir's mode: %v %v", st.Mode(), err)
	}
}

func TestDoctorWithoutTmux(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	noTmux := "PATH=" + t.TempDir()
	r := txRunWith(e, []string{noTmux}, "doctor")
	if r.Code != 1 || !strings.Contains(r.Out, "FAIL tmux") || !strings.Contains(r.Out, "install tmux") {
		t.Fatalf("doctor without tmux: exit %d, want 1 with a FAIL tmux line and an install hint\n%s%s", r.Code, r.Out, r.Err)
	}
	rep, r := txDoctorJSON(t, e, noTmux)
	ok, _, fix := rep.check(t, "tmux")
	if r.Code != 1 || rep.OK || ok || !strings.Contains(fix, "apt-get install tmux") || !strings.Contains(fix, "brew install tmux") {
		t.Fatalf("doctor --json without tmux: exit %d ok %v; tmux %v fix %q", r.Code, rep.OK, ok, fix)
	}
	if ok, _, _ := rep.check(t, "state_dir"); !ok {
		t.Fatalf("state_dir should still pass without tmux: %+v", rep)
	}
}

func TestDoctorStaleSocket(t *testing.T) {
	e := newEnv(t)
	// A private TMUX_TMPDIR, short enough for a socket path.
	tmp, err := os.MkdirTemp("/tmp", "bt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Kill the server started below while its socket still exists.
		e.tmux("kill-server")
		e.reap()
		os.RemoveAll(tmp)
	})
	dir := filepath.Join(tmp, "tmux-"+strconv.Itoa(os.Getuid()))
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	e.Extra = append(e.Extra, "TMUX_TMPDIR="+tmp)
	sock := filepath.Join(dir, e.Socket)
	// A socket file nobody listens on: what a killed server leaves.
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()

	// tmux replaces a stale socket when it next starts a server, so doctor
	// reports it without failing.
	r := e.run("doctor")
	if r.Code != 0 || !strings.Contains(r.Out, "ok   socket") || !strings.Contains(r.Out, "stale") {
		t.Fatalf("doctor with a stale socket: exit %d, want 0 with the socket called stale\n%s%s", r.Code, r.Out, r.Err)
	}
	rep, _ := txDoctorJSON(t, e)
	if ok, _, _ := rep.check(t, "socket"); !ok {
		t.Fatalf("socket check failed for a stale socket tmux would replace")
	}
	if st, err := os.Stat(sock); err != nil || st.Mode()&os.ModeSocket == 0 {
		t.Fatalf("doctor removed or replaced the socket: %v", err)
	}
	if txServerRunning(e, "TMUX_TMPDIR="+tmp) {
		t.Fatal("doctor started a tmux server on the stale socket")
	}
	// And bgmux start does replace it.
	tk := e.start("--", "sleep", "1000")
	if tk.State != "running" {
		t.Fatalf("start over a stale socket: state %s", tk.State)
	}
}
