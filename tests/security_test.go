package tests

// Security tests (issue 6): modes of everything bgmux writes, secrecy of
// task environments, isolation from other users, and canary tests showing
// that no hostile name, path, value or command reaches a shell or tmux's
// command and format parsers. Helpers start with "sec".

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// secRunner runs a bgmux binary in a test's world, optionally under
// another umask, another user or with extra environment.
type secRunner struct {
	e     *env
	bin   string // the binary; bgmuxBin when empty
	dir   string // the working directory; e.Dir when empty
	umask string // when set, the binary runs under this umask (sh -c 'umask U; exec ...')
	cred  *syscall.Credential
	env   []string // appended to e.Environ()
}

func (r secRunner) run(args ...string) result {
	bin := r.bin
	if bin == "" {
		bin = bgmuxBin
	}
	var cmd *exec.Cmd
	if r.umask != "" {
		cmd = exec.Command("/bin/sh", append([]string{"-c", "umask " + r.umask + ` && exec "$0" "$@"`, bin}, args...)...)
	} else {
		cmd = exec.Command(bin, args...)
	}
	cmd.Dir = r.dir
	if cmd.Dir == "" {
		cmd.Dir = r.e.Dir
	}
	cmd.Env = append(r.e.Environ(), r.env...)
	if r.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: r.cred}
	}
	return runCmd(cmd)
}

func (r secRunner) must(t *testing.T, args ...string) string {
	t.Helper()
	res := r.run(args...)
	if res.Code != 0 {
		t.Fatalf("bgmux %q: exit %d\nstdout: %s\nstderr: %s", args, res.Code, res.Out, res.Err)
	}
	return res.Out
}

// start runs start --json and decodes the task.
func (r secRunner) start(t *testing.T, args ...string) task {
	t.Helper()
	out := r.must(t, append([]string{"start", "--json"}, args...)...)
	var tk task
	edgeOneJSON(t, "start --json", out, &tk)
	return tk
}

// status decodes status --json into a generic map (fields the harness's
// task type lacks: restarts, next_restart_at).
func (r secRunner) status(t *testing.T, ref string) map[string]any {
	t.Helper()
	var m map[string]any
	edgeOneJSON(t, "status --json", r.must(t, "status", "--json", ref), &m)
	return m
}

// secWaitLine waits until the task's current run printed a line matching
// re, failing the test otherwise.
func secWaitLine(t *testing.T, r secRunner, ref, re string) {
	t.Helper()
	if res := r.run("wait", ref, "--for", re, "--timeout", "20s"); res.Code != 0 {
		t.Fatalf("wait %s --for %q: exit %d\n%s%s\nlogs:\n%s", ref, re, res.Code, res.Out, res.Err, r.run("logs", ref).Out)
	}
}

// secNoCanary fails the test as soon as a canary file (a name starting
// "cv<letters>-<token>", which only a hidden "touch" creates) shows up
// where a misquoted command could have created it: the test's temp dirs
// and the extra dirs (walked), "/", $HOME and the temp dir (one level). A
// command run by mistake (a shell, tmux's #() or run-shell) runs
// asynchronously, so the places are watched for settle, not looked at
// once. (Names bgmux derives from hostile input, such as a group made
// from a directory name, hold the token too but not at the start.)
func secNoCanary(t *testing.T, e *env, token string, settle time.Duration, dirs ...string) {
	t.Helper()
	home, _ := os.UserHomeDir()
	canary := regexp.MustCompile(`^cv[a-z0-9]*-` + token)
	var found []string
	look := func() bool {
		found = nil
		for _, root := range []string{"/", home, os.TempDir()} {
			ents, _ := os.ReadDir(root)
			for _, de := range ents {
				if canary.MatchString(de.Name()) {
					found = append(found, filepath.Join(root, de.Name()))
				}
			}
		}
		for _, root := range append([]string{filepath.Dir(e.State), e.Dir}, dirs...) {
			filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err == nil && canary.MatchString(d.Name()) {
					found = append(found, p)
				}
				return nil
			})
		}
		return len(found) > 0
	}
	poll(settle, look)
	if len(found) > 0 {
		t.Fatalf("a command hidden in an input was run; it created %q", found)
	}
}

// secParts are the hostile pieces inputs are made of: shell command
// substitution in both spellings, quote break-outs, tmux's command
// separator with run-shell (escaped and bare), a tmux command block,
// tmux format command substitution #(), formats #{} and styles #[], a
// pane id, a newline and a trailing ";". Every piece that would create a
// canary names it "cv<letter>-<token>".
func secParts(token string) []string {
	return []string{
		"$(touch cva-" + token + ")",
		"`touch cvb-" + token + "`",
		"'; touch cvc-" + token + "; '",
		`"; touch cvd-` + token + ` #`,
		`\; run-shell 'touch cve-` + token + `'`,
		"; run-shell 'touch cvf-" + token + "' ;",
		"#(touch cvg-" + token + ")",
		"##(touch cvh-" + token + ")",
		"{ run-shell 'touch cvi-" + token + "' }",
		"#{pane_id}#{session_name}#[fg=red]#W",
		"%1 %% %s",
		"x\ny",
		"end;",
	}
}

// secName is a hostile file name (at most 255 bytes): the pieces most
// likely to be run by a shell or by tmux, a newline and a trailing ";"
// (or suffix).
func secName(token, suffix string) string {
	return `q'd"$(touch cvj-` + token + ") `touch cvk-" + token + "` #(touch cvl-" + token +
		`) \; run-shell 'touch cvm-` + token + `' #{pane_id} %1 {` + "\nnl " + suffix
}

// secHostileDir makes a directory with a hostile name (secName) in root
// and returns its name, its path and its path with symlinks resolved.
func secHostileDir(t *testing.T, root, token string) (name, dir, real string) {
	t.Helper()
	name = secName(token, "end;")
	dir = filepath.Join(root, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	real, _ = filepath.EvalSymlinks(dir)
	return name, dir, real
}

// secShellWords splits a command line printed for a human the way sh
// reads it (eval), so a badly quoted line runs its canary here, and
// returns the words.
func secShellWords(t *testing.T, dir, line string) []string {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", `eval "set -- $1" && printf '%s\0' "$@"`, "sh", strings.TrimRight(line, "\n"))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sh cannot read the printed command line %q: %v\n%s", line, err, out)
	}
	words := strings.Split(string(out), "\x00")
	return words[:len(words)-1]
}

// secUnitWords splits a systemd unit setting's value into words as
// systemd does for Environment= and ExecStart= (extract_first_word with
// EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE), then resolves "%%" (specifiers are
// expanded after unquoting); any other specifier fails the test, since
// systemd would replace it. "$" is left alone: Environment= never expands
// it, and ExecStart= does not expand it in the executable path.
func secUnitWords(t *testing.T, v string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\':
			if i++; i >= len(v) {
				t.Fatalf("unit value %q ends in a backslash", v)
			}
			switch v[i] {
			case 'n':
				cur.WriteByte('\n')
			case 't':
				cur.WriteByte('\t')
			case 'r':
				cur.WriteByte('\r')
			case '\\', '"', '\'', ' ':
				cur.WriteByte(v[i])
			case 'x':
				b, err := hex.DecodeString(v[i+1 : i+3])
				if err != nil {
					t.Fatalf("unit value %q: bad \\x escape", v)
				}
				cur.Write(b)
				i += 2
			default:
				t.Fatalf("unit value %q: escape \\%c not expected", v, v[i])
			}
			in = true
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote, in = c, true
		case quote == 0 && (c == ' ' || c == '\t'):
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if quote != 0 {
		t.Fatalf("unit value %q: unterminated quote", v)
	}
	if in {
		words = append(words, cur.String())
	}
	for i, w := range words {
		var b strings.Builder
		for j := 0; j < len(w); j++ {
			if w[j] != '%' {
				b.WriteByte(w[j])
				continue
			}
			if j+1 < len(w) && w[j+1] == '%' {
				b.WriteByte('%')
				j++
				continue
			}
			t.Fatalf("unit value %q: systemd would expand the specifier in %q", v, w)
		}
		words[i] = b.String()
	}
	return words
}

// secUnitSetting returns the values of every "key=" line of a unit.
func secUnitSetting(unit, key string) []string {
	var vals []string
	for _, l := range strings.Split(unit, "\n") {
		if v, ok := strings.CutPrefix(l, key+"="); ok {
			vals = append(vals, v)
		}
	}
	return vals
}

// secUnitEnv decodes the unit's Environment= lines into a map.
func secUnitEnv(t *testing.T, unit string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, v := range secUnitSetting(unit, "Environment") {
		for _, w := range secUnitWords(t, v) {
			k, val, ok := strings.Cut(w, "=")
			if !ok {
				t.Fatalf("Environment= word %q is not an assignment", w)
			}
			env[k] = val
		}
	}
	return env
}

// secSocketDir is the directory tmux keeps -L sockets of this user in.
func secSocketDir() string {
	base := os.Getenv("TMUX_TMPDIR")
	if base == "" {
		base = "/tmp"
	}
	return filepath.Join(base, fmt.Sprintf("tmux-%d", os.Getuid()))
}

// secSupervisorPID reads the task's run record's supervisor pid.
func secSupervisorPID(t *testing.T, e *env, id string) int {
	t.Helper()
	var run struct {
		SupervisorPID int `json:"supervisor_pid"`
	}
	b, err := os.ReadFile(filepath.Join(e.State, "tasks", id, "run"))
	if err != nil || json.Unmarshal(b, &run) != nil || run.SupervisorPID <= 0 {
		t.Fatalf("task %s: no run record with a supervisor pid: %v %s", id, err, b)
	}
	return run.SupervisorPID
}

// secFileRecords polls until path holds n NUL-terminated records (paths
// may hold newlines) and returns them.
func secFileRecords(t *testing.T, path string, n int) []string {
	t.Helper()
	return secFileSplit(t, path, n, "\x00")
}

// secFileLines polls until path holds n lines and returns them.
func secFileLines(t *testing.T, path string, n int) []string {
	t.Helper()
	return secFileSplit(t, path, n, "\n")
}

// secFileSplit polls until path holds n records, each ended by sep.
func secFileSplit(t *testing.T, path string, n int, sep string) []string {
	t.Helper()
	var recs []string
	if !poll(20*time.Second, func() bool {
		b, _ := os.ReadFile(path)
		s := string(b)
		if !strings.HasSuffix(s, sep) {
			return false
		}
		recs = strings.Split(strings.TrimSuffix(s, sep), sep)
		return len(recs) >= n
	}) {
		t.Fatalf("%s never held %d records ended by %q; it has %q", path, n, sep, recs)
	}
	return recs
}

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

// ---------------------------------------------------------------------
// 2. Environment secrecy

// TestSecurityEnvNotShown: values of a task's environment (--env, a
// declared task's env:, MCP start_task's env, and the starting client's
// own environment that bgmux records as base_env) reach the task and
// appear in none of list, status, their --json forms, error messages,
// doctor, attach --print, up/down/stop/restart results, MCP results, tmux
// window names, options and environments, or any process's command line.
// bgmux has no command that shows them (the spec sidecar, mode 0600,
// holds them); keys are not shown either.
func TestSecurityEnvNotShown(t *testing.T) {
	e := newEnv(t)
	root := filepath.Dir(e.State)
	token := randHex(6)
	cliV, declV, baseV, mcpV := "canary-cli-"+token, "canary-decl-"+token, "canary-base-"+token, "canary-mcp-"+token
	explicit := []string{cliV, declV, mcpV}
	all := append(explicit, baseV)
	dumps := filepath.Join(root, "dumps")
	if err := os.Mkdir(dumps, 0o700); err != nil {
		t.Fatal(err)
	}
	script := `env > "$1.tmp" && mv "$1.tmp" "$1"; echo up; sleep 300`
	cfg, err := yaml.Marshal(map[string]any{"tasks": map[string]any{
		"decl": map[string]any{
			"command": []string{"sh", "-c", script, "sh", filepath.Join(dumps, "decl")},
			"env":     map[string]string{"DECL_SECRET": declV},
			"ready":   "^up",
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	e.useConfig(string(cfg))
	e.Extra = append(e.Extra, "BGMUX_CLIENT_SECRET="+baseV)

	var outputs []string
	add := func(what string, s ...string) {
		outputs = append(outputs, what+"\x00"+strings.Join(s, "\x00"))
	}
	runAll := func(args ...string) result {
		r := e.run(args...)
		add(strings.Join(args, " "), r.Out, r.Err)
		return r
	}

	sec := e.start("--name", "sec", "--env", "SECRET="+cliV, "--env", "PLAIN=p", "--", "sh", "-c", script, "sh", filepath.Join(dumps, "cli"))
	add("start --json", e.must("status", "--json", sec.ID))
	if r := runAll("up", "--json"); r.Code != 0 {
		t.Fatalf("up: %d %s", r.Code, r.Err)
	}
	c := mcpConnect(t, e)
	res := c.ok("start_task", map[string]any{"command": []string{"sh", "-c", script, "sh", filepath.Join(dumps, "mcp")},
		"name": "secmcp", "env": map[string]string{"SECRET": mcpV}, "wait_for": "^up", "timeout_s": 20}, nil)
	add("mcp start_task", mcpText(res), mcpJSON(res.StructuredContent))

	// The values did reach the tasks.
	for file, want := range map[string][]string{"cli": {"SECRET=" + cliV, "BGMUX_CLIENT_SECRET=" + baseV},
		"decl": {"DECL_SECRET=" + declV}, "mcp": {"SECRET=" + mcpV}} {
		var b []byte
		if !poll(20*time.Second, func() bool {
			b, _ = os.ReadFile(filepath.Join(dumps, file))
			return len(b) > 0
		}) {
			t.Fatalf("task %s never wrote its environment", file)
		}
		for _, w := range want {
			if !strings.Contains(string(b), w+"\n") {
				t.Fatalf("task %s lacks %s in its environment:\n%s", file, w, b)
			}
		}
	}
	secWaitLine(t, secRunner{e: e}, "sec", "^up")
	secWaitLine(t, secRunner{e: e}, "decl", "^up")

	for _, args := range [][]string{
		{"list"}, {"list", "--all"}, {"list", "--json"}, {"list", "--all", "--json"}, {"status"},
		{"status", "sec"}, {"status", "--json", "sec"}, {"status", "decl"}, {"status", "--json", "decl"},
		{"status", "--json", "secmcp"}, {"logs", "sec"}, {"screen", "sec"}, {"attach", "--print", "sec"},
		{"doctor"}, {"doctor", "--json"}, {"up", "--json"}, {"wait", "sec", "--for", "^up", "--json"},
		// Errors, with the secret in the same invocation.
		{"start", "--env", "BAD-KEY=" + cliV, "--", "true"},
		{"start", "--json", "--env", "BAD-KEY=" + cliV, "--", "true"},
		{"start", "--env", "SECRET=" + cliV, "--cwd", "/nonexistent/dir", "--", "true"},
		{"start", "--env", "SECRET=" + cliV, "--name", "bad name", "--", "true"},
		{"start", "--env", "SECRET=" + cliV, "--restart", "bogus", "--", "true"},
		{"start", "--json", "--env", "SECRET=" + cliV, "--name", "sec", "--", "true"},
		{"start", "--env", "SECRET=" + cliV, "--wait-for", "(", "--", "true"},
		{"start", "--env", "SECRET=" + cliV},
		// Lifecycle results.
		{"restart", "--json", "sec"}, {"stop", "--json", "sec"}, {"down", "--json"},
	} {
		runAll(args...)
	}

	for _, call := range []struct {
		tool string
		args map[string]any
	}{
		{"get_task", map[string]any{"task": "sec"}},
		{"get_task", map[string]any{"task": "secmcp"}},
		{"list_tasks", map[string]any{"all": true}},
		{"list_tasks", nil},
		{"start_task", map[string]any{"command": "true", "env": map[string]string{"BAD-KEY": mcpV}}},
		{"start_task", map[string]any{"command": "true", "cwd": "/nonexistent/dir", "env": map[string]string{"SECRET": mcpV}}},
		{"start_task", map[string]any{"command": "true", "name": "secmcp", "env": map[string]string{"SECRET": mcpV}}},
		{"start_task", map[string]any{"command": "true", "wait_for": "(", "env": map[string]string{"SECRET": mcpV}}},
		{"restart_task", map[string]any{"task": "secmcp"}},
		{"stop_task", map[string]any{"task": "secmcp", "grace_s": 5}},
	} {
		res := c.call(call.tool, call.args)
		add("mcp "+call.tool, mcpText(res), mcpJSON(res.StructuredContent))
	}
	add("mcp stderr", c.stderr.String())

	// tmux: window names, every window's options, the global and session
	// options and environments. The client's own environment (baseV) is
	// tmux's business: the server copies the environment of the process
	// that started it, as with any tmux use, so only the explicit values
	// are checked there.
	var tmuxOut []string
	list, err := e.tmux("list-windows", "-a", "-F", "#{session_name}\t#{window_id}\t#{window_name}\t#{pane_title}\t#{pane_start_command}\t#{pane_current_command}\t#{window_flags}")
	if err != nil {
		t.Fatalf("list-windows: %v %s", err, list)
	}
	tmuxOut = append(tmuxOut, list)
	for _, l := range strings.Split(strings.TrimSpace(list), "\n") {
		f := strings.Split(l, "\t")
		if len(f) < 2 {
			continue
		}
		for _, args := range [][]string{{"show-options", "-w", "-t", f[1]}, {"show-options", "-p", "-t", f[1]},
			{"show-options", "-t", f[0]}, {"show-environment", "-t", f[0]}} {
			out, _ := e.tmux(args...)
			tmuxOut = append(tmuxOut, strings.Join(args, " ")+": "+out)
		}
	}
	for _, args := range [][]string{{"show-options", "-g"}, {"show-options", "-s"}, {"show-options", "-gw"}, {"show-environment", "-g"}, {"list-sessions"}} {
		out, _ := e.tmux(args...)
		tmuxOut = append(tmuxOut, strings.Join(args, " ")+": "+out)
	}

	for _, o := range outputs {
		what, rest, _ := strings.Cut(o, "\x00")
		for _, v := range all {
			if strings.Contains(rest, v) {
				t.Errorf("%s shows the environment value %q:\n%s", what, v, strings.ReplaceAll(rest, "\x00", "\n"))
			}
		}
	}
	for _, o := range tmuxOut {
		for _, v := range explicit {
			if strings.Contains(o, v) {
				t.Errorf("tmux shows the task environment value %q: %s", v, o)
			}
		}
	}
	// No process on the machine carries a value on its command line:
	// env never travels in argv (supervisor, tmux, pipe, task).
	procs, _ := os.ReadDir("/proc")
	for _, d := range procs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err != nil {
			continue
		}
		for _, v := range all {
			if bytes.Contains(cmdline, []byte(v)) {
				t.Errorf("process %s has the environment value %q on its command line: %q", d.Name(), v, cmdline)
			}
		}
	}
	// The values are on disk only in the tasks' specs, which are 0600.
	specs, _ := filepath.Glob(filepath.Join(e.State, "tasks", "*", "spec"))
	for _, p := range specs {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("spec %s: %v, want mode 0600", p, secMode(st, err))
		}
	}
}

// ---------------------------------------------------------------------
// 3. Another user

// TestSecurityOtherUser: a second user (uid 65534) running bgmux against
// root's state dir and tmux server can neither read nor change anything:
// every command fails with a permission error and the state dir, the task
// and its window are unchanged. The path to the state dir is made
// traversable, so what stops them is the state dir's own mode 0700.
// tmux's own guarantees are checked too: the socket directory refuses
// them, a -L name that walks into it fails, and a tmux 3.3+ server whose
// socket file is world-writable still refuses a client of another uid.
func TestSecurityOtherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatalf("TestSecurityOtherUser must run as root (it runs bgmux as uid 65534 against root's tasks); run the tests as root, as CI does")
	}
	e := newEnv(t)
	root := filepath.Dir(e.State)
	token := randHex(5)
	// Let uid 65534 reach the state dir's parent and run a copy of the
	// binary: only bgmux's own modes protect the state.
	for _, d := range []string{root, filepath.Dir(root)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(root, "bin", "bgmux")
	secCopyBinary(t, bin)
	os.Chmod(filepath.Dir(bin), 0o755)

	secret := "canary-other-" + token
	tk := e.start("--name", "mine", "--env", "SECRET="+secret, "--", "sh", "-c", "echo ready; while read l; do echo got:$l; done")
	secWaitLine(t, secRunner{e: e}, "mine", "^ready")
	before := secSnapshot(t, e.State)
	panesBefore, _ := edgePanes(e)
	if st, err := os.Stat(e.State); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("state dir: %v", secMode(st, err))
	}

	nobody := &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}
	other := secRunner{e: e, bin: bin, cred: nobody, env: []string{"HOME=/nonexistent"}}
	canary := filepath.Join(root, "cvo-"+token)
	for _, args := range [][]string{
		{"list"}, {"list", "--all", "--json"}, {"status", tk.ID}, {"status", "--json", tk.ID},
		{"logs", tk.ID}, {"logs", "--new", tk.ID}, {"screen", tk.ID}, {"attach", "--print", tk.ID},
		{"send", tk.ID, "touch " + canary}, {"stop", tk.ID}, {"kill", tk.ID}, {"restart", tk.ID},
		{"rm", "--force", tk.ID}, {"prune", "--all"}, {"wait", tk.ID, "--timeout", "1s"},
		{"start", "--", "touch", canary}, {"restore"}, {"doctor"},
	} {
		r := other.run(args...)
		low := strings.ToLower(r.Out + r.Err)
		if r.Code == 0 || !(strings.Contains(low, "permission denied") || strings.Contains(low, "not usable")) {
			t.Errorf("uid 65534: bgmux %q: exit %d, want a permission error\nstdout: %s\nstderr: %s", args, r.Code, r.Out, r.Err)
		}
		if strings.Contains(r.Out+r.Err, secret) {
			t.Errorf("uid 65534: bgmux %q shows the task's secret", args)
		}
	}

	// tmux: the socket directory is closed to them.
	rootSock := filepath.Join(secSocketDir(), e.Socket)
	cmd := exec.Command("tmux", "-S", rootSock, "list-sessions")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: nobody}
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=/nonexistent"}
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "Permission denied") {
		t.Errorf("uid 65534: tmux -S %s list-sessions: %v %s; want Permission denied", rootSock, err, out)
	}
	// Their own bgmux, their own state dir, with a socket name that walks
	// into root's socket directory: tmux refuses, nothing starts there.
	// (Their TMUX_TMPDIR is a short directory of theirs: sun_path is short.)
	mine := filepath.Join(root, "nobody")
	if err := os.Mkdir(mine, 0o700); err != nil {
		t.Fatal(err)
	}
	base, err := os.MkdirTemp("/tmp", "sec")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	for _, d := range []string{mine, base} {
		if err := os.Chown(d, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	base, _ = filepath.EvalSymlinks(base)
	rel, err := filepath.Rel(filepath.Join(base, "tmux-65534"), rootSock)
	if err != nil {
		t.Fatal(err)
	}
	walker := secRunner{e: e, bin: bin, cred: nobody, dir: mine, env: []string{"HOME=/nonexistent",
		"BGMUX_STATE_DIR=" + filepath.Join(mine, "state"), "BGMUX_SOCKET=" + rel, "TMUX_TMPDIR=" + base}}
	// bgmux refuses a -L name that leaves tmux's directory before tmux
	// is asked (the kernel's refusal, tmux -S, is checked above).
	if r := walker.run("start", "--", "touch", canary); r.Code != 2 || !strings.Contains(r.Out+r.Err, "socket name") {
		t.Errorf("uid 65534: start on socket %q: exit %d, want exit 2 refusing the socket name\n%s%s", rel, r.Code, r.Out, r.Err)
	}

	// Nothing changed: same files, same content, same window, task alive.
	if after := secSnapshot(t, e.State); !reflect.DeepEqual(before, after) {
		t.Errorf("the state dir changed while uid 65534 tried:\nbefore %v\nafter  %v", before, after)
	}
	if panes, _ := edgePanes(e); !reflect.DeepEqual(panes, panesBefore) {
		t.Errorf("root's tmux panes changed: %q -> %q", panesBefore, panes)
	}
	if got := e.status(tk.ID); got.State != "running" || got.PID == nil || tk.PID == nil || *got.PID != *tk.PID {
		t.Errorf("root's task after the attempts: %+v", got)
	}
	e.must("send", tk.ID, "still-mine")
	secWaitLine(t, secRunner{e: e}, tk.ID, "^got:still-mine$")
	if _, err := os.Stat(canary); err == nil {
		t.Fatalf("uid 65534 ran a command: %s exists", canary)
	}

	// tmux >= 3.3 checks the client's uid itself: even with the socket
	// file open to everyone, the server refuses another user.
	v, _ := exec.Command("tmux", "-V").Output()
	if !regexp.MustCompile(`tmux (3\.[3-9]|[4-9]\.|next)`).Match(v) {
		t.Logf("%s has no server-access check; skipping that layer", bytes.TrimSpace(v))
		return
	}
	open := filepath.Join(root, "open")
	os.Mkdir(open, 0o755)
	acl := filepath.Join(open, "sock")
	if out, err := exec.Command("tmux", "-S", acl, "-f", os.DevNull, "new-session", "-d", "sleep 300").CombinedOutput(); err != nil {
		t.Fatalf("tmux -S %s new-session: %v %s", acl, err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "-S", acl, "kill-server").Run() })
	if err := os.Chmod(acl, 0o666); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command("tmux", "-S", acl, "list-sessions")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: nobody}
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=/nonexistent"}
	// tmux 3.3a prints the refusal but exits 0: look at what it printed.
	if out, _ := cmd.CombinedOutput(); !strings.Contains(string(out), "access not allowed") || strings.Contains(string(out), "windows") {
		t.Errorf("uid 65534 on a world-writable tmux socket got %q; want tmux's \"access not allowed\"", out)
	}
}

// TestSecurityForeignStateDir: a state dir that another user owns, or
// that others may write into, is refused, not used: whoever can rename
// entries in it can swap task directories (a spec is what restore runs,
// as the state dir's user, e.g. from the systemd unit at boot) or the
// kept supervisor binary. Nothing is created in it.
func TestSecurityForeignStateDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatalf("TestSecurityForeignStateDir must run as root (it makes a state dir owned by uid 65534); run the tests as root, as CI does")
	}
	for _, c := range []struct {
		name string
		uid  int
		mode fs.FileMode
	}{
		{"owned by another user", 65534, 0o777},
		{"owned by another user, mode 0700", 65534, 0o700},
		{"writable by everyone", os.Getuid(), 0o777},
		{"writable by the group", os.Getuid(), 0o770},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			if err := os.Mkdir(e.State, c.mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(e.State, c.mode)
			if err := os.Chown(e.State, c.uid, c.uid); err != nil {
				t.Fatal(err)
			}
			res := e.run("start", "--", "true")
			ents, _ := os.ReadDir(e.State)
			if res.Code == 0 || len(ents) != 0 {
				var names []string
				for _, de := range ents {
					names = append(names, de.Name())
				}
				t.Errorf("bgmux used a state dir %s (uid %d, mode %04o): start exit %d, created %q; want it refused "+
					"(fix belongs in tasks/store.go Store.Init: refuse a state dir not owned by the user or writable by group/others)",
					c.name, c.uid, c.mode, res.Code, names)
			}
		})
	}
}

// secCopyBinary copies the bgmux binary to path (mode 0755).
func secCopyBinary(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(bgmuxBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// secSnapshot maps every path under dir to its mode, size, mtime and (for
// files) content hash.
func secSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		v := fmt.Sprintf("%v %d %d", st.Mode(), st.Size(), st.ModTime().UnixNano())
		if st.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			sum := sha256.Sum256(b)
			v += " " + hex.EncodeToString(sum[:8])
		}
		rel, _ := filepath.Rel(dir, p)
		m[rel] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

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
