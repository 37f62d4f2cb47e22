package tasks

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// auditSpec is a valid spec of task id as JSON, with the fields in set
// replaced (a nil value deletes the field).
func auditSpec(t *testing.T, id string, set map[string]any) string {
	t.Helper()
	c := "true"
	b, err := json.Marshal(Spec{ID: id, Name: "n", Group: "g", Command: &c, Restart: "never", Tags: []string{}, CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAuditRecordShape: a spec, run, exit or window sidecar that parses
// but is not a record bgmux writes is as damaged as one that does not
// parse: load reports a CorruptError naming the file, and list sets the
// task aside. Records bgmux does write in unusual cases (a command that
// could not start, a task lost before it ran) still load.
func TestAuditRecordShape(t *testing.T) {
	const id = "bg-shape1"
	bad := []struct{ file, text string }{
		{SpecFile, `{}`},
		{SpecFile, `null`},
		{SpecFile, `{"run":"one"}`},
		{SpecFile, auditSpec(t, id, map[string]any{"id": "../../precious"})},
		{SpecFile, auditSpec(t, id, map[string]any{"id": "bg-other1"})},
		{SpecFile, auditSpec(t, id, map[string]any{"id": nil})},
		{SpecFile, auditSpec(t, id, map[string]any{"name": "../x"})},
		{SpecFile, auditSpec(t, id, map[string]any{"name": nil})},
		{SpecFile, auditSpec(t, id, map[string]any{"group": ""})},
		{SpecFile, auditSpec(t, id, map[string]any{"group": "a/b"})},
		{SpecFile, auditSpec(t, id, map[string]any{"command": nil})},
		{SpecFile, auditSpec(t, id, map[string]any{"argv": []string{"true"}})},
		{SpecFile, auditSpec(t, id, map[string]any{"command": nil, "argv": []string{""}})},
		{SpecFile, auditSpec(t, id, map[string]any{"created_at": nil})},
		{SpecFile, auditSpec(t, id, map[string]any{"restart": "sometimes"})},
		{SpecFile, auditSpec(t, id, map[string]any{"max_restarts": -1})},
		{SpecFile, auditSpec(t, id, map[string]any{"tags": []string{"a b"}})},
		{RunFile, `{}`},
		{RunFile, `null`},
		{RunFile, `{"run":1,"pid":5,"pgid":5}`},
		{RunFile, `{"run":0,"supervisor_pid":4,"pid":5,"pgid":5}`},
		{RunFile, `{"run":1,"supervisor_pid":4,"pid":5,"pgid":1}`},
		{RunFile, `{"run":1,"supervisor_pid":4,"pid":-1,"pgid":-1}`},
		{RunFile, `{"run":1,"supervisor_pid":4,"pid":0,"pgid":7}`},
		{RunFile, `{"run":1,"supervisor_pid":4,"pid":5,"pgid":5,"log_offset":-5}`},
		{RunFile, `{"run":2,"restarts":-1,"supervisor_pid":4,"pid":5,"pgid":5}`},
		{ExitFile, `{}`},
		{ExitFile, `null`},
		{ExitFile, `{"run":1}`},
		{ExitFile, `{"run":-1,"exit_code":0}`},
		{ExitFile, `{"run":1,"exit_code":0,"signal":"SIGTERM"}`},
		{ExitFile, `{"run":1,"exit_code":300}`},
		{ExitFile, `{"run":1,"signal":""}`},
		{ExitFile, `{"run":1,"lost":true,"exit_code":0}`},
		{WindowFile, `{}`},
		{WindowFile, `null`},
		{WindowFile, `{"pane":"","window":"@1"}`},
		{WindowFile, `{"pane":"%1","window":"1"}`},
		{WindowFile, `{"pane":"%1","window":"@1","session_id":"main"}`},
		{WindowFile, `{"pane":"%1 ; kill-server","window":"@1"}`},
	}
	for _, c := range bad {
		s := OpenStore(filepath.Join(t.TempDir(), "state"))
		ftTask(t, s, id, "n")
		if err := os.WriteFile(s.Path(id, c.file), []byte(c.text), 0o600); err != nil {
			t.Fatal(err)
		}
		tk, err := s.load(id)
		var ce *CorruptError
		if !errors.As(err, &ce) || filepath.Base(ce.Path) != c.file || !strings.Contains(err.Error(), "is not a valid record") {
			id := ""
			if tk != nil {
				id = tk.ID
			}
			t.Errorf("load with %s %s: task %q, error %v; want a CorruptError of %s", c.file, c.text, id, err, c.file)
			continue
		}
		all, warnings, err := s.loadAll()
		if err != nil || len(all) != 0 || len(warnings) != 1 || !strings.Contains(warnings[0], "its "+c.file+" sidecar is not a valid record") {
			t.Errorf("loadAll with %s %s: %d tasks, %v, warnings %q", c.file, c.text, len(all), err, warnings)
			continue
		}
		if b, err := os.ReadFile(filepath.Join(s.Dir, CorruptDir, id, c.file)); err != nil || string(b) != c.text {
			t.Errorf("%s %s not set aside as it was: %q %v", c.file, c.text, b, err)
		}
	}

	good := []struct{ file, text string }{
		// The command could not start: no child, no process group.
		{RunFile, `{"run":1,"supervisor_pid":4,"pid":0,"pgid":0}`},
		// Recorded lost by restore before the task ever ran.
		{ExitFile, `{"run":0,"lost":true,"lost_reason":"host rebooted"}`},
		{ExitFile, `{"run":3,"signal":"SIGTERM"}`},
		{WindowFile, `{"pane":"%12","window":"@3"}`},
		{SpecFile, auditSpec(t, id, map[string]any{"command": nil, "argv": []string{"sleep", "1"}, "restart": nil, "tags": nil})},
	}
	for _, c := range good {
		s := OpenStore(filepath.Join(t.TempDir(), "state"))
		ftTask(t, s, id, "n")
		if err := os.WriteFile(s.Path(id, c.file), []byte(c.text), 0o600); err != nil {
			t.Fatal(err)
		}
		if tk, err := s.load(id); err != nil || tk.ID != id {
			t.Errorf("load with %s %s: %v; want it to load", c.file, c.text, err)
		}
	}
}

// TestAuditRecordHistory: a run history whose entries are not exit
// records is set aside before a new one is written, as an unparsable one
// is, and is not taken for the current run's exit.
func TestAuditRecordHistory(t *testing.T) {
	s := OpenStore(filepath.Join(t.TempDir(), "state"))
	id := "bg-hist01"
	ftTask(t, s, id, "h")
	p := s.Path(id, HistoryFile)
	bad := `[{"run":1,"exit_code":0},{}]`
	if err := os.WriteFile(p, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if h := lastHistory(p); h != nil {
		t.Fatalf("lastHistory of %s: %+v; want none", bad, h)
	}
	hist, ok := ReadHistory(p)
	aside, _ := filepath.Glob(p + ".corrupt-*")
	if !ok || hist != nil || len(aside) != 1 {
		t.Fatalf("ReadHistory of %s: %v %v, set aside as %v", bad, hist, ok, aside)
	}
	if b, _ := os.ReadFile(aside[0]); string(b) != bad {
		t.Fatalf("set-aside history holds %q", b)
	}
}

// TestAuditStorePaths: the store builds paths only from valid ids: Path
// and TaskDir of anything else name nothing a system call accepts, Remove
// refuses it, IDs skips directories that are no id, and Exists says no.
func TestAuditStorePaths(t *testing.T) {
	root := t.TempDir()
	s := OpenStore(filepath.Join(root, "state"))
	ftTask(t, s, "bg-keep01", "keep")
	precious := filepath.Join(root, "precious")
	if err := os.MkdirAll(filepath.Join(precious, "spec"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"", "bg-", "..", "../../precious", "bg-../../precious", "bg-a/b", "bg-a.b", "bg-a\x00", "keep", "/tmp"} {
		if err := s.Remove(id); err == nil {
			t.Errorf("Remove(%q) succeeded", id)
		}
		if s.Exists(id) {
			t.Errorf("Exists(%q)", id)
		}
		for _, p := range []string{s.TaskDir(id), s.Path(id, SpecFile)} {
			if _, err := os.Lstat(p); err == nil || !strings.Contains(p, "\x00") {
				t.Errorf("path of id %q is %q (%v); want one no system call accepts", id, p, err)
			}
		}
	}
	for _, file := range []string{"../bg-keep01/spec", "/etc/passwd", "..", ""} {
		if p := s.Path("bg-keep01", file); file != "" && !strings.Contains(p, "\x00") {
			t.Errorf("Path(bg-keep01, %q) = %q; want one no system call accepts", file, p)
		}
	}
	if err := os.MkdirAll(filepath.Join(s.Dir, "tasks", "bg-a.b"), 0o700); err != nil {
		t.Fatal(err)
	}
	if ids, err := s.IDs(); err != nil || len(ids) != 1 || ids[0] != "bg-keep01" {
		t.Errorf("IDs() = %v %v; want only bg-keep01", ids, err)
	}
	if _, err := os.Stat(filepath.Join(precious, "spec")); err != nil {
		t.Errorf("the directory outside the store is damaged: %v", err)
	}
	if _, err := os.Stat(s.Path("bg-keep01", SpecFile)); err != nil {
		t.Errorf("bg-keep01 is damaged: %v", err)
	}
	if err := s.Remove("bg-keep01"); err != nil || s.Exists("bg-keep01") {
		t.Errorf("Remove(bg-keep01): %v", err)
	}
}
