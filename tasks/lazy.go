package tasks

import (
	"regexp"
	"sync"
)

// lazyRegexp compiles expr on first use: every bgmux process links the
// tasks package, and most never use a given pattern, so compiling them
// all at start-up is wasted.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
