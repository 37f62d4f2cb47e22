package tasks

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	good := []string{"web", "echo_server", "a", "A-1_b", strings.Repeat("x", MaxNameLen)}
	for _, n := range good {
		if err := ValidateName(n); err != nil {
			t.Errorf("ValidateName(%q) = %v, want ok", n, err)
		}
	}
	bad := map[string]string{
		"":                            "empty",
		"a b":                         `' '`,
		"x;y":                         `';'`,
		"-x":                          `'-'`,
		"_x":                          `'_'`,
		"web.1":                       `'.'`,
		"a:b":                         `':'`,
		"bg-abc":                      "reserved",
		strings.Repeat("x", 65):       "limit",
		"caf\xe9":                     "UTF-8",
		"$(touch x)":                  `'$'`,
		"n\nl":                        `'\n'`,
		"#{pane_id}":                  `'#'`,
		"quote'd":                     `'\''`,
		strings.Repeat("é", 3) + "ok": `'é'`,
	}
	for n, want := range bad {
		err := ValidateName(n)
		if err == nil {
			t.Errorf("ValidateName(%q) = nil, want an error", n)
			continue
		}
		if KindOf(err) != KindInvalid || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateName(%q) = %v (kind %s), want invalid_input mentioning %s", n, err, KindOf(err), want)
		}
	}
}

func TestDefaultName(t *testing.T) {
	str := func(s string) *string { return &s }
	cases := []struct {
		cmd  *string
		argv []string
		want string
	}{
		{str("python3 -m http.server"), nil, "python3"},
		{str("PORT=3000 npm run dev"), nil, "npm"},
		{str("exec ./node_modules/.bin/vite"), nil, "vite"},
		{nil, []string{"/usr/bin/sleep", "10"}, "sleep"},
		{nil, []string{"env", "A=1", "go", "test"}, "go"},
		{str("   "), nil, "task"},
		{nil, []string{"bg-x"}, "task"},
		{nil, []string{"my prog!"}, "my-prog"},
		{nil, []string{"$(rm -rf /)"}, "task"},
		{nil, []string{"$(touch x)"}, "touch-x"},
	}
	for _, c := range cases {
		got := DefaultName(c.cmd, c.argv)
		if got != c.want {
			t.Errorf("DefaultName(%v, %q) = %q, want %q", c.cmd, c.argv, got, c.want)
		}
		if err := ValidateName(got); err != nil {
			t.Errorf("DefaultName gave invalid name %q: %v", got, err)
		}
	}
}

func TestValidateEnvKey(t *testing.T) {
	for _, k := range []string{"A", "_x", "PATH", "a1"} {
		if err := ValidateEnvKey(k); err != nil {
			t.Errorf("ValidateEnvKey(%q) = %v", k, err)
		}
	}
	for _, k := range []string{"", "1A", "A-B", "A B", "A=B"} {
		if err := ValidateEnvKey(k); err == nil {
			t.Errorf("ValidateEnvKey(%q) = nil, want error", k)
		}
	}
}

// TestSpecSummaryLeavesOutBaseEnv: the summary list and status read has
// every field of the spec, the exact bytes of non-UTF-8 strings included,
// but not the client's environment.
func TestSpecSummaryLeavesOutBaseEnv(t *testing.T) {
	cmd := "echo \xff"
	full := Spec{
		ID: "bg-abc123", Name: "web", Group: "g", Command: &cmd, Cwd: "/tmp/\xfe",
		Env: map[string]string{"A": "1", "B": "\xfd"}, BaseEnv: []string{"HOME=/root", "X=\xfc"},
		Tags: []string{"t"}, Restart: "always", Socket: "s", MaxLogSize: 1 << 20,
	}
	data, err := json.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	var back Spec
	if err := json.Unmarshal(data, &back); err != nil || !reflect.DeepEqual(back, full) {
		t.Fatalf("full decode: %v\n%+v\nwant %+v", err, back, full)
	}
	var sum Spec
	if err := json.Unmarshal(data, (*specSummary)(&sum)); err != nil {
		t.Fatal(err)
	}
	want := full
	want.BaseEnv = nil
	if !reflect.DeepEqual(sum, want) {
		t.Fatalf("summary:\n%+v\nwant %+v", sum, want)
	}
	if err := json.Unmarshal([]byte(`{"id": "bg-abc123", "base_env": [`), (*specSummary)(&sum)); err == nil {
		t.Fatalf("a truncated spec decodes as a summary")
	}
}
