package tests

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// ---------------------------------------------------------------------
// 4. Hostile input never reaches a shell or tmux's parsers

// secShQuote quotes s for sh (used only to write the test's own scripts).
func secShQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// TestSecurityHostileCwd: a working directory whose name holds shell and
// tmux syntax (#() included, which tmux would run, and a trailing ";")
// is the task's directory through every path that passes it to tmux's -c
// (expanded as a format there): new-session/new-window at start,
// respawn-pane at restart, a fresh session at restore after the server
// died, and MCP start_task; attach --print and tmux.attach stay
// shell-safe; nothing hidden in the name runs.
func TestSecurityHostileCwd(t *testing.T) {
	e := newEnv(t)
	root := filepath.Dir(e.State)
	token := randHex(5)
	dir := filepath.Join(root, secName(token, "end;"))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := secRunner{e: e}
	out := filepath.Join(root, "pwd.out")
	tk := r.start(t, "--cwd", dir, "--name", "hc", "--restart", "always", "--",
		"sh", "-c", `printf '%s\0' "$(pwd -P)" >> "$1"; echo ready; exec sleep 300`, "sh", out)
	if tk.Cwd != dir {
		t.Fatalf("task cwd %q, want %q", tk.Cwd, dir)
	}
	if got := secFileRecords(t, out, 1); got[0] != real {
		t.Fatalf("the task ran in %q, want %q", got[0], real)
	}
	// tmux took -c literally: the session (created by this first task of
	// its group) has the directory as its path, "#" and all.
	if got, err := e.tmux("display-message", "-p", "-t", tk.Tmux.Pane, "#{session_path}"); err != nil || strings.TrimSuffix(got, "\n") != dir {
		t.Fatalf("session_path %q (%v), want %q", got, err, dir)
	}

	r.must(t, "restart", "hc")
	if got := secFileRecords(t, out, 2); got[1] != real {
		t.Fatalf("after restart the task ran in %q, want %q", got[1], real)
	}
	r.must(t, "screen", "hc")
	for _, line := range []string{r.must(t, "attach", "--print", "hc"), e.status("hc").Tmux.Attach} {
		if w := secShellWords(t, e.Dir, line); len(w) < 4 || w[0] != "tmux" || w[len(w)-2] != "-t" {
			t.Fatalf("attach command %q reads as %q", line, w)
		}
	}

	// A shell string in the directory runs there, as given.
	sh := r.start(t, "--cwd", dir, "--", `printf '%s\0' "$(pwd -P)" > ../pwd2.out`)
	e.waitFinished(sh.ID)
	if got := secFileRecords(t, filepath.Join(root, "pwd2.out"), 1); got[0] != real {
		t.Fatalf("the shell string ran in %q, want %q", got[0], real)
	}

	// The tmux server dies and the task runs on (issue 13); restore shows
	// it in a new session, created with the directory again, and a
	// restart runs it there once more.
	e.tmux("kill-server")
	t.Logf("restore: %s", r.must(t, "restore"))
	if out, err := e.tmux("display-message", "-p", "-t", e.status("hc").Tmux.Window, "#{session_path}"); err != nil || strings.TrimSpace(out) != dir {
		t.Fatalf("after restore: session_path %q (%v), want %q", out, err, dir)
	}
	r.must(t, "restart", "hc")
	if !poll(20*time.Second, func() bool { b, _ := os.ReadFile(out); return bytes.Count(b, []byte{0}) >= 3 }) {
		panes, _ := e.tmux("list-panes", "-a", "-F", "#{pane_id} #{pane_dead} #{pane_pid} #{@bgmux_id} #{pane_pipe}")
		t.Fatalf("restore did not run the task again in its directory: %s\nlogs: %s\npanes: %s\nsupervisors: %v", r.must(t, "status", "--json", "hc"), r.run("logs", "hc").Out, panes, e.supervisors())
	}
	if got := secFileRecords(t, out, 3); got[2] != real {
		t.Fatalf("after restore the task ran in %q, want %q", got[2], real)
	}

	// MCP start_task with the directory.
	c := mcpConnect(t, e)
	out3 := filepath.Join(root, "pwd3.out")
	var mt task
	c.ok("start_task", map[string]any{"command": []string{"sh", "-c", `printf '%s\0' "$(pwd -P)" > "$1"`, "sh", out3}, "cwd": dir, "name": "hcm"}, &mt)
	if mt.Cwd != dir {
		t.Fatalf("MCP task cwd %q, want %q", mt.Cwd, dir)
	}
	if got := secFileRecords(t, out3, 1); got[0] != real {
		t.Fatalf("the MCP task ran in %q, want %q", got[0], real)
	}
	secNoCanary(t, e, token, time.Second, dir)
}

// TestSecurityHostileStateDir: a state dir whose path holds shell and
// tmux syntax (it is quoted into pipe-pane's shell command, passed as an
// argv word to new-window and respawn-pane, printed in doctor's fix and
// written into the service unit) works through a whole lifecycle: start,
// logs --new --reader, wait --for, send, screen, stop --signal, restart
// (a new pipe), kill, rm, prune, doctor, service install; the log is at
// its path, doctor's fix is a command sh reads back as the path, and
// nothing hidden in the path runs.
func TestSecurityHostileStateDir(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	root := filepath.Dir(e.State)
	token := randHex(5)
	e.State = filepath.Join(root, secName(token, `\;`))
	r := secRunner{e: e}

	tk := r.start(t, "--name", "sd", "--", "sh", "-c", `echo ready; while IFS= read -r l; do echo "got:$l"; done`)
	r.must(t, "logs", "sd", "--new", "--reader", "rd")
	secWaitLine(t, r, "sd", "^ready")
	r.must(t, "send", "sd", "hello")
	secWaitLine(t, r, "sd", "^got:hello$")
	r.must(t, "logs", "sd", "--new", "--reader", "rd")
	r.must(t, "screen", "sd")
	r.must(t, "stop", "sd", "--signal", "INT", "--grace", "10s")
	e.waitFinished("sd")
	r.must(t, "restart", "sd")
	secWaitLine(t, r, "sd", "^ready")
	r.must(t, "send", "sd", "again")
	secWaitLine(t, r, "sd", "^got:again$")
	logPath := filepath.Join(e.State, "tasks", tk.ID, "output.log")
	if !poll(10*time.Second, func() bool {
		b, _ := os.ReadFile(logPath)
		return strings.Count(string(b), "ready") == 2 && strings.Contains(string(b), "got:again")
	}) {
		b, _ := os.ReadFile(logPath)
		t.Fatalf("the log at the hostile path lacks both runs: %q", b)
	}
	r.must(t, "kill", "sd")
	e.waitFinished("sd")
	q := r.start(t, "--", "echo", "quick")
	e.waitFinished(q.ID)
	r.must(t, "rm", q.ID)

	// doctor's fix for a state dir others can read is a command that sh
	// reads back as exactly this path.
	if err := os.Chmod(e.State, 0o755); err != nil {
		t.Fatal(err)
	}
	rep, _ := txDoctorJSON(t, e)
	ok, detail, fix := rep.check(t, "state_dir")
	if ok {
		t.Fatalf("doctor accepts a state dir of mode 0755: %s", detail)
	}
	if w := secShellWords(t, e.Dir, fix); !reflect.DeepEqual(w, []string{"chmod", "700", e.State}) {
		t.Fatalf("doctor's fix %q reads as %q", fix, w)
	}
	os.Chmod(e.State, 0o700)

	// The unit for service install carries the path literally.
	if env := secUnitEnv(t, r.must(t, "service", "install", "--print")); env["BGMUX_STATE_DIR"] != e.State {
		t.Fatalf("the unit's BGMUX_STATE_DIR reads as %q, want %q", env["BGMUX_STATE_DIR"], e.State)
	}

	r.must(t, "prune", "--all")
	if dirs := edgeTaskDirs(t, e); len(dirs) != 0 {
		t.Fatalf("prune left %q", dirs)
	}
	// No second state dir with the syntax interpreted, no canary.
	ents, _ := os.ReadDir(root)
	var names []string
	for _, de := range ents {
		names = append(names, de.Name())
	}
	if want := []string{filepath.Base(e.State), "work"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("entries next to the state dir: %q, want %q", names, want)
	}
	secNoCanary(t, e, token, time.Second, e.State)
}

// TestSecuritySendLiteral: send types text exactly as given (shell and
// tmux syntax, tmux key names, a lone ";" or "\;", leading dashes), named
// punctuation keys type themselves, MCP send_input does the same, and a
// key that is not a key is refused before anything is typed.
func TestSecuritySendLiteral(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	root := filepath.Dir(e.State)
	token := randHex(5)
	typed := filepath.Join(root, "typed")
	r := secRunner{e: e}
	r.start(t, "--name", "rd", "--", "sh", "-c", `echo ready; while IFS= read -r l; do printf '%s\n' "$l" >> "$1"; done`, "sh", typed)
	secWaitLine(t, r, "rd", "^ready")

	var want []string
	texts := append(secParts(token), "Enter", "C-c", "Escape", "-l", "--", ";", `\;`, `\`, "  lead and trail  ", "#", "~.", "%%")
	for _, txt := range texts {
		r.must(t, "send", "rd", "--", txt)
		want = append(want, strings.Split(txt, "\n")...)
	}
	keys := []string{";", "#", "%", "$", "'", `"`, "`", `\`, "{", "}", "~"}
	args := []string{"send", "rd", "--no-enter"}
	for _, k := range keys {
		args = append(args, "--key", k)
	}
	r.must(t, append(args, "--key", "Enter")...)
	want = append(want, strings.Join(keys, ""))

	c := mcpConnect(t, e)
	for _, txt := range secParts(token) {
		c.ok("send_input", map[string]any{"task": "rd", "text": txt}, nil)
		want = append(want, strings.Split(txt, "\n")...)
	}
	c.ok("send_input", map[string]any{"task": "rd", "key": "; # % Enter"}, nil)
	want = append(want, ";#%")

	if got := secFileLines(t, typed, len(want)); !reflect.DeepEqual(got, want) {
		t.Fatalf("the task read:\n%q\nwant:\n%q", got, want)
	}

	for _, k := range []string{"#(touch cvn-" + token + ")", `C-c \; run-shell 'touch cvo-` + token + "'",
		"$(touch cvp-" + token + ")", "Enter;", "#{pane_id}", "%1"} {
		if res := r.run("send", "rd", "--key", k); res.Code != 2 {
			t.Errorf("send --key %q: exit %d, want 2 (unknown key)\n%s", k, res.Code, res.Err)
		}
		if strings.Contains(k, "touch") {
			c.fail("send_input", map[string]any{"task": "rd", "key": k})
		}
	}
	// Nothing more was typed by the refused keys.
	r.must(t, "send", "rd", "last")
	if got := secFileLines(t, typed, len(want)+1); got[len(want)] != "last" || len(got) != len(want)+1 {
		t.Fatalf("after the refused keys the task read %q", got[len(want):])
	}
	secNoCanary(t, e, token, time.Second)
}

// TestSecurityHostileFlags: every flag and argument of every command, fed
// each hostile piece, is a usage error, a not-found or a plain result:
// no crash, no canary, no task created, and the live task untouched.
func TestSecurityHostileFlags(t *testing.T) {
	e := newEnv(t)
	token := randHex(5)
	r := secRunner{e: e}
	tk := r.start(t, "--name", "fl", "--", "sh", "-c", "echo ready; echo 'a #(x) $(y) ;'; exec sleep 300")
	secWaitLine(t, r, "fl", "^ready")
	var cmds [][]string
	for _, h := range secParts(token) {
		cmds = append(cmds, [][]string{
			{"stop", "fl", "--signal", h}, {"stop", "fl", "--grace", h}, {"kill", h}, {"status", h}, {"status", "--json", h},
			{"logs", "fl", "--grep", h}, {"logs", "fl", "--new", "--reader", h}, {"logs", "fl", "--since", h},
			{"wait", "fl", "--for", h, "--timeout", "0.1s"}, {"wait", "fl", "--timeout", h}, {"screen", h},
			{"screen", "fl", "--lines", h}, {"attach", "--print", h}, {"send", h, "text"}, {"restart", h}, {"rm", h},
			{"prune", "--older-than", h}, {"prune", "--group", h}, {"list", "--group", h}, {"list", "--tag", h},
			{"list", "--state", h}, {"up", h}, {"down", h},
			{"start", "--name", h, "--", "true"}, {"start", "--group", h, "--", "true"}, {"start", "--tag", h, "--", "true"},
			{"start", "--restart", h, "--", "true"}, {"start", "--max-log-size", h, "--", "true"},
			{"start", "--max-restarts", h, "--", "true"}, {"start", "--env", h, "--", "true"},
			{"start", "--timeout", h, "--wait-for", "x", "--", "true"},
		}...)
	}
	// Four at a time: bgmux's commands are safe to run concurrently.
	results := make([]result, len(cmds))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = r.run(cmds[i]...)
			}
		}()
	}
	for i := range cmds {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, res := range results {
		if res.Code != 0 && res.Code != 1 && res.Code != 2 && res.Code != 124 || strings.Contains(res.Err, "panic:") {
			t.Errorf("bgmux %q: exit %d\n%s%s", cmds[i], res.Code, res.Out, res.Err)
		}
	}
	if got := e.status("fl"); got.State != "running" || got.PID == nil || tk.PID == nil || *got.PID != *tk.PID {
		t.Fatalf("the task after the hostile flags: %+v", got)
	}
	if dirs := edgeTaskDirs(t, e); !reflect.DeepEqual(dirs, []string{tk.ID}) {
		t.Fatalf("hostile flags created tasks: %q", dirs)
	}
	secNoCanary(t, e, token, time.Second)
}

// TestSecurityHostileSocketName: a tmux socket name (BGMUX_SOCKET) with
// quotes, $() and #() works for start, send, screen, restart and stop; the
// attach commands printed for a human read back with that exact name, and
// so does the service unit's BGMUX_SOCKET.
func TestSecurityHostileSocketName(t *testing.T) {
	e := newEnv(t)
	token := randHex(4)
	// sun_path holds 108 bytes: keep the whole socket path short.
	e.Socket = "bgmux-test-" + randHex(6) + " q'$(touch cvq-" + token + ")#(touch cvr-" + token + ");"
	r := secRunner{e: e}
	tk := r.start(t, "--name", "so", "--", "sh", "-c", `echo ready; while IFS= read -r l; do echo "got:$l"; done`)
	if tk.Tmux.Socket != e.Socket {
		t.Fatalf("task socket %q, want %q", tk.Tmux.Socket, e.Socket)
	}
	secWaitLine(t, r, "so", "^ready")
	if st, err := os.Lstat(filepath.Join(secSocketDir(), e.Socket)); err != nil || st.Mode()&fs.ModeSocket == 0 {
		t.Fatalf("no socket named literally %q: %v", e.Socket, err)
	}
	for _, line := range []string{r.must(t, "attach", "--print", "so"), tk.Tmux.Attach} {
		if w := secShellWords(t, e.Dir, line); len(w) < 3 || w[0] != "tmux" || w[1] != "-L" || w[2] != e.Socket {
			t.Fatalf("attach command %q reads as %q, want tmux -L %q ...", line, w, e.Socket)
		}
	}
	r.must(t, "send", "so", "hi")
	secWaitLine(t, r, "so", "^got:hi$")
	r.must(t, "screen", "so")
	r.must(t, "restart", "so")
	secWaitLine(t, r, "so", "^ready")
	if env := secUnitEnv(t, r.must(t, "service", "install", "--print")); env["BGMUX_SOCKET"] != e.Socket {
		t.Fatalf("the unit's BGMUX_SOCKET reads as %q, want %q", env["BGMUX_SOCKET"], e.Socket)
	}
	// From another socket, the hint says how to reach the task's: an
	// assignment sh reads back as exactly the name.
	otherSock := "bgmux-test-other-" + randHex(6)
	t.Cleanup(func() { exec.Command("tmux", "-L", otherSock, "kill-server").Run() })
	other := secRunner{e: e, env: []string{"BGMUX_SOCKET=" + otherSock}}
	for _, args := range [][]string{{"send", "so", "hi"}, {"screen", "so"}, {"restart", "so"}} {
		res := other.run(args...)
		m := regexp.MustCompile(`set (BGMUX_SOCKET=.*)`).FindStringSubmatch(strings.TrimSpace(res.Err))
		if res.Code != 1 || m == nil {
			t.Fatalf("bgmux %q from socket %s: exit %d %s; want a conflict naming BGMUX_SOCKET", args, otherSock, res.Code, res.Err)
		}
		cmd := exec.Command("/bin/sh", "-c", `eval "$1" && printf '%s' "$BGMUX_SOCKET"`, "sh", m[1])
		cmd.Dir = e.Dir
		if got, err := cmd.Output(); err != nil || string(got) != e.Socket {
			t.Fatalf("the hint %q sets BGMUX_SOCKET to %q (%v), want %q", m[1], got, err, e.Socket)
		}
	}
	rep, _ := txDoctorJSON(t, e)
	if ok, detail, _ := rep.check(t, "socket"); !ok {
		t.Fatalf("doctor's socket check: %s", detail)
	}
	r.must(t, "stop", "so")
	e.waitFinished("so")
	secNoCanary(t, e, token, time.Second)
}

// TestSecurityHostileConfig: up and down with a config whose declared task
// has a hostile cwd, env value and argv words run it exactly so; a
// declared shell string gets its own quoting only; hostile task names,
// groups and dependencies are refused before anything starts; a hostile
// shell path is exec'd as a path (and fails), never read by a shell.
func TestSecurityHostileConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	root := filepath.Dir(e.State)
	token := randHex(5)
	name, dir, real := secHostileDir(t, root, token)
	value := strings.Join(secParts(token), " ")
	out, shOut := filepath.Join(root, "up.out"), filepath.Join(root, "sh.out")
	writeCfg := func(file string, cfg map[string]any) string {
		b, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(root, file)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := writeCfg("good.yaml", map[string]any{"tasks": map[string]any{
		"hup": map[string]any{
			"command": []string{"sh", "-c", `{ pwd -P; printf '%s\n' "$V" "$2"; } > "$1.tmp"; mv "$1.tmp" "$1"; echo ready; exec sleep 300`, "sh", out, value},
			"cwd":     name, "env": map[string]string{"V": value}, "ready": "^ready",
		},
		"hsh": map[string]any{
			"command":    "printf '%s\\n' " + secShQuote(value) + " > " + secShQuote(shOut),
			"cwd":        name,
			"depends_on": []string{"hup"},
		},
	}})
	r := secRunner{e: e}
	r.must(t, "--config", good, "up", "--json")
	b, _ := os.ReadFile(out)
	if want := real + "\n" + value + "\n" + value + "\n"; !poll(20*time.Second, func() bool {
		b, _ = os.ReadFile(out)
		return string(b) == want
	}) {
		t.Fatalf("the declared task wrote %q, want %q", b, want)
	}
	e.waitFinished("hsh")
	if b, _ := os.ReadFile(shOut); string(b) != value+"\n" {
		t.Fatalf("the declared shell string wrote %q, want %q", b, value+"\n")
	}
	var hup task
	edgeOneJSON(t, "status", r.must(t, "--config", good, "status", "--json", "hup"), &hup)
	if hup.Cwd != dir {
		t.Fatalf("declared task cwd %q, want %q", hup.Cwd, dir)
	}
	r.must(t, "--config", good, "down", "--json")

	before := edgeTaskDirs(t, e)
	for i, h := range []string{secParts(token)[0], secParts(token)[4], secParts(token)[6]} {
		for j, cfg := range []map[string]any{
			{"tasks": map[string]any{h: map[string]any{"command": "true"}}},
			{"tasks": map[string]any{"t": map[string]any{"command": "true", "group": h}}},
			{"tasks": map[string]any{"t": map[string]any{"command": "true", "depends_on": []string{h}}}},
			{"tasks": map[string]any{"t": map[string]any{"command": "true", "tags": []string{h}}}},
		} {
			p := writeCfg(fmt.Sprintf("bad-%d-%d.yaml", i, j), cfg)
			if res := r.run("--config", p, "up"); res.Code != 2 {
				t.Errorf("up with %v: exit %d, want 2\n%s%s", cfg, res.Code, res.Out, res.Err)
			}
		}
	}
	if after := edgeTaskDirs(t, e); !reflect.DeepEqual(after, before) {
		t.Fatalf("refused configs created tasks: %q -> %q", before, after)
	}

	// A hostile shell: exec'd as a path, which does not exist.
	shell := writeCfg("shell.yaml", map[string]any{"shell": "/bin/sh -c 'touch cvu-" + token + "' #", "tasks": map[string]any{
		"viashell": map[string]any{"command": "touch cvv-" + token}}})
	if res := r.run("--config", shell, "up"); res.Code == 0 {
		if got := e.waitFinished("viashell"); got.State == "exited" && got.ExitCode != nil && *got.ExitCode == 0 {
			t.Fatalf("a task run by a shell that does not exist succeeded: %+v", got)
		}
	}
	secNoCanary(t, e, token, time.Second, dir)
}

// TestSecurityHostileExePath: a bgmux binary whose path holds shell and
// tmux syntax (and ends in ";") runs as every window's supervisor: the
// path is an argv word of new-window and respawn-pane, never parsed.
func TestSecurityHostileExePath(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token := randHex(5)
	bin := filepath.Join(t.TempDir(), "b $(touch cvv-"+token+") #(touch cvw-"+token+`) \; run-shell 'touch cvx-`+token+"' %1", "bgmux #{pane_id};")
	secCopyBinary(t, bin)
	r := secRunner{e: e, bin: bin}
	tk := r.start(t, "--name", "ex", "--", "sh", "-c", "echo ready; exec sleep 300")
	secWaitLine(t, r, "ex", "^ready")
	if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", secSupervisorPID(t, e, tk.ID))); err != nil || exe != bin {
		t.Fatalf("the supervisor runs %q (%v), want %q", exe, err, bin)
	}
	r.must(t, "restart", "ex")
	if !poll(20*time.Second, func() bool { return r.status(t, "ex")["runs"] == float64(2) }) {
		t.Fatalf("no second run: %v", r.status(t, "ex"))
	}
	secWaitLine(t, r, "ex", "^ready")
	if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", secSupervisorPID(t, e, tk.ID))); err != nil || exe != bin {
		t.Fatalf("after restart the supervisor runs %q (%v), want %q", exe, err, bin)
	}
	r.must(t, "stop", "ex")
	secNoCanary(t, e, token, time.Second, filepath.Dir(bin))
}

// TestSecurityServiceUnit: the unit written by service install reads back,
// the way systemd parses it, as exactly the values it was made from:
// Environment= values with quotes, "$", "%", backslashes, tabs and
// newlines, and an ExecStart= path with spaces, "$", "%" and ";" (systemd
// expands neither "$" nor "$$" in the executable path); a path systemd
// cannot represent (quotes, backslashes) is refused rather than written
// into a unit systemd rejects. systemd-analyze verify checks the result.
func TestSecurityServiceUnit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	root := filepath.Dir(e.State)
	token := randHex(4)
	e.State = filepath.Join(root, `st "q" 'a' $HOME ${X} %h %% \n`+"\ttab\nnl ;")
	cfg := filepath.Join(root, "cfg $(touch cvy-"+token+") %i ;.yaml")
	if err := os.WriteFile(cfg, []byte("history_limit: 1000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := os.Getenv("PATH") + ":/opt/odd $x %p \"q\""
	e.Extra = append(e.Extra, "BGMUX_CONFIG="+cfg, "PATH="+path)
	analyze, _ := exec.LookPath("systemd-analyze")
	verify := func(t *testing.T, unit string) {
		t.Helper()
		if analyze == "" {
			t.Logf("systemd-analyze not installed: unit not verified by systemd")
			return
		}
		p := filepath.Join(t.TempDir(), "bgmux-restore.service")
		os.WriteFile(p, []byte(unit), 0o644)
		if out, err := exec.Command(analyze, "verify", p).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Fatalf("systemd-analyze verify: %v\n%s\nunit:\n%s", err, out, unit)
		}
	}

	t.Run("environment", func(t *testing.T) {
		unit := secRunner{e: e}.must(t, "service", "install", "--print")
		env := secUnitEnv(t, unit)
		for k, want := range map[string]string{"BGMUX_STATE_DIR": e.State, "BGMUX_CONFIG": cfg, "BGMUX_SOCKET": e.Socket, "PATH": path} {
			if env[k] != want {
				t.Errorf("the unit's %s reads as %q, want %q", k, env[k], want)
			}
		}
		verify(t, unit)
	})
	t.Run("executable path", func(t *testing.T) {
		bin := filepath.Join(t.TempDir(), "my tools $PATH ${X} %h 50% ;", "bgmux")
		secCopyBinary(t, bin)
		unit := secRunner{e: e, bin: bin}.must(t, "service", "install", "--print")
		execs := secUnitSetting(unit, "ExecStart")
		if len(execs) != 1 {
			t.Fatalf("unit has ExecStart= %q", execs)
		}
		if w := secUnitWords(t, execs[0]); len(w) != 2 || w[0] != bin || w[1] != "restore" {
			t.Fatalf("ExecStart=%s reads as %q, want [%q restore] (systemd does not expand \"$$\" in the executable path; see tasks/service.go ServiceUnit)", execs[0], w, bin)
		}
		verify(t, unit)
	})
	t.Run("unrepresentable executable path", func(t *testing.T) {
		bin := filepath.Join(t.TempDir(), `it's "q" \b`, "bgmux")
		secCopyBinary(t, bin)
		res := secRunner{e: e, bin: bin}.run("service", "install", "--print")
		if res.Code == 0 {
			verify(t, res.Out)
		}
	})
	secNoCanary(t, e, token, 0)
}

// TestSecurityTaskOutputCannotDriveTmux: what a task prints cannot make
// tmux run anything: a window-rename escape with #() is ignored (the
// window keeps its name), a pane title with #() and $() stays text while
// a person is attached (bgmux attach in a real terminal) and tmux draws
// the status line from bgmux's formats, and expanding those formats
// directly runs nothing either.
func TestSecurityTaskOutputCannotDriveTmux(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token := randHex(5)
	r := secRunner{e: e}
	script := strings.ReplaceAll(`printf '\033k#(touch cvt1-T)\033\\'; printf '\033]2;#(touch cvt2-T) $(touch cvt3-T)\007';`+
		` printf '\033]0;#(touch cvt4-T)\007'; printf '\033Ptmux;\033\033]2;#(touch cvt5-T)\007\033\\';`+
		` echo; echo ready; exec sleep 300`, "-T", "-"+token)
	tk := r.start(t, "--name", "out", "--", "sh", "-c", script)
	secWaitLine(t, r, "out", "^ready")
	if out, err := e.tmux("list-windows", "-a", "-F", "#{window_name}"); err != nil || strings.TrimSpace(out) != "out" {
		t.Fatalf("window names %q (%v): the task renamed its window", out, err)
	}
	if out, _ := e.tmux("display-message", "-p", "-t", tk.Tmux.Pane, "#T"); !strings.Contains(out, "touch cvt") {
		t.Logf("pane title %q: tmux did not take the task's title", out)
	}

	o := txNewOuter(t)
	pane := o.terminal("h", e.Dir, append(txBgmuxEnv(e, false), "TERM=xterm", bgmuxBin, "attach", tk.ID)...)
	txWaitClient(t, e, tk.Tmux.Session, tk.Tmux.Window, func() string { return "outer pane:\n" + o.screen(pane) })
	var screen string
	if !poll(20*time.Second, func() bool {
		screen = o.screen(pane)
		return strings.Contains(screen, "1 running")
	}) {
		t.Fatalf("the attached client never drew bgmux's status line:\n%s", screen)
	}
	for _, f := range []string{"#{E:window-status-format}", "#{E:window-status-current-format}", "#{E:status-right}", "#{E:status-left}", "#{E:set-titles-string}"} {
		if out, err := e.tmux("display-message", "-p", "-t", tk.Tmux.Pane, f); err != nil {
			t.Fatalf("display-message %s: %v %s", f, err, out)
		}
	}
	secNoCanary(t, e, token, 2*time.Second)
}

// TestSecurityHostileMCP: the MCP tools pass hostile commands, working
// directories, env values, typed text, regexes, reader names, signals,
// task references, names and groups through as data: the task gets them
// literally, the typed text comes back, the rest is refused, and nothing
// hidden in them runs.
func TestSecurityHostileMCP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	root := filepath.Dir(e.State)
	token := randHex(5)
	_, dir, real := secHostileDir(t, root, token)
	parts := secParts(token)
	value := strings.Join(parts, " ")
	out := filepath.Join(root, "mcp.out")
	c := mcpConnect(t, e)
	command := append([]string{"sh", "-c", `out=$1; shift; { pwd -P; printf '%s\n' "$V" "$#" "$@"; } > "$out.tmp"; mv "$out.tmp" "$out"; ` +
		`echo ready; while IFS= read -r l; do printf 'got:%s\n' "$l"; done`, "sh", out}, parts...)
	c.ok("start_task", map[string]any{"command": command, "cwd": dir, "env": map[string]string{"V": value},
		"name": "mc", "wait_for": "^ready", "timeout_s": 20}, nil)
	want := real + "\n" + value + "\n" + strconv.Itoa(len(parts)) + "\n" + strings.Join(parts, "\n") + "\n"
	check := func(what string) {
		var b []byte
		if !poll(20*time.Second, func() bool {
			b, _ = os.ReadFile(out)
			return string(b) == want
		}) {
			t.Fatalf("%s: the task wrote %q, want %q", what, b, want)
		}
	}
	check("start_task")
	var tk task
	c.ok("get_task", map[string]any{"task": "mc"}, &tk)
	if tk.Cwd != dir || !reflect.DeepEqual(tk.Argv, command) {
		t.Fatalf("get_task: cwd %q argv %q", tk.Cwd, tk.Argv)
	}
	for _, p := range parts {
		if strings.Contains(p, "\n") {
			continue
		}
		c.ok("send_input", map[string]any{"task": "mc", "text": p}, nil)
		c.ok("wait_task", map[string]any{"task": "mc", "for": "^got:" + regexp.QuoteMeta(p) + "$", "timeout_s": 20}, nil)
	}
	for _, p := range parts {
		c.call("read_output", map[string]any{"task": "mc", "grep": p})
		c.call("list_tasks", map[string]any{"group": p})
		c.fail("read_output", map[string]any{"task": "mc", "new": true, "reader": p})
		c.fail("stop_task", map[string]any{"task": "mc", "signal": p})
		c.fail("get_task", map[string]any{"task": p})
		c.fail("remove_task", map[string]any{"task": p})
		c.fail("restart_task", map[string]any{"task": p})
		c.fail("start_task", map[string]any{"command": "true", "name": p})
		c.fail("start_task", map[string]any{"command": "true", "group": p})
		c.fail("start_task", map[string]any{"command": "true", "tags": []string{p}})
		if strings.Contains(p, "touch") {
			c.fail("send_input", map[string]any{"task": "mc", "key": p})
		}
	}
	c.ok("restart_task", map[string]any{"task": "mc"}, nil)
	c.ok("wait_task", map[string]any{"task": "mc", "for": "^ready", "timeout_s": 20}, nil)
	check("restart_task")
	c.ok("stop_task", map[string]any{"task": "mc"}, nil)
	c.ok("remove_task", map[string]any{"task": "mc", "force": true}, nil)
	secNoCanary(t, e, token, time.Second, dir)
}
