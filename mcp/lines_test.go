package mcp

import (
	"io"
	"strings"
	"testing"
)

// TestAuditMCPLineLimit checks the bounded line reader at the edges: a
// line of exactly the limit is read, one byte more is skipped as too long
// and reading goes on at the next line, lines longer than the read buffer
// come back whole, and a last line without a newline is returned before
// io.EOF.
func TestAuditMCPLineLimit(t *testing.T) {
	const limit = 200 << 10 // more than the 64 KiB read buffer
	long := strings.Repeat("a", limit)
	input := long + "\n" + long + "b\n" + "short\r\n" + "\n" + strings.Repeat("c", 100<<10) + "\n" + "last"
	r := newLineReader(strings.NewReader(input), limit)
	type got struct {
		line    string
		tooLong bool
	}
	want := []got{{long, false}, {"", true}, {"short\r", false}, {"", false}, {strings.Repeat("c", 100<<10), false}, {"last", false}}
	for i, w := range want {
		line, tooLong, err := r.next()
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if string(line) != w.line || tooLong != w.tooLong {
			t.Fatalf("line %d: %d bytes (too long: %v), want %d bytes (too long: %v)", i+1, len(line), tooLong, len(w.line), w.tooLong)
		}
	}
	if _, _, err := r.next(); err != io.EOF {
		t.Fatalf("after the last line: %v, want io.EOF", err)
	}
}
