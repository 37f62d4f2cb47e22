package tests

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// txRunWith invokes bgmux like e.run, with the environment changed by set:
// each "K=V" replaces K, and a bare "K" removes it.
func txRunWith(e *env, set []string, args ...string) result {
	e.t.Helper()
	cmd := exec.Command(bgmuxBin, args...)
	cmd.Dir = e.Dir
	cmd.Env = txWithEnv(e.Environ(), set...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			e.t.Fatalf("run bgmux %q: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{Out: out.String(), Err: errb.String(), Code: code}
}

// txWithEnv returns env with each "K=V" of set replacing K and each bare "K"
// removing it.
func txWithEnv(env []string, set ...string) []string {
	drop := map[string]bool{}
	for _, kv := range set {
		k, _, _ := strings.Cut(kv, "=")
		drop[k] = true
	}
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			out = append(out, kv)
		}
	}
	for _, kv := range set {
		if strings.Contains(kv, "=") {
			out = append(out, kv)
		}
	}
	return out
}

// txFakeTmuxDir is a PATH directory whose only program is a "tmux" that
// records each call in the returned file and fails.
func txFakeTmuxDir(t *testing.T) (dir, calls string) {
	t.Helper()
	dir = t.TempDir()
	calls = filepath.Join(t.TempDir(), "calls")
	script := "#!/bin/sh\necho \"$*\" >> '" + calls + "'\nexit 1\n"
	if err := os.WriteFile(filepath.Join(dir, "tmux"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, calls
}

// TestStatusWithoutTmux checks that status and list read state from disk
// only: with tmux gone from PATH they still give the exact states.
func TestStatusWithoutTmux(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	txSettle(e)
	done := e.start("--name", "done", "--", "exit 3")
	live := e.start("--name", "live", "--", "sleep", "1000")
	if got := e.waitFinished("done"); got.State != "exited" || got.ExitCode == nil || *got.ExitCode != 3 {
		t.Fatalf("done: %+v, want exited 3", got)
	}

	fake, calls := txFakeTmuxDir(t)
	for name, path := range map[string]string{"empty PATH dir": t.TempDir(), "fake tmux": fake} {
		t.Run(name, func(t *testing.T) {
			noTmux := []string{"PATH=" + path}
			check := func(tk task) {
				t.Helper()
				switch tk.ID {
				case done.ID:
					if tk.State != "exited" || tk.ExitCode == nil || *tk.ExitCode != 3 {
						t.Fatalf("done without tmux: state %q exit %v, want exited 3", tk.State, tk.ExitCode)
					}
				case live.ID:
					if tk.State != "running" || tk.PID == nil || *tk.PID != *live.PID {
						t.Fatalf("live without tmux: state %q pid %v, want running pid %d", tk.State, tk.PID, *live.PID)
					}
				default:
					t.Fatalf("unexpected task %+v", tk)
				}
			}
			for _, ref := range []string{"done", "live"} {
				r := txRunWith(e, noTmux, "status", "--json", ref)
				if r.Code != 0 {
					t.Fatalf("status %s without tmux: exit %d\n%s%s", ref, r.Code, r.Out, r.Err)
				}
				var tk task
				if err := json.Unmarshal([]byte(r.Out), &tk); err != nil {
					t.Fatalf("status %s: %v\n%s", ref, err, r.Out)
				}
				check(tk)
			}
			for _, args := range [][]string{{"list", "--json"}, {"status", "--json"}, {"list", "--all", "--json"}} {
				r := txRunWith(e, noTmux, args...)
				if r.Code != 0 {
					t.Fatalf("%q without tmux: exit %d\n%s%s", args, r.Code, r.Out, r.Err)
				}
				var ts []task
				if err := json.Unmarshal([]byte(r.Out), &ts); err != nil {
					t.Fatalf("%q: %v\n%s", args, err, r.Out)
				}
				if len(ts) != 2 {
					t.Fatalf("%q listed %d tasks, want 2:\n%s", args, len(ts), r.Out)
				}
				for _, tk := range ts {
					check(tk)
				}
			}
			// The text views too.
			if r := txRunWith(e, noTmux, "list"); r.Code != 0 || !strings.Contains(r.Out, "running") || !strings.Contains(r.Out, "exited") {
				t.Fatalf("list without tmux: exit %d\n%s%s", r.Code, r.Out, r.Err)
			}
		})
	}
	if b, err := os.ReadFile(calls); err == nil {
		t.Fatalf("status/list ran tmux:\n%s", b)
	}
}

// txSettle makes e's cleanup end every task before the harness kills the
// server and removes the state dir: a supervisor hung up by kill-server
// still writes its exit record, racing the removal ("directory not empty").
// Call it right after newEnv so it runs first.
func txSettle(e *env) {
	e.t.Cleanup(func() {
		r := e.run("list", "--all", "--json")
		var ts []task
		if json.Unmarshal([]byte(r.Out), &ts) == nil {
			for _, tk := range ts {
				if tk.State == "running" || tk.State == "starting" {
					e.run("kill", tk.ID)
				}
			}
		}
		// The pane's process is the supervisor: once every pane is dead,
		// no supervisor is left to write.
		poll(20*time.Second, func() bool {
			out, err := e.tmux("list-panes", "-a", "-F", "#{pane_dead}")
			return err != nil || !strings.Contains(out, "0")
		})
	})
}

// txTmuxEnv runs a tmux command on e's server like e.tmux, with the
// environment changed as in runWith (TMUX_TMPDIR, say).
func txTmuxEnv(e *env, set []string, args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-L", e.Socket}, args...)...)
	cmd.Env = txWithEnv(os.Environ(), set...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
