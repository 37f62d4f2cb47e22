package tmuxctl

import (
	"math/rand"
	"os/exec"
	"strings"
	"testing"
)

func TestArg(t *testing.T) {
	for in, want := range map[string]string{
		"":           "",
		"plain":      "plain",
		"a;":         `a\;`,
		";":          `\;`,
		`a\;`:        `a\\;`,
		"a;b":        "a;b",
		"#{pane_id}": "#{pane_id}",
		"a b ;":      `a b \;`,
	} {
		if got := Arg(in); got != want {
			t.Errorf("Arg(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLiteral(t *testing.T) {
	for in, want := range map[string]string{
		"":              "",
		"plain":         "plain",
		"#":             "##",
		"#{pane_id}":    "##{pane_id}",
		"##":            "####",
		"#(id);":        `##(id)\;`,
		";":             `\;`,
		"a;b #[fg=red]": "a;b ##[fg=red]",
		`x\;`:           `x\\;`,
	} {
		if got := Literal(in); got != want {
			t.Errorf("Literal(%q) = %q, want %q", in, got, want)
		}
	}
}

// Arg and Literal values reach tmux intact: a user option set with Arg,
// and a window name (format-expanded by tmux) set with Literal.
func TestArgLiteralThroughTmux(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	w, err := s.NewWindow(ctx, spec("g", "w", "sleep", "1000"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"a;", ";", `a\;`, "#{pane_id}", "x #(touch /nonexistent/x) y", "end \\", "it's \"q\" $HOME"} {
		if _, err := s.run(ctx, "set-option", "-w", "-t", w.Window, "@v", Arg(v), ";", "rename-window", "-t", w.Window, Literal(v)); err != nil {
			t.Fatalf("set %q: %v", v, err)
		}
		if got := raw(t, s, "show-options", "-w", "-v", "-t", w.Window, "@v"); strings.TrimSuffix(got, "\n") != v && strings.TrimSuffix(got, "\n") != `"`+strings.ReplaceAll(v, `"`, `\"`)+`"` {
			t.Errorf("option set to Arg(%q) reads back %q", v, got)
		}
		// tmux itself escapes "\\" and "$" in names (vis(3)); bgmux names
		// never hold them.
		if got := raw(t, s, "display-message", "-p", "-t", w.Window, "#{window_name}"); got != v+"\n" && !strings.ContainsAny(v, `\$`) {
			t.Errorf("window renamed to Literal(%q) is named %q", v, got)
		}
	}
}

func TestShellQuoteRoundTrip(t *testing.T) {
	cases := []string{
		"", " ", "plain", "a b", "'", "''", `"`, `\`, `\\'`, "it's", `a"b'c`,
		"$HOME", "${HOME}", "$(touch /nonexistent/canary)", "`id`", "a\nb", "\n", "\t",
		"*", "?", "[a]", "~", "~root", "-n", "-e", "--", "%s", "%%", "a;b", "a&&b", "a|b",
		"!", "#", "# comment", "=", "a=b", "é ü 日本", "\x01\x7f", "trailing ", " leading",
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 200; i++ {
		b := make([]byte, rng.Intn(12))
		for j := range b {
			b[j] = byte(1 + rng.Intn(255)) // any byte but NUL
		}
		cases = append(cases, string(b))
	}
	// Run all cases through one shell: each is printed between markers.
	var script strings.Builder
	for _, c := range cases {
		script.WriteString("printf '%s\\0' " + ShellQuote(c) + "\n")
	}
	out, err := exec.Command("sh", "-c", script.String()).Output()
	if err != nil {
		t.Fatalf("sh: %v", err)
	}
	got := strings.Split(string(out), "\x00")
	if len(got) != len(cases)+1 {
		t.Fatalf("sh printed %d words for %d cases", len(got)-1, len(cases))
	}
	for i, c := range cases {
		if got[i] != c {
			t.Errorf("ShellQuote(%q) = %s read back as %q", c, ShellQuote(c), got[i])
		}
	}
	// The form the brief names, one process per case, for a few cases.
	for _, c := range []string{"", "a\nb", `it's "q"`, "$(id) `id`"} {
		out, err := exec.Command("sh", "-c", "printf %s "+ShellQuote(c)).Output()
		if err != nil || string(out) != c {
			t.Errorf("sh -c 'printf %%s '%s = %q, %v; want %q", ShellQuote(c), out, err, c)
		}
	}
}
