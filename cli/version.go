package cli

import (
	"fmt"
	"runtime"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

func versionCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:  "version",
		Usage: "print bgmux's version (and tmux's)",
		Flags: []ucli.Flag{jsonFlag},
		Action: func(c *ucli.Context) error {
			tv := tasks.TmuxVersion(c.Context)
			if c.Bool("json") {
				return writeJSON(stdio.Out, map[string]any{"version": Version, "go": runtime.Version(), "tmux": tv})
			}
			if tv == "" {
				tv = "not found"
			}
			fmt.Fprintf(stdio.Out, "bgmux %s (%s, tmux %s)\n", Version, runtime.Version(), tv)
			return nil
		},
	}
}
