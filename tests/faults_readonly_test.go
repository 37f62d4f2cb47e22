package tests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFaultStateDirNotWritable: a state dir that cannot be written (a
// read-only mount, which stops root too; a directory of another user)
// makes start fail at once with exit status 2 and a message saying what
// to do, changing nothing; list, status and logs still work where the
// directory can be read.
func TestFaultStateDirNotWritable(t *testing.T) {
	t.Parallel()
	t.Run("read-only", func(t *testing.T) {
		t.Parallel()
		needRoot(t, "it bind-mounts the state dir read-only")
		e := newEnv(t)
		runner := e.start("--name", "runner", "--", "echo runner-ready; exec sleep 1000")
		e.waitLog("runner", "runner-ready", 20*time.Second)
		fine := e.start("--name", "fine", "--", "echo fine-out; exit 3")
		e.waitFinished("fine")
		ftSettled(t, e, fine.ID)
		view := filepath.Join(filepath.Dir(e.State), "ro-state")
		ftReadOnlyView(t, e, e.State, view)
		ro := *e
		ro.State = view
		before := ftTree(t, e.State)
		panes, _ := edgePanes(e)

		for _, args := range [][]string{
			{"start", "--name", "new", "--", "true"},
			{"start", "--", "echo", "hi"},
			{"restart", "fine"},
		} {
			r := ro.run(args...)
			msg := strings.TrimSuffix(r.Err, "\n")
			if r.Code != 2 || r.Out != "" || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "bgmux: ") ||
				!strings.Contains(msg, view) || !strings.Contains(msg, "read-only") || !strings.Contains(msg, "BGMUX_STATE_DIR") || !edgeHint.MatchString(msg) {
				t.Fatalf("bgmux %q on a read-only state dir: exit %d\nstdout %q\nstderr %q\nwant exit 2 and one line naming the directory, read-only, and what to do", args, r.Code, r.Out, r.Err)
			}
			jargs := append([]string{args[0], "--json"}, args[1:]...)
			r = ro.run(jargs...)
			var doc struct {
				Error struct{ Kind string } `json:"error"`
			}
			edgeOneJSON(t, strings.Join(jargs, " "), r.Out, &doc)
			if r.Code != 2 || doc.Error.Kind != "invalid_input" {
				t.Fatalf("bgmux %q: exit %d, %s", jargs, r.Code, r.Out)
			}
		}
		// Reading works, and is exact.
		all := ftJSONTasks(t, ro.must("list", "--json"))
		if len(all) != 2 || all["runner"].State != "running" || all["runner"].PID == nil || *all["runner"].PID != *runner.PID {
			t.Fatalf("list on a read-only state dir: %+v", all)
		}
		ecCheck(t, "fine on a read-only state dir", ro.status("fine"), ecWant{state: "exited", code: 3})
		if logs := ro.must("logs", "fine"); !strings.Contains(logs, "fine-out") {
			t.Fatalf("logs on a read-only state dir:\n%s", logs)
		}
		// Nothing changed: no file, no window.
		if d := ftTreeDiff(before, ftTree(t, e.State)); d != "" {
			t.Fatalf("the state dir changed:\n%s", d)
		}
		if now, _ := edgePanes(e); !reflect.DeepEqual(now, panes) {
			t.Fatalf("windows changed: %q -> %q", panes, now)
		}
		if st := e.status("runner"); st.State != "running" {
			t.Fatalf("runner: %+v", st)
		}
	})
	t.Run("other-user", func(t *testing.T) {
		t.Parallel()
		needRoot(t, "it runs bgmux as uid 65534")
		e := newEnv(t)
		// A world-readable place for the binary and a working directory,
		// and a state dir that only root may enter.
		base, err := os.MkdirTemp("", "bgmux-nobody-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(base) })
		bin, work, state := filepath.Join(base, "bgmux"), filepath.Join(base, "work"), filepath.Join(base, "state")
		for _, d := range []string{work, filepath.Join(state, "tasks")} {
			if err := os.MkdirAll(d, 0o700); err != nil {
				t.Fatal(err)
			}
		}
		for p, mode := range map[string]os.FileMode{base: 0o755, work: 0o777, state: 0o700} {
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(bin, ftRead(t, bgmuxBin), 0o755); err != nil {
			t.Fatal(err)
		}
		before := ftTree(t, state)
		asNobody := func(args ...string) result {
			cmd := exec.Command(bin, args...)
			cmd.Dir = work
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "BGMUX_STATE_DIR=" + state,
				"BGMUX_SOCKET=" + e.Socket, "XDG_CONFIG_HOME=" + filepath.Join(work, "xdg")}
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatalf("run %q as uid 65534: %v", args, err)
			}
			return result{Out: out.String(), Err: errb.String(), Code: code}
		}
		r := asNobody("start", "--name", "new", "--", "true")
		msg := strings.TrimSuffix(r.Err, "\n")
		if r.Code != 2 || r.Out != "" || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "bgmux: ") || !strings.Contains(msg, state) ||
			!strings.Contains(msg, "BGMUX_STATE_DIR") || !edgeHint.MatchString(msg) {
			t.Fatalf("start as another user: exit %d\nstdout %q\nstderr %q\nwant exit 2 and one line naming the state dir and what to do", r.Code, r.Out, r.Err)
		}
		// It cannot even be read: list says so, naming the directory.
		r = asNobody("list")
		if r.Code != 2 || !strings.HasPrefix(r.Err, "bgmux: ") || !strings.Contains(r.Err, state) || !edgeHint.MatchString(r.Err) {
			t.Fatalf("list as another user: exit %d, stderr %q", r.Code, r.Err)
		}
		if d := ftTreeDiff(before, ftTree(t, state)); d != "" {
			t.Fatalf("the state dir changed:\n%s", d)
		}
		if panes, ok := edgePanes(e); ok {
			t.Fatalf("a tmux server was started: %q", panes)
		}
	})
}
