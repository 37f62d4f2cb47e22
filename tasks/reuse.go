package tasks

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// reuseDiff says how the spec asked for (want) differs from the spec of
// the live task a reuse found (have), in what start --reuse compares: the
// command (a shell string and an argv differ even when they read alike),
// the working directory, the environment's keys (never its values, which
// may be secrets) and the group. It returns "" when they match.
func reuseDiff(have, want *Spec) string {
	var diffs []string
	if !sameCommand(have, want) {
		diffs = append(diffs, fmt.Sprintf("it runs the command %s, not %s", commandWords(have), commandWords(want)))
	}
	if have.Cwd != want.Cwd {
		diffs = append(diffs, fmt.Sprintf("its cwd is %q, not %q", have.Cwd, want.Cwd))
	}
	if hk, wk := envKeys(have.Env), envKeys(want.Env); !slices.Equal(hk, wk) {
		diffs = append(diffs, fmt.Sprintf("its env keys are [%s], not [%s]", strings.Join(hk, " "), strings.Join(wk, " ")))
	}
	if have.Group != want.Group {
		diffs = append(diffs, fmt.Sprintf("its group is %s, not %s", have.Group, want.Group))
	}
	return strings.Join(diffs, "; ")
}

func sameCommand(a, b *Spec) bool {
	if (a.Command == nil) != (b.Command == nil) {
		return false
	}
	if a.Command != nil {
		return *a.Command == *b.Command
	}
	return slices.Equal(a.Argv, b.Argv)
}

// commandWords shows a spec's command for reuseDiff: a shell string
// quoted as one string, an argv as its words.
func commandWords(s *Spec) string {
	if s.Command != nil {
		return fmt.Sprintf("%q (a shell string)", *s.Command)
	}
	return fmt.Sprintf("%q (an argv)", QuoteArgv(s.Argv))
}

func envKeys(env map[string]string) []string {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
