package tasks

import (
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
