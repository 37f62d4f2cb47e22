package cli

import (
	"time"

	"github.com/bgmux/bgmux/tasks"
)

// timeFlag is a duration flag parsed with tasks.ParseDuration, so "5",
// "5s" and "1m30s" are all accepted and a bad value is exit status 2.
type timeFlag struct {
	d   time.Duration
	set bool
}

// parseTime parses a duration flag's value v; set says the flag was
// given (when not, the timeFlag is zero).
func parseTime(set bool, v string) (timeFlag, error) {
	if !set {
		return timeFlag{}, nil
	}
	d, err := tasks.ParseDuration(v)
	if err != nil {
		return timeFlag{}, err
	}
	return timeFlag{d: d, set: true}, nil
}
