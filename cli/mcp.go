package cli

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	ucli "github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/bgmux/bgmux/mcp"
)

func mcpCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:  "mcp",
		Usage: "serve bgmux's tasks as MCP tools on stdin/stdout (for OpenCode, Claude Code and other MCP clients)",
		Description: "Started by an MCP client, not by hand: stdin and stdout carry the protocol, diagnostics go to\n" +
			"stderr. Tools: start_task, get_task, list_tasks, read_output, wait_task, send_input, stop_task,\n" +
			"restart_task, remove_task. See the README for each client's configuration.",
		Action: func(c *ucli.Context) error {
			if c.NArg() > 0 {
				return &usageError{msg: "mcp takes no arguments; an MCP client starts it as: bgmux mcp"}
			}
			m, err := manager(c)
			if err != nil {
				return err
			}
			if f, ok := stdio.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				fmt.Fprintln(stdio.Err, "bgmux mcp: serving MCP on stdin/stdout; an MCP client is meant to start this (see the README). Ctrl-D ends it.")
			}
			ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
			defer stop()
			return mcp.Serve(ctx, m, stdio.In, stdio.Out, &mcp.Options{Version: Version, Log: stdio.Err})
		},
	}
}
