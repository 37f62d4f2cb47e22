package cli

import (
	"strings"

	ucli "github.com/urfave/cli/v2"
	"github.com/xrash/smetrics"
)

// similarEnough is the Jaro-Winkler similarity (as urfave/cli's own
// suggestions measure it) from which a typo gets a suggestion: "strat"
// is start, "xyz" is nothing.
const similarEnough = 0.8

// similarity is urfave/cli's measure of how alike two words are.
func similarity(a, b string) float64 { return smetrics.JaroWinkler(a, b, 0.7, 4) }

// suggestCommand is the visible command whose name is most like name,
// or "" when none is close.
func suggestCommand(app *ucli.App, name string) string {
	best, score := "", similarEnough
	for _, c := range app.Commands {
		if c.Hidden {
			continue
		}
		for _, n := range c.Names() {
			if s := similarity(n, name); s >= score {
				best, score = c.Name, s
			}
		}
	}
	return best
}

// suggestFlag is the flag ("--name") of flags most like name (typed
// without dashes), or "" when none is close. It uses urfave/cli's
// suggestion (SuggestFlag) and keeps it only when it is close enough.
func suggestFlag(flags []ucli.Flag, name string) string {
	if ucli.SuggestFlag == nil {
		return ""
	}
	s := ucli.SuggestFlag(flags, name, true)
	if s == "" || similarity(strings.TrimLeft(s, "-"), name) < similarEnough {
		return ""
	}
	return s
}
