package tests

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ---------------------------------------------------------------------
// 1. Modes

// TestSecurityStateModes: after a realistic session run entirely under
// umask 000 (so the tmux server, the supervisors and every bgmux process
// have the most permissive umask), every directory bgmux made is 0700 and
// every file and FIFO 0600, including parents of the state dir that
// bgmux created; tmux's socket directory is 0700 and the socket grants
// nothing to other users.
func TestSecurityStateModes(t *testing.T) {
	e := newEnv(t)
	root := filepath.Dir(e.State)
	e.State = filepath.Join(root, "deep", "er", "state") // bgmux creates deep/ and er/ too
	cfg := filepath.Join(root, "bgmux.yaml")
	if err := os.WriteFile(cfg, []byte(`tasks:
  decl:
    command: ["sh", "-c", "echo declared-up; sleep 300"]
    env: {DECL_SECRET: "d"}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	e.Extra = append(e.Extra, "BGMUX_CONFIG="+cfg)
	r := secRunner{e: e, umask: "000"}

	// A long-running task with env, read by a named reader, waited on,
	// stopped, restarted and stopped again.
	web := r.start(t, "--name", "web", "--env", "SECRET=s1", "--", "sh", "-c", "echo ready; sleep 300")
	r.must(t, "logs", "web", "--new", "--reader", "r1")
	secWaitLine(t, r, "web", "^ready")
	r.must(t, "logs", "web", "--new")
	r.must(t, "logs", "web", "--new", "--reader", "r1")
	if um := secUmask(t, secSupervisorPID(t, e, web.ID)); um != "0000" {
		t.Fatalf("the supervisor runs with umask %s; the test needs 0000 to mean anything", um)
	}
	r.must(t, "stop", "web")
	r.must(t, "restart", "web")
	secWaitLine(t, r, "web", "^ready")
	r.must(t, "stop", "web")

	// A failing task with a restart policy: two runs, history, backoff.
	flaky := r.start(t, "--name", "flaky", "--restart", "on-failure", "--max-restarts", "1", "--", "sh", "-c", "echo boom; exit 3")
	if !poll(30*time.Second, func() bool {
		s := r.status(t, flaky.ID)
		return s["state"] == "exited" && s["runs"] == float64(2) && s["next_restart_at"] == nil
	}) {
		t.Fatalf("flaky never finished its second run: %v", r.status(t, flaky.ID))
	}

	// A rotated log.
	big := r.start(t, "--name", "big", "--max-log-size", "4096", "--", "sh", "-c",
		`i=0; while [ $i -lt 300 ]; do echo "line $i ........................................"; i=$((i+1)); done`)
	if res := r.run("wait", big.ID, "--timeout", "20s"); res.Code != 0 {
		t.Fatalf("wait big: exit %d %s", res.Code, res.Err)
	}
	if _, err := os.Stat(filepath.Join(e.State, "tasks", big.ID, "output.log.1")); err != nil {
		t.Fatalf("the log was not rotated: %v", err)
	}

	// A declared task, up and down; a removed task; doctor.
	r.must(t, "up", "decl")
	secWaitLine(t, r, "decl", "^declared-up")
	r.must(t, "down", "decl")
	gone := r.start(t, "--", "true")
	r.run("wait", gone.ID, "--timeout", "20s")
	r.must(t, "rm", gone.ID)
	var doc txDoctorReport
	edgeOneJSON(t, "doctor --json", r.run("doctor", "--json").Out, &doc)
	for _, c := range doc.Checks {
		if c.Name == "state_dir" && !c.OK {
			t.Fatalf("doctor finds the state dir wrong: %s (%s)", c.Detail, c.Fix)
		}
	}

	// A live task: its supervisor's control socket is there too.
	r.start(t, "--name", "live", "--", "sleep", "300")

	// Everything bgmux created.
	for _, d := range []string{filepath.Join(root, "deep"), filepath.Join(root, "deep", "er")} {
		if st, err := os.Stat(d); err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("parent %s of the state dir, created by bgmux: %v, want mode 0700", d, secMode(st, err))
		}
	}
	kinds := map[string]int{}
	seen := map[string]bool{}
	err := filepath.WalkDir(e.State, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(e.State, p)
		seen[filepath.Base(p)] = true
		m := st.Mode()
		switch {
		case m.IsDir():
			kinds["dir"]++
			if m.Perm() != 0o700 || m&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0 {
				t.Errorf("directory %s has mode %v, want drwx------", rel, m)
			}
		case m.IsRegular():
			kinds["file"]++
			want := fs.FileMode(0o600)
			if strings.HasPrefix(rel, "bin"+string(filepath.Separator)) {
				want = 0o700 // the kept copy of a go run binary must be executable
			}
			if m.Perm() != want || m&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0 {
				t.Errorf("file %s has mode %v, want %v", rel, m, want)
			}
		case m&fs.ModeSocket != 0:
			kinds["socket"]++
			if m.Perm() != 0o600 {
				t.Errorf("socket %s has mode %v, want srw-------", rel, m)
			}
		default:
			t.Errorf("%s has unexpected type %v in the state dir", rel, m)
		}
		if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Getuid() {
			t.Errorf("%s is owned by uid %d, not %d", rel, sys.Uid, os.Getuid())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The session really produced every kind of file the docs list.
	for _, name := range []string{"lock", "spec", "window", "run", "exit", "history", "stopped",
		"control.sock", "output.log", "output.log.1", "logmeta", "output.idx", "cursors", "r1"} {
		if !seen[name] {
			t.Errorf("the session left no %q in the state dir; the walk proves less than it should", name)
		}
	}
	if kinds["socket"] == 0 || kinds["file"] < 20 || kinds["dir"] < 6 {
		t.Errorf("walked %v; expected a realistic state dir", kinds)
	}
	t.Logf("walked %v under umask 000", kinds)

	// tmux's socket: /tmp/tmux-UID is the user's, 0700 (tmux refuses a
	// directory other users can access); the socket grants nothing to
	// "other" (tmux makes -L sockets 0660, plus x bits while a client is
	// attached), so only the directory guards group members.
	sockDir := secSocketDir()
	st, err := os.Lstat(sockDir)
	if err != nil {
		t.Fatal(err)
	}
	if !st.IsDir() || st.Mode().Perm() != 0o700 || int(st.Sys().(*syscall.Stat_t).Uid) != os.Getuid() {
		t.Fatalf("tmux socket directory %s: %v owned by %d, want drwx------ owned by %d", sockDir, st.Mode(), st.Sys().(*syscall.Stat_t).Uid, os.Getuid())
	}
	sock := filepath.Join(sockDir, e.Socket)
	st, err = os.Lstat(sock)
	if err != nil {
		t.Fatalf("no tmux socket at %s: %v", sock, err)
	}
	if st.Mode()&fs.ModeSocket == 0 || st.Mode().Perm()&0o007 != 0 || int(st.Sys().(*syscall.Stat_t).Uid) != os.Getuid() {
		t.Fatalf("tmux socket %s: %v owned by %d; want a socket no other user may use", sock, st.Mode(), st.Sys().(*syscall.Stat_t).Uid)
	}
	t.Logf("tmux socket dir %v, socket %v", os.FileMode(0o700)|fs.ModeDir, st.Mode())
}

func secMode(st fs.FileInfo, err error) string {
	if err != nil {
		return err.Error()
	}
	return st.Mode().String()
}

// secUmask reads a process's umask from /proc.
func secUmask(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Umask:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no Umask line in /proc/%d/status", pid)
	return ""
}
