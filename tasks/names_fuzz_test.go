package tasks

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// wordOK is the name alphabet written out independently of checkWord:
// 1 to MaxNameLen bytes of ASCII letters, digits, '_' and '-', the first
// a letter or a digit.
func wordOK(s string) bool {
	if s == "" || len(s) > MaxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '-') {
			return false
		}
	}
	return true
}

// FuzzValidateName checks the name rules shared by task names, groups and
// tags. ValidateName accepts exactly the words of the documented alphabet
// that do not start with the id prefix "bg-"; ValidateGroup and tags
// accept exactly the words; every rejection is an invalid_input error
// whose message names the value. The names bgmux derives itself
// (sanitize, DefaultName, DefaultGroup) are always accepted, and sanitize
// is idempotent and leaves a clean word unchanged.
func FuzzValidateName(f *testing.F) {
	for _, s := range []string{
		"", "web", "Web-2", "a_b", "9lives", "-x", "_x", "x-", "x_", "bg-", "bg-a3", "BG-a3", "bgx",
		"a b", "a.b", "a/b", "日本", "\xff", "a\x00", strings.Repeat("a", MaxNameLen), strings.Repeat("a", MaxNameLen+1),
		"--a--b--", "npm run dev", "./node_modules/.bin/vite", "FOO=1 python3 -m http.server", "env", "sudo bg-x",
		strings.Repeat("é", 40), strings.Repeat("a-", 40),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkRule := func(what string, err error, want bool) {
			t.Helper()
			if (err == nil) != want {
				t.Fatalf("%s(%q) = %v; want accepted=%v", what, s, err, want)
			}
			if err == nil {
				return
			}
			if KindOf(err) != KindInvalid {
				t.Fatalf("%s(%q): kind %s, want invalid_input: %v", what, s, KindOf(err), err)
			}
			if s != "" && !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) {
				t.Fatalf("%s(%q): message does not quote the value: %v", what, s, err)
			}
			if s == "" && !strings.Contains(err.Error(), "empty") {
				t.Fatalf("%s(\"\"): message does not say it is empty: %v", what, err)
			}
		}
		word := wordOK(s)
		checkRule("ValidateName", ValidateName(s), word && !strings.HasPrefix(s, IDPrefix))
		checkRule("ValidateGroup", ValidateGroup(s), word)
		checkRule("checkWord(tag)", checkWord("tag", s), word)

		clean := sanitize(s, MaxNameLen)
		if clean != "" && !wordOK(clean) {
			t.Fatalf("sanitize(%q) = %q, not a valid word", s, clean)
		}
		if again := sanitize(clean, MaxNameLen); again != clean {
			t.Fatalf("sanitize is not idempotent: %q -> %q -> %q", s, clean, again)
		}
		if word && !strings.Contains(s, "--") && strings.Trim(s, "-_") == s && clean != s {
			t.Fatalf("sanitize(%q) = %q changed a clean word", s, clean)
		}
		for _, n := range []string{DefaultName(&s, nil), DefaultName(nil, []string{s, "arg"}), DefaultName(nil, strings.Fields(s))} {
			if err := ValidateName(n); err != nil {
				t.Fatalf("DefaultName from %q = %q, which ValidateName rejects: %v", s, n, err)
			}
		}
		// The directory need not exist: DefaultGroup only looks for .git.
		dir := filepath.Join("/nonexistent-bgmux-fuzz", strings.ReplaceAll(s, "\x00", ""))
		if g := DefaultGroup(dir); ValidateGroup(g) != nil {
			t.Fatalf("DefaultGroup(%q) = %q, which ValidateGroup rejects", dir, g)
		}
	})
}
