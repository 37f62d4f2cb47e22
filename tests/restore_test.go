package tests

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rsResult is one entry of bgmux restore --json.
type rsResult struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Action string `json:"action"`
	Reason string `json:"reason"`
	Task   task   `json:"task"`
}

// rsRestore runs bgmux restore --json and returns its entries by name.
func rsRestore(t *testing.T, e *env) map[string]rsResult {
	t.Helper()
	out := e.must("restore", "--json")
	var doc struct {
		Tasks []rsResult `json:"tasks"`
	}
	edgeOneJSON(t, "restore --json", out, &doc)
	m := map[string]rsResult{}
	for _, r := range doc.Tasks {
		m[r.Name] = r
	}
	return m
}

// rsKillAll SIGKILLs the supervisor and the child group of each task and
// waits until they are gone.
func rsKillAll(t *testing.T, ids ...string) func(e *env) {
	return func(e *env) {
		t.Helper()
		var pids []int
		for _, id := range ids {
			r := lpReadRun(t, e, id)
			lpKill(t, r.SupervisorPID, syscall.SIGKILL)
			syscall.Kill(-r.PGID, syscall.SIGKILL)
			pids = append(pids, r.SupervisorPID, r.PID)
		}
		if !poll(20*time.Second, func() bool {
			for _, p := range pids {
				if pidAlive(p) {
					return false
				}
			}
			return true
		}) {
			t.Fatalf("processes %v survived SIGKILL", pids)
		}
	}
}

// TestRestore starts three tasks (restart never, restart always, declared
// autostart), kills every supervisor and child, and the tmux server
// unless the case keeps it, then runs restore: the first is recorded lost,
// the others run again as run 2 in windows of the same name and group,
// their old output kept before the new; a second restore changes nothing.
func TestRestore(t *testing.T) {
	cases := []struct {
		name       string
		reboot     bool // present a new boot id
		killServer bool
		reason     string
	}{
		{name: "reboot", reboot: true, killServer: true, reason: "host rebooted"},
		{name: "server-loss", killServer: true, reason: "tmux server gone"},
		{name: "supervisors-killed", reason: "supervisor gone"},
	}
	for _, c := range cases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			names := []string{"nev", "alw", "auto"}
			policy := map[string]string{"nev": "never", "alw": "always", "auto": "never"}
			ids := map[string]string{}
			// "auto" is declared in the config file with autostart and
			// started by up, as a user would.
			e.useConfig("tasks:\n  auto:\n    command: \"echo marker-auto; exec sleep 1000\"\n    autostart: true\n    group: " + e.Group + "\n")
			for _, n := range names {
				if n == "auto" {
					e.must("up", "auto")
					ids[n] = e.status("auto").ID
				} else {
					ids[n] = e.start("--name", n, "--restart", policy[n], "--", "echo marker-"+n+"; exec sleep 1000").ID
				}
				e.waitLog(n, "marker-"+n, 20*time.Second)
			}
			nevPane := e.status("nev").Tmux.Pane

			rsKillAll(t, ids["nev"], ids["alw"], ids["auto"])(e)
			if c.killServer {
				if out, err := e.tmux("kill-server"); err != nil {
					t.Fatalf("kill-server: %v\n%s", err, out)
				}
			}
			if c.reboot {
				e.Extra = append(e.Extra, "BGMUX_BOOT_ID=rebooted-"+randHex(8))
			}
			for _, n := range names {
				if st := e.status(n); st.State != "lost" {
					t.Fatalf("%s before restore: %q, want lost", n, st.State)
				}
			}

			res := rsRestore(t, e)
			if r := res["nev"]; r.Action != "lost" || !strings.Contains(r.Reason, c.reason) || r.Task.State != "lost" {
				t.Fatalf("restore of the never task: %+v, want lost (%s)", r, c.reason)
			}
			for _, n := range []string{"alw", "auto"} {
				if r := res[n]; r.Action != "restarted" || r.Task.Runs != 2 || r.Task.State != "running" {
					t.Fatalf("restore of %s: %+v, want restarted, running run 2", n, r)
				}
			}
			var ex struct {
				Run  int  `json:"run"`
				Lost bool `json:"lost"`
			}
			scReadSidecar(t, e, ids["nev"], "exit", &ex)
			if !ex.Lost || ex.Run != 1 {
				t.Fatalf("exit sidecar of the lost task: %+v, want run 1 lost", ex)
			}
			if st := e.status("nev"); st.State != "lost" || st.Runs != 1 || st.ExitCode != nil {
				t.Fatalf("never task after restore: %+v", st)
			}
			if got := e.must("logs", "nev"); strings.Count(got, "marker-nev") != 1 {
				t.Fatalf("logs of the lost task:\n%s", got)
			}
			pids := map[string]int{}
			for _, n := range []string{"alw", "auto"} {
				st := e.status(n)
				if st.State != "running" || st.Runs != 2 || st.PID == nil || st.Group != e.Group {
					t.Fatalf("%s after restore: %+v", n, st)
				}
				pids[n] = *st.PID
				if !poll(20*time.Second, func() bool { return strings.Count(e.must("logs", n), "marker-"+n) == 2 }) {
					t.Fatalf("logs of %s do not hold the old and the new run:\n%s", n, e.must("logs", n))
				}
			}
			// tmux attach shows the restored windows, named as before.
			out, err := e.tmux("list-windows", "-t", e.Group, "-F", "#{window_name} #{@bgmux_state}")
			if err != nil {
				t.Fatalf("list-windows after restore: %v\n%s", err, out)
			}
			for _, want := range []string{"alw running", "auto running"} {
				if !strings.Contains(out, want) {
					t.Fatalf("windows after restore lack %q:\n%s", want, out)
				}
			}
			if !c.killServer {
				state, err := e.tmux("show-options", "-w", "-v", "-t", nevPane, "@bgmux_state")
				if err != nil || strings.TrimSpace(state) != "lost" {
					t.Fatalf("window of the lost task: state %q (%v), want lost", state, err)
				}
			}

			// A second restore changes nothing.
			res = rsRestore(t, e)
			if r := res["nev"]; r.Action != "lost" || r.Task.Runs != 1 {
				t.Fatalf("second restore, never task: %+v", r)
			}
			for _, n := range []string{"alw", "auto"} {
				r := res[n]
				if r.Action != "ok" || r.Task.Runs != 2 || r.Task.PID == nil || *r.Task.PID != pids[n] {
					t.Fatalf("second restore changed %s: %+v (pid was %d)", n, r, pids[n])
				}
			}
			text := e.must("restore")
			if !strings.Contains(text, "lost nev ("+ids["nev"]+")") || !strings.Contains(text, "ok alw ("+ids["alw"]+")") || strings.Contains(text, "restarted") {
				t.Fatalf("restore text output:\n%s", text)
			}
		})
	}
}

// TestRestoreThroughGoRun: restore run by "go run" (whose binary is
// deleted when it exits) brings a task back under a supervisor binary
// kept in the state dir, and the task keeps running after go run exits.
func TestRestoreThroughGoRun(t *testing.T) {
	e := newEnv(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tk := e.start("--name", "svc", "--restart", "on-failure", "--", "echo marker-svc; exec sleep 1000")
	e.waitLog("svc", "marker-svc", 20*time.Second)
	rsKillAll(t, tk.ID)(e)
	if out, err := e.tmux("kill-server"); err != nil {
		t.Fatalf("kill-server: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "run", root, "restore", "--json")
	cmd.Dir = root
	cmd.Env = e.Environ()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("go run bgmux restore: %v\nstdout: %s\nstderr: %s", err, out.String(), errb.String())
	}
	var doc struct {
		Tasks []rsResult `json:"tasks"`
	}
	edgeOneJSON(t, "go run bgmux restore --json", out.String(), &doc)
	if len(doc.Tasks) != 1 || doc.Tasks[0].Action != "restarted" || doc.Tasks[0].Task.Runs != 2 {
		t.Fatalf("go run restore: %+v", doc.Tasks)
	}
	st := e.status("svc")
	if st.State != "running" || st.Runs != 2 {
		t.Fatalf("after go run restore exited: %+v", st)
	}
	var run struct {
		SupervisorPID int `json:"supervisor_pid"`
	}
	scReadSidecar(t, e, tk.ID, "run", &run)
	exe, err := os.Readlink("/proc/" + strconv.Itoa(run.SupervisorPID) + "/exe")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(exe, filepath.Join(e.State, "bin")+string(filepath.Separator)) {
		t.Fatalf("the restored supervisor runs %q, not a copy kept in the state dir", exe)
	}
	if !poll(20*time.Second, func() bool { return strings.Count(e.must("logs", "svc"), "marker-svc") == 2 }) {
		t.Fatalf("logs after go run restore:\n%s", e.must("logs", "svc"))
	}

	// The unit written from a go run build runs the kept copy, not the
	// go-build binary that is about to be deleted.
	unit := exec.CommandContext(ctx, "go", "run", root, "service", "install", "--print")
	unit.Dir, unit.Env = root, e.Environ()
	text, err := unit.Output()
	if err != nil {
		t.Fatalf("go run bgmux service install --print: %v", err)
	}
	if !strings.Contains(string(text), "ExecStart="+filepath.Join(e.State, "bin")+string(filepath.Separator)) {
		t.Fatalf("unit from go run does not run the kept binary:\n%s", text)
	}
}

// TestServiceUnit: service install --print renders a unit that
// systemd-analyze verify accepts, running this binary's restore with the
// state dir and socket; service install writes the same unit to the
// user unit directory and says how to enable it.
func TestServiceUnit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatalf("systemd-analyze is needed to check the unit (apt-get install systemd; .ci/run does): %v", err)
	}
	unit := e.must("service", "install", "--print")
	abs, err := filepath.Abs(bgmuxBin)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Type=oneshot", "ExecStart=" + abs + " restore", "WantedBy=default.target",
		"Environment=BGMUX_STATE_DIR=" + e.State, "Environment=BGMUX_SOCKET=" + e.Socket} {
		if !strings.Contains(unit, want+"\n") {
			t.Fatalf("unit lacks %q:\n%s", want, unit)
		}
	}
	path := filepath.Join(t.TempDir(), "bgmux-restore.service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s\nunit:\n%s", err, out, unit)
	}

	msg := e.must("service", "install")
	written := filepath.Join(e.State, "..", "xdg-config", "systemd", "user", "bgmux-restore.service")
	got, err := os.ReadFile(written)
	if err != nil {
		t.Fatalf("service install did not write %s: %v\n%s", written, err, msg)
	}
	if string(got) != unit {
		t.Fatalf("written unit differs from --print:\n%s\nvs\n%s", got, unit)
	}
	for _, want := range []string{"systemctl --user enable --now bgmux-restore.service", "loginctl enable-linger"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("service install output lacks %q:\n%s", want, msg)
		}
	}
}

// TestRestoreAfterServerHangup: killing the tmux server no longer ends
// the tasks in it (issue 13): their supervisors ignore the hangup of their
// panes and go on. restore shows each running task in a new window,
// restarting none of them; a task stopped by bgmux stop stays down; a
// second restore changes nothing.
func TestRestoreAfterServerHangup(t *testing.T) {
	e := newEnv(t)
	alw := e.start("--name", "alw", "--restart", "always", "--", "echo marker-alw; exec sleep 1000")
	nev := e.start("--name", "nev", "--", "echo marker-nev; exec sleep 1000")
	stp := e.start("--name", "stp", "--restart", "always", "--", "exec sleep 1000")
	e.waitLog("alw", "marker-alw", 20*time.Second)
	e.waitLog("nev", "marker-nev", 20*time.Second)
	if st := e.must("stop", "stp"); st == "" {
		t.Fatal("stop printed nothing")
	}
	e.waitFinished(stp.ID)
	if out, err := e.tmux("kill-server"); err != nil {
		t.Fatalf("kill-server: %v\n%s", err, out)
	}
	res := rsRestore(t, e)
	for _, tk := range []task{alw, nev} {
		r := res[tk.Name]
		if r.Action != "ok" || r.Task.Runs != 1 || r.Task.State != "running" || r.Task.PID == nil || *r.Task.PID != *tk.PID {
			t.Fatalf("restore of %s after kill-server: %+v; want it running on in run 1", tk.Name, r)
		}
		if out, err := e.tmux("display-message", "-p", "-t", r.Task.Tmux.Window, "#{@bgmux_id}"); err != nil || strings.TrimSpace(out) != tk.ID {
			t.Fatalf("restore of %s: its new window %q shows %q (%v)", tk.Name, r.Task.Tmux.Window, out, err)
		}
	}
	if r := res["stp"]; r.Action == "restarted" || r.Task.Runs != 1 {
		t.Fatalf("restore of the stopped task: %+v", r)
	}
	if n := strings.Count(e.must("logs", "alw"), "marker-alw"); n != 1 {
		t.Fatalf("alw ran %d times; want once", n)
	}
	res = rsRestore(t, e)
	for _, n := range []string{"alw", "nev"} {
		if r := res[n]; r.Action != "ok" || r.Task.Runs != 1 {
			t.Fatalf("second restore, %s: %+v", n, r)
		}
	}
}
