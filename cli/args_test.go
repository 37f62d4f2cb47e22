package cli

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestPermuteArgs(t *testing.T) {
	app := newApp(IO{})
	cases := []struct{ in, want []string }{
		{[]string{"bgmux", "status", "web", "--json"}, []string{"bgmux", "status", "--json", "--", "web"}},
		{[]string{"bgmux", "logs", "web", "--tail", "5", "--raw"}, []string{"bgmux", "logs", "--tail", "5", "--raw", "--", "web"}},
		{[]string{"bgmux", "--config", "c.yaml", "stop", "web", "--signal", "INT"}, []string{"bgmux", "--config", "c.yaml", "stop", "--signal", "INT", "--", "web"}},
		{[]string{"bgmux", "rm", "a", "--force", "--", "-b"}, []string{"bgmux", "rm", "--force", "--", "a", "-b"}},
		// start keeps everything after the first positional: it is the command.
		{[]string{"bgmux", "start", "python3", "-m", "http.server"}, []string{"bgmux", "start", "python3", "-m", "http.server"}},
		{[]string{"bgmux", "start", "--name", "x", "--", "ls", "-l"}, []string{"bgmux", "start", "--name", "x", "--", "ls", "-l"}},
		{[]string{"bgmux"}, []string{"bgmux"}},
		{[]string{"bgmux", "nosuchcmd", "x", "--json"}, []string{"bgmux", "nosuchcmd", "x", "--json"}},
	}
	for _, c := range cases {
		got := permuteArgs(app, append([]string(nil), c.in...))
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("permuteArgs(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func runMain(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	t.Setenv("BGMUX_STATE_DIR", t.TempDir())
	t.Setenv("BGMUX_SOCKET", "bgmux-test-cli-never-started")
	t.Setenv("BGMUX_CONFIG", "")
	code := Main(append([]string{"bgmux"}, args...), IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	return out.String(), errb.String(), code
}

func TestUsageErrorsExit2(t *testing.T) {
	cases := [][]string{
		{"status", "--bogus"},
		{"stop", "--signal", "FOO", "x"},
		{"stop", "--grace", "soon", "x"},
		{"logs"},
		{"rm"},
		{"prune", "--older-than", "x"},
		{"status", "no-such-task"},
		{"list", "--state", "sleeping"},
	}
	for _, args := range cases {
		_, stderr, code := runMain(t, args...)
		if code != 2 || !strings.HasPrefix(stderr, "bgmux: ") {
			t.Errorf("bgmux %q: exit %d, stderr %q; want exit 2 and a bgmux: message", args, code, stderr)
		}
	}
}

func TestJSONErrorObject(t *testing.T) {
	out, stderr, code := runMain(t, "status", "--json", "no-such-task")
	if code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	var doc struct {
		Error struct{ Kind, Message string } `json:"error"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, out)
	}
	if doc.Error.Kind != "not_found" || !strings.Contains(doc.Error.Message, "no-such-task") || !strings.Contains(stderr, "no-such-task") {
		t.Fatalf("error object %+v, stderr %q", doc, stderr)
	}
}

func TestListEmptyIsJSONArray(t *testing.T) {
	out, _, code := runMain(t, "list", "--json")
	if code != 0 || strings.TrimSpace(out) != "[]" {
		t.Fatalf("list --json on an empty store: exit %d, %q; want []", code, out)
	}
}
