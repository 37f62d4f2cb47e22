package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	ucli "github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/bgmux/bgmux/tasks"
)

// MCPBinary is the name of the companion binary that serves `bgmux mcp`.
// The MCP SDK links net/http, TLS and JSON schema code whose start-up cost
// (about 270 extra page faults per process) every CLI call would pay, so
// the bgmux binary stays small and `bgmux mcp` replaces itself with
// bgmux-mcp, found next to bgmux or on PATH.
const MCPBinary = "bgmux-mcp"

// ServeMCP, when set, serves `bgmux mcp` in this process. bgmux-mcp sets
// it; in the plain bgmux binary it is nil and `bgmux mcp` execs bgmux-mcp.
var ServeMCP func(ctx context.Context, m *tasks.Manager, in io.Reader, out io.Writer, version string, log io.Writer) error

// mcpOptions are the parsed flags of mcp.
type mcpOptions struct {
	config string // the global --config, passed on to bgmux-mcp
}

func mcpCommand(stdio IO, runF func(*mcpOptions) error) *ucli.Command {
	o := &mcpOptions{}
	return &ucli.Command{
		Name:  "mcp",
		Usage: "serve bgmux's tasks as MCP tools on stdin/stdout (for OpenCode, Claude Code and other MCP clients)",
		Description: "Started by an MCP client, not by hand: stdin and stdout carry the protocol, diagnostics go to\n" +
			"stderr. Tools: start_task, get_task, list_tasks, read_output, wait_task, send_input, stop_task,\n" +
			"restart_task, remove_task. See the README for each client's configuration.\n" +
			"The server is the companion binary bgmux-mcp (built next to bgmux: go build -o . . ./cmd/bgmux-mcp).",
		Action: func(c *ucli.Context) error {
			if c.NArg() > 0 {
				return &usageError{msg: "mcp takes no arguments; an MCP client starts it as: bgmux mcp"}
			}
			o.config = c.String("config")
			if runF != nil {
				return runF(o)
			}
			return runMCP(c.Context, stdio, lazyManager(c), o)
		},
	}
}

// runMCP serves MCP in this process (bgmux-mcp), or execs bgmux-mcp.
func runMCP(parent context.Context, stdio IO, getM managerFunc, o *mcpOptions) error {
	if ServeMCP == nil {
		return execMCP(o.config)
	}
	m, err := getM()
	if err != nil {
		return err
	}
	// Supervisors run the small bgmux binary when it sits next to
	// this one: they then cost half the memory.
	if p := siblingBinary("bgmux"); p != "" {
		m.Exe = p
	}
	if f, ok := stdio.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintln(stdio.Err, "bgmux mcp: serving MCP on stdin/stdout; an MCP client is meant to start this (see the README). Ctrl-D ends it.")
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return ServeMCP(ctx, m, stdio.In, stdio.Out, Version, stdio.Err)
}

// execMCP replaces this process with bgmux-mcp, keeping the arguments, the
// environment and stdin/stdout, so the MCP client talks to it directly.
func execMCP(config string) error {
	path := siblingBinary(MCPBinary)
	if path == "" {
		p, err := exec.LookPath(MCPBinary)
		if err != nil {
			return &tasks.Error{Kind: tasks.KindFailed, Msg: "mcp: the MCP server binary bgmux-mcp was not found next to bgmux or on PATH; build it with: go build -o . . ./cmd/bgmux-mcp (or go install github.com/bgmux/bgmux/cmd/bgmux-mcp@latest)"}
		}
		path = p
	}
	args := []string{path}
	if cfg := config; cfg != "" {
		args = append(args, "--config", cfg)
	}
	args = append(args, "mcp")
	if err := syscall.Exec(path, args, os.Environ()); err != nil {
		return &tasks.Error{Kind: tasks.KindFailed, Msg: "mcp: run " + path, Err: err}
	}
	return nil
}

// siblingBinary returns the path of the executable name in the directory
// of the running binary, or "" when there is none.
func siblingBinary(name string) string {
	self, err := os.Executable()
	if err != nil {
		return ""
	}
	p := filepath.Join(filepath.Dir(self), name)
	if p == self {
		return ""
	}
	if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return ""
	}
	return p
}
