package cli

import (
	"io"
	"strings"
	"testing"

	ucli "github.com/urfave/cli/v2"
)

// parseWith runs bgmux's argument parsing on args ("bgmux NAME args...",
// flags after positionals moved as Main moves them) with the command
// newCmd builds in place of the real one, whose run is replaced by one
// that keeps the parsed options: no Manager is built and tmux is never
// run. It returns the options (nil when parsing failed before the run)
// and the error parsing returned.
func parseWith[O any](t *testing.T, newCmd func(IO, func(*O) error) *ucli.Command, args ...string) (*O, error) {
	t.Helper()
	var got *O
	cmd := newCmd(IO{}, func(o *O) error { got = o; return nil })
	app := newApp(IO{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard})
	found := false
	for i, c := range app.Commands {
		if c.Name == cmd.Name {
			cmd.OnUsageError, cmd.HideHelpCommand = c.OnUsageError, c.HideHelpCommand
			app.Commands[i], found = cmd, true
		}
	}
	if !found {
		t.Fatalf("bgmux has no command %q", cmd.Name)
	}
	err := app.Run(permuteArgs(app, append([]string{"bgmux", cmd.Name}, args...)))
	return got, err
}

// wantUsage checks that err is a command-line mistake (exit status 2)
// whose message contains want.
func wantUsage(t *testing.T, args []string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%q: no error; want one containing %q", args, want)
	}
	if code := report(err, IO{Out: io.Discard, Err: io.Discard}, false); code != 2 || !strings.Contains(err.Error(), want) {
		t.Fatalf("%q: error %q (exit %d); want exit 2 and %q", args, err, code, want)
	}
}

func ptr[T any](v T) *T { return &v }
