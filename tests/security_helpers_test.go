package tests

// Security tests (issue 6): modes of everything bgmux writes, secrecy of
// task environments, isolation from other users, and canary tests showing
// that no hostile name, path, value or command reaches a shell or tmux's
// command and format parsers. Helpers start with "sec".

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
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
