package tasks

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestAuditEnvFileFormat: env files read as docker reads them (values
// literal, comments, blank lines, a BOM, CRLF, a bare KEY from the
// environment, later lines winning), --env entries over the files, and
// every malformed line an invalid_input error naming FILE:LINE that never
// quotes the line.
func TestAuditEnvFileFormat(t *testing.T) {
	dir := t.TempDir()
	env := []string{"HOME=/h", "FROM_ENV=first", "FROM_ENV=env value", "EMPTY="}
	file := func(name, text string) string {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return name
	}
	good := file("good.env", "\xef\xbb\xbf# comment\n\n \t\n  # indented comment\nA=1\nQ=\"quoted\" 'x' $HOME \\n \nEQ=a=b\nCR=v\r\n\tLEAD=x\nFROM_ENV\nEMPTY\nNONE=\nA=2")
	second := file("second.env", "B=from second\nA=3\n")
	got, err := taskEnv(dir, []string{good, filepath.Join(dir, second)}, []string{"B=flag", "HOME"}, env)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "3", "Q": `"quoted" 'x' $HOME \n `, "EQ": "a=b", "CR": "v", "LEAD": "x",
		"FROM_ENV": "env value", "EMPTY": "", "NONE": "", "B": "flag", "HOME": "/h"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("env\n got %q\nwant %q", got, want)
	}
	const secret = "s3cr3t-value"
	for _, c := range []struct {
		text, want string
	}{
		{"A=1\nBAD-KEY=" + secret + "\n", "bad.env:2: not KEY=VALUE"},
		{secret + "\n", "bad.env:1: not KEY=VALUE"},
		{"ghp_" + secret[:6] + "\n", "bad.env:1: a name without '=' takes its value from bgmux's environment, where it is not set"},
		{"=" + secret + "\n", "bad.env:1: not KEY=VALUE"},
		{"1A=" + secret + "\n", "bad.env:1: not KEY=VALUE"},
		{"export A=" + secret + "\n", `bad.env:1: drop the "export"`},
		{"A B=" + secret + "\n", "bad.env:1: not KEY=VALUE"},
		{"A=" + secret + "\x00\n", "bad.env:1: the value of A contains a NUL byte"},
		{strings.Repeat("A=1\n", maxEnvFile/4+1), "larger than"},
	} {
		file("bad.env", c.text)
		_, err := taskEnv(dir, []string{"bad.env"}, nil, env)
		if err == nil || KindOf(err) != KindInvalid || !strings.Contains(err.Error(), c.want) {
			t.Errorf("env file %q: %v; want an invalid_input error with %q", c.text[:min(len(c.text), 40)], err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), secret[:6]) {
			t.Errorf("env file %q: the error quotes the line: %v", c.text, err)
		}
	}
	for _, c := range []struct {
		files, entries []string
		want           string
	}{
		{[]string{"missing.env"}, nil, "missing.env does not exist"},
		{[]string{""}, nil, "env file name is empty"},
		{[]string{"."}, nil, "is a directory"},
		{nil, []string{"UNSET_KEY"}, "--env UNSET_KEY takes the value of UNSET_KEY from bgmux's environment, where it is not set"},
		{nil, []string{"BAD-KEY=x"}, `"BAD-KEY" has invalid character '-'`},
		{nil, []string{"A=x\x00"}, "--env A: the value contains a NUL byte"},
	} {
		if _, err := taskEnv(dir, c.files, c.entries, env); err == nil || KindOf(err) != KindInvalid || !strings.Contains(err.Error(), c.want) {
			t.Errorf("files %q entries %q: %v; want an invalid_input error with %q", c.files, c.entries, err, c.want)
		}
	}
}
