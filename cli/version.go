package cli

import (
	"context"
	"fmt"
	"runtime"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

// versionOptions are the parsed flags of version.
type versionOptions struct {
	json bool
}

func versionCommand(stdio IO, runF func(*versionOptions) error) *ucli.Command {
	o := &versionOptions{}
	return &ucli.Command{
		Name:  "version",
		Usage: "print bgmux's version (and tmux's)",
		Flags: []ucli.Flag{jsonFlagTo(&o.json)},
		Action: func(c *ucli.Context) error {
			if runF != nil {
				return runF(o)
			}
			return runVersion(c.Context, stdio, o)
		},
	}
}

// runVersion prints bgmux's version and tmux's; it needs no Manager.
func runVersion(ctx context.Context, stdio IO, o *versionOptions) error {
	tv := tasks.TmuxVersion(ctx)
	if o.json {
		return writeJSON(stdio.Out, map[string]any{"version": Version, "go": runtime.Version(), "tmux": tv})
	}
	if tv == "" {
		tv = "not found"
	}
	fmt.Fprintf(stdio.Out, "bgmux %s (%s, tmux %s)\n", Version, runtime.Version(), tv)
	return nil
}
