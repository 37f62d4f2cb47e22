package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/bgmux/bgmux/tasks"
)

// FuzzFlagValues checks how the command line turns regex, duration and
// signal flag values into outcomes, running bgmux itself (Main) on an
// empty state directory with --json:
//
//	wait --for=RE --timeout=DUR TASK
//	stop --signal=SIG --grace=DUR TASK
//	logs --since=DUR --grep=RE TASK
//
// Every run exits with status 2, prints one JSON error document on
// stdout and the same message after "bgmux: " on stderr, and never
// panics. The error is invalid_input exactly when a value is bad (a
// regex regexp.Compile rejects or an empty one, a duration
// tasks.ParseDuration rejects or a zero --timeout/--since, a signal
// tasks.ParseSignal rejects), and then names the flag or the value;
// otherwise the values pass and the unknown TASK is not_found. (logs
// checks its --grep expression only once it has a task.)
func FuzzFlagValues(f *testing.F) {
	f.Setenv("BGMUX_STATE_DIR", f.TempDir())
	f.Setenv("BGMUX_SOCKET", "bgmux-test-fuzz-never-started")
	f.Setenv("BGMUX_CONFIG", "")
	f.Setenv("XDG_CONFIG_HOME", f.TempDir())
	for _, s := range [][3]string{
		{"ready", "5s", "TERM"}, {"", "", ""}, {"(", "soon", "FOO"}, {"a{2,1}", "0", "0"}, {"^Listening on .*:\\d+$", "1m30s", "sigkill"},
		{"x", "-1s", "9"}, {"x", "-0", "+9"}, {"x", "0.5", "KILL;rm"}, {"x", "1e9", "ſigterm"}, {"x", "999999999", "hup"},
		{"--", "--", "--"}, {"-x", "-x", "-9"}, {"a=b", "5s=", "TERM=x"}, {"\n", " 5s ", " INT "}, {"\xff", "\xff", "\xff"},
		{"x", "2562047h47m16.854775808s", "64"}, {"x", "1ns", "31"}, {"(?i)ERROR|WARN", "0x10", "SIGRTMIN"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, re, dur, sig string) {
		_, reErr := regexp.Compile(re)
		badRE := re == "" || reErr != nil
		d, durErr := tasks.ParseDuration(dur)
		badDur := durErr != nil
		_, _, sigErr := tasks.ParseSignal(sig)
		badSig := sigErr != nil

		q := func(v string) string { return fmt.Sprintf("%q", strings.TrimSpace(v)) }
		kind := func(bad bool) string {
			if bad {
				return "invalid_input"
			}
			return "not_found"
		}
		runFlags(t, kind(badRE || badDur || d <= 0), []string{"--for", "--timeout", q(dur)},
			"wait", "--json", "--for="+re, "--timeout="+dur, "nosuch")
		runFlags(t, kind(badSig || badDur), []string{"--grace", "signal", q(sig), q(dur)},
			"stop", "--json", "--signal="+sig, "--grace="+dur, "nosuch")
		runFlags(t, kind(badDur || d <= 0 || re == ""), []string{"--since", "--grep", q(dur)},
			"logs", "--json", "--since="+dur, "--grep="+re, "nosuch")
	})
}

// runFlags runs bgmux with args and checks the error it reports: exit
// status 2, the JSON error of kind want on stdout, the same message on
// stderr, and (for invalid_input) a message naming one of the flags
// or values in mentions (values quoted as the messages quote them).
func runFlags(t *testing.T, want string, mentions []string, args ...string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(append([]string{"bgmux"}, args...), IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	var doc struct {
		Error struct{ Kind, Message string } `json:"error"`
	}
	dec := json.NewDecoder(&out)
	if err := dec.Decode(&doc); err != nil || dec.More() {
		t.Fatalf("bgmux %q: stdout is not one JSON document (%v): %q", args, err, out.String())
	}
	if code != 2 || doc.Error.Kind != want {
		t.Fatalf("bgmux %q: exit %d, error %+v; want exit 2 and kind %s", args, code, doc.Error, want)
	}
	if doc.Error.Message == "" || jsonRoundTrip(errb.String()) != "bgmux: "+doc.Error.Message+"\n" {
		t.Fatalf("bgmux %q: stderr %q does not carry the JSON message %q", args, errb.String(), doc.Error.Message)
	}
	if want == "invalid_input" {
		for _, m := range mentions {
			if strings.Contains(errb.String(), m) {
				return
			}
		}
		t.Fatalf("bgmux %q: the message %q names none of %q", args, errb.String(), mentions)
	}
}

// jsonRoundTrip is s as it reads back from JSON, whose encoder replaces
// invalid UTF-8 (one U+FFFD per bad byte).
func jsonRoundTrip(s string) string {
	data, _ := json.Marshal(s)
	var back string
	json.Unmarshal(data, &back)
	return back
}
