package mcp

import (
	"context"
	"io"
	"os"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/sys/unix"

	"github.com/bgmux/bgmux/tasks"
)

// Serve runs an MCP server for m over in and out (newline-delimited
// JSON-RPC, the stdio transport) until the client closes in or ctx ends.
// When out is the process's standard output, the protocol keeps the
// original stdout to itself and file descriptor 1 and os.Stdout are
// pointed at stderr, so no stray write (from this process or a child it
// starts) can corrupt the protocol stream.
func Serve(ctx context.Context, m *tasks.Manager, in io.Reader, out io.Writer, opts *Options) error {
	if f, ok := out.(*os.File); ok && f == os.Stdout {
		proto, err := reserveStdout()
		if err != nil {
			return err
		}
		defer proto.Close()
		out = proto
	}
	s := New(m, opts)
	return s.Run(ctx, &sdk.IOTransport{Reader: readCloser{in}, Writer: writeCloser{out}})
}

// reserveStdout duplicates stdout for the protocol and points fd 1 and
// os.Stdout at stderr.
func reserveStdout() (*os.File, error) {
	fd, err := unix.Dup(1)
	if err != nil {
		return nil, err
	}
	unix.CloseOnExec(fd)
	if err := unix.Dup2(2, 1); err != nil {
		unix.Close(fd)
		return nil, err
	}
	os.Stdout = os.Stderr
	return os.NewFile(uintptr(fd), "/dev/stdout"), nil
}

// readCloser closes in when it can; closing it ends the session.
type readCloser struct{ io.Reader }

func (r readCloser) Close() error {
	if c, ok := r.Reader.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// writeCloser leaves out open: the caller owns it.
type writeCloser struct{ io.Writer }

func (writeCloser) Close() error { return nil }
