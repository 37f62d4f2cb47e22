package tests

// Helpers shared by the output, bad-input, hostile-input, concurrency and
// go-run tests. Their names start with "edge" to stay clear of helpers in
// other test files of this package.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"
)

// edgeOneJSON fails the test unless out is exactly one valid JSON document
// in valid UTF-8, and decodes it into v (when v is not nil).
func edgeOneJSON(t testing.TB, what, out string, v any) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("%s: output is not valid UTF-8: %q", what, edgeShort(out))
	}
	if !json.Valid([]byte(out)) {
		t.Fatalf("%s: output is not one valid JSON document: %q", what, edgeShort(out))
	}
	dec := json.NewDecoder(strings.NewReader(out))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		t.Fatalf("%s: decode: %v", what, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		t.Fatalf("%s: more than one JSON document in the output: %q", what, edgeShort(out))
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatalf("%s: unexpected JSON shape: %v\n%s", what, err, edgeShort(out))
		}
	}
}

// edgeShort cuts s for error messages.
func edgeShort(s string) string {
	if len(s) > 2000 {
		return s[:1000] + " ... " + s[len(s)-1000:]
	}
	return s
}

// edgeLogs is the --json document of bgmux logs.
type edgeLogs struct {
	ID      string   `json:"id"`
	LogPath string   `json:"log_path"`
	Size    int64    `json:"size"`
	Lines   []string `json:"lines"`
}

// edgeLogLines returns the task's log lines through bgmux logs --json,
// checking that the output is one valid JSON document.
func edgeLogLines(t testing.TB, e *env, ref string, extra ...string) edgeLogs {
	t.Helper()
	out := e.must(append([]string{"logs", "--json", ref}, extra...)...)
	var l edgeLogs
	edgeOneJSON(t, "logs --json "+ref, out, &l)
	return l
}

// edgePanes lists every pane of the test's tmux server as
// "pane window @bgmux_id" lines, sorted; ok is false when no server runs.
func edgePanes(e *env) (panes []string, ok bool) {
	out, err := exec.Command("tmux", "-L", e.Socket, "list-panes", "-a", "-F", "#{pane_id} #{window_id} #{@bgmux_id}").Output()
	if err != nil {
		return nil, false
	}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			panes = append(panes, l)
		}
	}
	sort.Strings(panes)
	return panes, true
}

// edgeTaskDirs lists the entries of <state>/tasks, sorted.
func edgeTaskDirs(t testing.TB, e *env) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(e.State, "tasks"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range ents {
		names = append(names, de.Name())
	}
	return names
}

// canaryName reports whether a file name is a canary: touched as TOKEN,
// TOKEN2 or cvN-TOKEN, so the token plus a few bytes and no space. The
// hostile directories holding the canary commands in their names have
// spaces, and a longer name holding the token is bgmux's own sanitized
// copy of a hostile string (the name index directory of a group named
// after a hostile directory, say), not a command that ran.
func canaryName(name, token string) bool {
	return strings.Contains(name, token) && !strings.Contains(name, " ") && len(name) <= len(token)+6
}

// edgeFindNamed returns every path under the roots whose base name is a
// canary of token (roots that do not exist are skipped; "/" and the home
// directory are looked at one level deep only).
func edgeFindNamed(token string, roots ...string) []string {
	var found []string
	for _, root := range roots {
		if root == "/" || root == os.Getenv("HOME") || root == os.TempDir() {
			ents, _ := os.ReadDir(root)
			for _, de := range ents {
				if canaryName(de.Name(), token) {
					found = append(found, filepath.Join(root, de.Name()))
				}
			}
			continue
		}
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if canaryName(d.Name(), token) {
				found = append(found, p)
			}
			return nil
		})
	}
	return found
}

// edgeRunBin runs the bgmux binary with e's environment from dir without
// touching t, so it can be called from any goroutine.
func edgeRunBin(e *env, dir string, args ...string) result {
	cmd := exec.Command(bgmuxBin, args...)
	cmd.Dir = dir
	cmd.Env = e.Environ()
	return runCmd(cmd)
}

// runCmd runs cmd and returns its output and exit status (-1, with the
// error on Err, when it could not run).
func runCmd(cmd *exec.Cmd) result {
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else {
			code = -1
			errb.WriteString(err.Error())
		}
	}
	return result{Out: out.String(), Err: errb.String(), Code: code}
}
