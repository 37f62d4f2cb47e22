package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// auditBadSpecs are specs that parse as JSON but do not describe the task
// whose directory holds them: no id at all, or an id that walks out of
// the state directory (to the "precious" directory beside it).
var auditBadSpecs = []struct {
	name string
	spec func(t *testing.T, orig []byte) []byte
}{
	{"empty-object", func(*testing.T, []byte) []byte { return []byte("{}\n") }},
	{"null", func(*testing.T, []byte) []byte { return []byte("null\n") }},
	{"foreign", func(*testing.T, []byte) []byte { return []byte(`{"run":"one"}` + "\n") }},
	{"traversal", func(t *testing.T, orig []byte) []byte {
		var m map[string]any
		if err := json.Unmarshal(orig, &m); err != nil {
			t.Fatalf("spec is not a JSON object: %v\n%s", err, orig)
		}
		m["id"] = "../../precious"
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}},
}

// TestAuditIdentitySpec: a task's identity is its directory. A spec that
// parses but has no id, or an id other than its directory's (one that
// climbs out of the state dir), is set aside like an unparsable one by
// rm, prune and restore: they remove or write nothing but what they were
// asked to, so the running task beside it and a directory outside the
// state dir named by the bad id survive, and nothing is written into
// tasks/ itself.
func TestAuditIdentitySpec(t *testing.T) {
	t.Parallel()
	for _, bad := range auditBadSpecs {
		for _, cmd := range []string{"rm", "prune", "restore"} {
			t.Run(bad.name+"-"+cmd, func(t *testing.T) {
				t.Parallel()
				auditBadSpec(t, bad.spec, bad.name, cmd)
			})
		}
	}
}

// auditBadSpec gives a finished task (a lost one for restore) the spec
// made by spec, beside a running task and a directory outside the state
// dir, runs cmd and checks that only the damaged task was touched: set
// aside whole.
func auditBadSpec(t *testing.T, spec func(*testing.T, []byte) []byte, specName, cmd string) {
	e := newEnv(t)
	precious := filepath.Join(filepath.Dir(e.State), "precious")
	if err := os.MkdirAll(precious, 0o700); err != nil {
		t.Fatal(err)
	}
	keepFile := filepath.Join(precious, "keep")
	if err := os.WriteFile(keepFile, []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keep := e.start("--name", "keepme", "--", "exec sleep 300")
	old := e.start("--name", "old-"+cmd, "--", "true")
	e.waitFinished(old.ID)
	ftSettled(t, e, old.ID)
	dir := scTaskDir(e, old.ID)
	if cmd == "restore" {
		// Lost: its run ended without a record, so restore
		// would write one.
		for _, f := range []string{"exit", "history"} {
			if err := os.Remove(filepath.Join(dir, f)); err != nil {
				t.Fatal(err)
			}
		}
	}
	specPath := filepath.Join(dir, "spec")
	badSpec := spec(t, ftRead(t, specPath))
	if err := os.WriteFile(specPath, badSpec, 0o600); err != nil {
		t.Fatal(err)
	}

	// What the command did first, then what it said.
	r := e.run(map[string][]string{"rm": {"rm", old.ID}, "prune": {"prune", "--all"}, "restore": {"restore"}}[cmd]...)
	what := cmd + " with a spec " + specName
	if b, err := os.ReadFile(keepFile); err != nil || string(b) != "precious\n" {
		t.Fatalf("%s: the directory outside the state dir lost its file: %q %v", what, b, err)
	}
	if ents, _ := os.ReadDir(precious); len(ents) != 1 {
		t.Fatalf("%s: something was written outside the state dir: %v", what, ents)
	}
	ents, err := os.ReadDir(filepath.Join(e.State, "tasks"))
	if err != nil {
		t.Fatalf("%s: tasks/ is gone: %v", what, err)
	}
	for _, d := range ents {
		if !d.IsDir() || !strings.HasPrefix(d.Name(), "bg-") {
			t.Fatalf("%s: tasks/ holds %s, which is no task directory", what, d.Name())
		}
	}
	if st := e.status(keep.ID); st.State != "running" {
		t.Fatalf("%s: keepme is %s, want running", what, st.State)
	}
	aside := filepath.Join(e.State, "corrupt", old.ID)
	if b, err := os.ReadFile(filepath.Join(aside, "spec")); err != nil || string(b) != string(badSpec) {
		t.Fatalf("%s: the task was not set aside whole as %s: %q %v", what, aside, b, err)
	}
	if _, err := os.Stat(filepath.Join(aside, "set-aside.json")); err != nil {
		t.Fatalf("%s: no set-aside note: %v", what, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("%s: the task's directory is still in tasks/: %v", what, err)
	}
	if cmd == "restore" {
		for _, f := range []string{"exit", "history"} {
			if _, err := os.Stat(filepath.Join(aside, f)); !os.IsNotExist(err) {
				t.Fatalf("%s: restore wrote %s for a task it set aside: %v", what, f, err)
			}
		}
	}
	switch cmd {
	case "rm":
		if r.Code != 1 || r.Out != "" || !strings.Contains(r.Err, "task "+old.ID) || !strings.Contains(r.Err, "its spec sidecar") || !strings.Contains(r.Err, "set aside") {
			t.Fatalf("rm of a task whose spec is %s: exit %d\nstdout %q\nstderr %q\nwant exit 1 saying it was set aside", specName, r.Code, r.Out, r.Err)
		}
	case "prune":
		if r.Code != 0 || strings.Contains(r.Out, "removed") || !strings.Contains(r.Err, "bgmux: warning: task "+old.ID) || !strings.Contains(r.Err, "set aside") {
			t.Fatalf("prune --all beside a task whose spec is %s: exit %d\nstdout %q\nstderr %q\nwant nothing removed and a warning that it was set aside", specName, r.Code, r.Out, r.Err)
		}
	case "restore":
		if r.Code != 0 || !strings.Contains(r.Err, "task "+old.ID) || !strings.Contains(r.Err, "set aside") {
			t.Fatalf("restore beside a task whose spec is %s: exit %d\nstdout %q\nstderr %q\nwant a warning that it was set aside", specName, r.Code, r.Out, r.Err)
		}
	}
}
