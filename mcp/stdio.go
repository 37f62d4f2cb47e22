package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/sys/unix"

	"github.com/bgmux/bgmux/tasks"
)

// Serve runs an MCP server for m over in and out (newline-delimited
// JSON-RPC, the stdio transport) until the client closes in or ctx ends.
// Malformed input never ends it: see stdioConn. When out is the
// process's standard output, the protocol keeps the original stdout to
// itself and file descriptor 1 and os.Stdout are pointed at stderr, so no
// stray write (from this process or a child it starts) can corrupt the
// protocol stream.
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
	return s.Run(ctx, &stdioTransport{in: in, out: out, log: s.log, ext: s.ext})
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

// stdioTransport is the MCP stdio transport: one JSON-RPC message per
// line each way. bgmux reads the lines itself, instead of the SDK's
// IOTransport, so that no input ends the session: the SDK's reader
// closes the connection on the first line it cannot decode.
type stdioTransport struct {
	in  io.Reader
	out io.Writer
	log io.Writer // diagnostics: the lines dropped and answered here
	ext *taskExt  // serves the Tasks extension's requests; may be nil
}

// Connect implements sdk.Transport.
func (t *stdioTransport) Connect(context.Context) (sdk.Connection, error) {
	c := &stdioConn{
		in:       t.in,
		out:      t.out,
		log:      t.log,
		ext:      t.ext,
		incoming: make(chan jsonrpc.Message),
		done:     make(chan struct{}),
		closed:   make(chan struct{}),
	}
	go c.readLoop()
	return c, nil
}

// stdioConn is the connection of a stdioTransport. Its read loop checks
// each line (decodeLine) and hands the valid messages to the SDK; it
// answers the invalid ones itself, as JSON-RPC says (Parse error, Invalid
// Request), and skips a line over maxLine without holding it. Every line
// written, the SDK's and its own, goes out whole under one mutex. Methods
// the SDK does not serve are answered here too, in dispatch: those of
// the Tasks extension (taskext.go).
type stdioConn struct {
	in  io.Reader
	log io.Writer
	ext *taskExt

	mu  sync.Mutex // one line at a time on out
	out io.Writer

	incoming chan jsonrpc.Message // the valid messages, to Read
	done     chan struct{}        // closed when readLoop ends, with readErr
	readErr  error
	closed   chan struct{} // closed by Close
	once     sync.Once

	// The requests handed to the SDK and not yet answered (see admit).
	flightMu    sync.Mutex
	inFlight    map[jsonrpc.ID][]int // the sizes of those of each id
	flightN     int
	flightBytes int
}

// A client may send requests faster than it reads their answers (or not
// read them at all): the SDK serves each in a goroutine of its own, which
// waits to write its answer, so requests without a bound would hold
// memory without a bound. At most maxInFlight requests, of at most
// maxInFlightBytes in all, are served at once; one more is answered at
// once with codeBusy instead (by the read loop itself, which then waits
// for the client to read, as it does for every error it answers). The
// read loop never stops reading, so a cancellation always gets through.
const (
	maxInFlight      = 1024
	maxInFlightBytes = 128 << 20
	// codeBusy is a JSON-RPC server error (-32000 to -32099 are the
	// implementation's own).
	codeBusy = -32000
)

// admit counts a request of size bytes with id as being served, unless
// the bounds are reached (one request is always admitted when none is
// being served), and says how many are being served.
func (c *stdioConn) admit(id jsonrpc.ID, size int) (ok bool, serving int) {
	c.flightMu.Lock()
	defer c.flightMu.Unlock()
	if c.flightN > 0 && (c.flightN >= maxInFlight || c.flightBytes+size > maxInFlightBytes) {
		return false, c.flightN
	}
	if c.inFlight == nil {
		c.inFlight = map[jsonrpc.ID][]int{}
	}
	c.inFlight[id] = append(c.inFlight[id], size)
	c.flightN++
	c.flightBytes += size
	return true, c.flightN
}

// answered counts the request with id (the oldest of that id) as served.
func (c *stdioConn) answered(id jsonrpc.ID) {
	c.flightMu.Lock()
	defer c.flightMu.Unlock()
	sizes := c.inFlight[id]
	if len(sizes) == 0 {
		return
	}
	c.flightN--
	c.flightBytes -= sizes[0]
	if len(sizes) == 1 {
		delete(c.inFlight, id)
	} else {
		c.inFlight[id] = sizes[1:]
	}
}

// readLoop reads stdin to its end (or a read error), line by line.
func (c *stdioConn) readLoop() {
	defer close(c.done)
	lr := newLineReader(c.in, maxLine)
	for n := 1; ; n++ {
		line, tooLong, err := lr.next()
		if err != nil {
			c.readErr = err
			return
		}
		v := tooLongVerdict
		if !tooLong {
			v = decodeLine(line)
		}
		if !c.dispatch(n, v, len(line)) {
			c.readErr = io.EOF
			return
		}
	}
}

// dispatch acts on the verdict on line n (of size bytes): a valid
// message goes to the SDK (a request only while the SDK serves fewer than
// the bounds allow, see admit), an error is answered, a dropped message
// is logged. It returns false once the connection is closed.
func (c *stdioConn) dispatch(n int, v verdict, size int) bool {
	if req, ok := v.msg.(*jsonrpc.Request); ok && req.ID.IsValid() {
		if ok, serving := c.admit(req.ID, size); !ok {
			id, _ := json.Marshal(req.ID.Raw())
			v = rejected(codeBusy, id, fmt.Sprintf("Server busy: %d requests are being served and not yet answered (at most %d, of %d MiB in all); read their answers, then send this one again", serving, maxInFlight, maxInFlightBytes>>20))
		}
	}
	switch {
	case v.msg != nil:
		if req, ok := v.msg.(*jsonrpc.Request); ok && c.ext != nil && c.ext.intercept(c, req) {
			return true
		}
		select {
		case c.incoming <- v.msg:
		case <-c.closed:
			return false
		}
	case v.code != 0:
		fmt.Fprintf(c.log, "bgmux mcp: input line %d: answered with error %d: %s\n", n, v.code, v.text)
		if err := c.writeError(v.id, v.code, v.text); err != nil {
			fmt.Fprintf(c.log, "bgmux mcp: write: %v\n", err)
		}
	case v.dropped != "":
		fmt.Fprintf(c.log, "bgmux mcp: input line %d: ignored %s\n", n, v.dropped)
	}
	return true
}

// Read implements sdk.Connection: the next valid message, or io.EOF once
// stdin ended or the connection closed.
func (c *stdioConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case msg := <-c.incoming:
		return msg, nil
	case <-c.done:
		return nil, c.readErr
	case <-c.closed:
		return nil, io.EOF
	}
}

// Write implements sdk.Connection.
func (c *stdioConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	if r, ok := msg.(*jsonrpc.Response); ok {
		// Written or not, the request is over.
		defer c.answered(r.ID)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := jsonrpc.EncodeMessage(msg)
	if err != nil {
		return fmt.Errorf("marshaling message: %w", err)
	}
	return c.writeLine(b)
}

// writeError answers the request with id (as sent; nil for null) with a
// JSON-RPC error. The id is written as it came, which a jsonrpc.ID could
// not always hold (null, 5.5).
func (c *stdioConn) writeError(id json.RawMessage, code int, text string) error {
	if id == nil {
		id = json.RawMessage("null")
	}
	b, err := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   jsonrpc.Error   `json:"error"`
	}{"2.0", id, jsonrpc.Error{Code: int64(code), Message: text}})
	if err != nil {
		return err
	}
	return c.writeLine(b)
}

// writeResult answers the request id with result.
func (c *stdioConn) writeResult(id jsonrpc.ID, result any) error {
	raw, err := json.Marshal(result)
	if err != nil {
		return err
	}
	b, err := jsonrpc.EncodeMessage(&jsonrpc.Response{ID: id, Result: raw})
	if err != nil {
		return err
	}
	return c.writeLine(b)
}

// writeRPCError answers the request id with a JSON-RPC error.
func (c *stdioConn) writeRPCError(id jsonrpc.ID, code int64, text string) error {
	b, err := jsonrpc.EncodeMessage(&jsonrpc.Response{ID: id, Error: &jsonrpc.Error{Code: code, Message: text}})
	if err != nil {
		return err
	}
	return c.writeLine(b)
}

// writeLine writes b and a newline in one write, under the lock.
func (c *stdioConn) writeLine(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.out.Write(append(b, '\n'))
	return err
}

// Close implements sdk.Connection. It closes stdin when it can, which
// ends the read loop; out belongs to the caller and stays open.
func (c *stdioConn) Close() error {
	var err error
	c.once.Do(func() {
		close(c.closed)
		if cl, ok := c.in.(io.Closer); ok {
			err = cl.Close()
		}
	})
	return err
}

// SessionID implements sdk.Connection: stdio has no session id.
func (c *stdioConn) SessionID() string { return "" }
