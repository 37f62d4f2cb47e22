package cli

import (
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

// timeFlag is a duration flag parsed with tasks.ParseDuration, so "5",
// "5s" and "1m30s" are all accepted and a bad value is exit status 2.
type timeFlag struct {
	d   time.Duration
	set bool
}

func (f *timeFlag) parse(c *ucli.Context, name string) error {
	if !c.IsSet(name) {
		return nil
	}
	d, err := tasks.ParseDuration(c.String(name))
	if err != nil {
		return err
	}
	f.d, f.set = d, true
	return nil
}

// parseTime is a duration flag's value v when set says the flag was
// given (see timeFlag).
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
