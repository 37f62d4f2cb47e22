// Command bgmux-mcp is bgmux with its MCP server linked in: `bgmux mcp`
// execs it. Run with no arguments it serves MCP on stdin/stdout; with
// arguments it is the full bgmux command line.
package main

import (
	"context"
	"io"
	"os"

	"github.com/bgmux/bgmux/cli"
	"github.com/bgmux/bgmux/mcp"
	"github.com/bgmux/bgmux/tasks"
)

func main() {
	cli.ServeMCP = func(ctx context.Context, m *tasks.Manager, in io.Reader, out io.Writer, version string, log io.Writer) error {
		return mcp.Serve(ctx, m, in, out, &mcp.Options{Version: version, Log: log})
	}
	args := os.Args
	if len(args) == 1 {
		args = append(args, "mcp")
	}
	os.Exit(cli.Main(args, cli.IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Env: os.Environ()}))
}
