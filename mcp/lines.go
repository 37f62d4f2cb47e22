package mcp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// maxLine is the longest message the stdio transport reads, in bytes,
// not counting the newline: the MCP SDK's own default. A longer line is
// answered with an error and skipped without being held in memory.
const maxLine = 16 << 20

// lineReader reads newline-delimited messages with a bound on their
// length: a line over the limit is discarded as it streams by, so memory
// stays within the limit whatever the input.
type lineReader struct {
	br    *bufio.Reader
	limit int
	// parts are the pieces of a line longer than br's buffer, in blocks
	// of the buffer's size: no block is copied as the line grows, and
	// freed blocks serve the next long line.
	parts [][]byte
}

func newLineReader(r io.Reader, limit int) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10), limit: limit}
}

// next returns the next line without its newline, valid until the next
// call. tooLong reports a line over the limit, skipped: line is then nil.
// A last line without a newline is returned before io.EOF.
func (r *lineReader) next() (line []byte, tooLong bool, err error) {
	defer r.drop()
	n := 0 // bytes of the line so far, kept or not
	for {
		chunk, err := r.br.ReadSlice('\n')
		more := errors.Is(err, bufio.ErrBufferFull)
		switch {
		case err == nil:
			chunk = chunk[:len(chunk)-1] // the newline
		case more:
		case errors.Is(err, io.EOF) && n+len(chunk) > 0:
			// The last line, without a newline: io.EOF comes next call.
		default:
			return nil, false, err
		}
		n += len(chunk)
		switch {
		case n > r.limit:
			r.drop()
			if more {
				continue
			}
			return nil, true, nil
		case more:
			r.parts = append(r.parts, bytes.Clone(chunk))
		case len(r.parts) == 0:
			return chunk, false, nil // all in the buffer: no copy
		default:
			line = make([]byte, 0, n)
			for _, p := range r.parts {
				line = append(line, p...)
			}
			return append(line, chunk...), false, nil
		}
	}
}

// drop lets go of the parts of a line.
func (r *lineReader) drop() {
	clear(r.parts)
	r.parts = r.parts[:0]
}
