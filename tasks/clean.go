package tasks

import (
	"bytes"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// CleanText turns terminal output into the lines a person would have seen
// last. Each line (text between newlines) is replayed on a one-line
// screen: a carriage return moves to column 0 and later text overwrites
// earlier text (text beyond the overwrite stays visible), backspace moves
// left, erase in line (CSI K, modes 0, 1 and 2) and erase characters
// (CSI X) blank cells, and the in-line cursor moves CSI C, D, G and `
// move the cursor. Every other escape sequence (colours, titles, cursor
// moves across lines, ...) and every other control character is removed;
// tabs are kept. CRLF line endings become LF, so the result has as many
// lines as data. Invalid UTF-8 is kept as it is (the JSON encoder
// replaces it); the result never holds ESC or a carriage return.
//
// Escape sequences are delimited by github.com/charmbracelet/x/ansi's
// decoder. Because lines are replayed one at a time, an unterminated
// sequence (an OSC title missing its BEL, say) hides at most the rest of
// its line.
func CleanText(data []byte) string {
	var b strings.Builder
	b.Grow(len(data))
	var ln lineScreen
	for len(data) > 0 {
		line := data
		nl := bytes.IndexByte(data, '\n')
		if nl >= 0 {
			line, data = data[:nl], data[nl+1:]
		} else {
			data = nil
		}
		b.WriteString(ln.clean(line))
		if nl >= 0 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// cleanLine is CleanText for one line without its newline.
func cleanLine(line []byte) string {
	var ln lineScreen
	return ln.clean(line)
}

// maxMoveColumn bounds where cursor moves (CSI C, G, `) may go beyond the
// line's text, so a hostile sequence cannot make a line of millions of
// blanks; a real terminal stops at its width.
const maxMoveColumn = 512

// cell is one column of a lineScreen. A glyph (a grapheme, or a tab) that
// spans w columns is stored in its first cell with w set; the cells it
// covers to the right have w == 0. A blank cell has s == "" and w == 1.
type cell struct {
	s string
	w int
}

var blank = cell{w: 1}

// maxGlyph bounds how many bytes of zero-width marks CleanText joins to
// one glyph.
const maxGlyph = 64

// lineScreen is a one-line terminal screen; its buffers are reused from
// line to line.
type lineScreen struct {
	cells []cell
	col   int
	out   []byte
}

// plain reports whether line can be shown as it is: no control
// characters other than tab (a trailing CR of CRLF excepted).
func plain(line []byte) bool {
	for _, c := range line {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func (ln *lineScreen) clean(line []byte) string {
	if n := len(line); n > 0 && line[n-1] == '\r' && plain(line[:n-1]) {
		return string(line[:n-1])
	}
	if plain(line) {
		return string(line)
	}
	ln.cells, ln.col = ln.cells[:0], 0
	state := byte(ansi.NormalState)
	for len(line) > 0 {
		c := line[0]
		if state == ansi.NormalState && c >= 0x80 && c < 0xc0 {
			// A stray continuation byte: invalid UTF-8 for the JSON
			// encoder to replace, not an 8-bit C1 control (a UTF-8
			// terminal does not take 0x9b for CSI).
			ln.put(string(line[:1]), 1)
			line = line[1:]
			continue
		}
		seq, width, n, next := ansi.DecodeSequence(line, state, nil)
		if n <= 0 {
			seq, n, width = line[:1], 1, 1
		}
		if state == ansi.NormalState && next == ansi.NormalState && len(seq) > 0 && seq[0] >= 0x20 && seq[0] != 0x7f {
			// Text. A grapheme never holds a control character, but
			// make sure of it for odd input.
			if i := bytes.IndexFunc(seq, func(r rune) bool { return r < 0x20 || r == 0x7f }); i > 0 {
				seq, n = seq[:i], i
			}
			ln.text(string(seq), width)
		} else if next == ansi.NormalState {
			ln.control(seq)
		}
		// Otherwise the sequence runs to the end of the line: it is
		// dropped whole.
		line, state = line[n:], next
	}
	return ln.render()
}

// control applies a control character or a complete escape sequence.
func (ln *lineScreen) control(seq []byte) {
	if len(seq) == 1 {
		switch seq[0] {
		case '\r':
			ln.col = 0
		case '\b':
			if ln.col > 0 {
				ln.col--
			}
		case '\t':
			ln.tab()
		}
		return
	}
	if !ansi.HasCsiPrefix(seq) || len(seq) < 3 {
		return
	}
	final := seq[len(seq)-1]
	body := seq[2 : len(seq)-1]
	if len(body) > 0 && body[0] >= '<' && body[0] <= '?' {
		if !(body[0] == '?' && final == 'K') { // DECSEL erases like EL
			return
		}
		body = body[1:]
	}
	n, ok := firstParam(body)
	if !ok {
		return
	}
	switch final {
	case 'K':
		ln.eraseLine(n)
	case 'X':
		ln.eraseChars(max(n, 1))
	case 'C':
		ln.moveTo(ln.col + max(n, 1))
	case 'D':
		ln.col = max(ln.col-max(n, 1), 0)
	case 'G', '`':
		ln.moveTo(max(n, 1) - 1)
	}
}

// firstParam reads the first numeric parameter of a CSI sequence's body
// (0 when missing); ok is false when the body has intermediate bytes,
// which make it a different command.
func firstParam(body []byte) (n int, ok bool) {
	i := 0
	for ; i < len(body) && body[i] >= '0' && body[i] <= '9'; i++ {
		if n < 1<<20 {
			n = n*10 + int(body[i]-'0')
		}
	}
	for ; i < len(body); i++ {
		if c := body[i]; !(c >= '0' && c <= '9' || c == ';' || c == ':') {
			return 0, false
		}
	}
	return n, true
}

func (ln *lineScreen) moveTo(col int) {
	limit := max(len(ln.cells), maxMoveColumn)
	if col > limit {
		col = limit
	}
	ln.col = max(col, 0)
}

// tab moves to the next tab stop. Over blank cells it leaves a tab
// character in the line; over text it only moves, as a terminal does.
func (ln *lineScreen) tab() {
	w := 8 - ln.col%8
	for c := ln.col; c < ln.col+w && c < len(ln.cells); c++ {
		if ln.cells[c] != blank {
			ln.moveTo(ln.col + w)
			return
		}
	}
	ln.put("\t", w)
}

// text writes a grapheme of the given width at the cursor.
func (ln *lineScreen) text(s string, width int) {
	if width > 0 {
		ln.put(s, width)
		return
	}
	// A zero-width grapheme (a combining mark after ASCII, say) joins
	// the glyph to its left.
	if c := ln.col - 1; c >= 0 && c < len(ln.cells) {
		c = ln.start(c)
		if g := ln.cells[c].s; g != "" && g != "\t" {
			// Past maxGlyph bytes more marks are invisible anyway;
			// dropping them keeps a flood of them linear.
			if len(g)+len(s) <= maxGlyph {
				ln.cells[c].s = g + s
			}
			return
		}
	}
	ln.put(s, 1)
}

// put writes a glyph of width w at the cursor and moves past it.
func (ln *lineScreen) put(s string, w int) {
	for len(ln.cells) < ln.col+w {
		ln.cells = append(ln.cells, blank)
	}
	for c := ln.col; c < ln.col+w; c++ {
		ln.clear(c)
	}
	ln.cells[ln.col] = cell{s: s, w: w}
	for c := ln.col + 1; c < ln.col+w; c++ {
		ln.cells[c] = cell{}
	}
	ln.col += w
}

// start returns the first cell of the glyph covering cell c.
func (ln *lineScreen) start(c int) int {
	for c > 0 && ln.cells[c].w == 0 {
		c--
	}
	return c
}

// clear blanks the whole glyph covering cell c (a wide character loses
// both halves when one is overwritten).
func (ln *lineScreen) clear(c int) {
	if c >= len(ln.cells) {
		return
	}
	s := ln.start(c)
	w := max(ln.cells[s].w, 1)
	for i := s; i < s+w && i < len(ln.cells); i++ {
		ln.cells[i] = blank
	}
}

// eraseLine is CSI n K: 0 from the cursor to the end, 1 from the start to
// the cursor, 2 the whole line. The cursor stays where it is.
func (ln *lineScreen) eraseLine(mode int) {
	switch mode {
	case 0:
		if ln.col < len(ln.cells) {
			ln.clear(ln.col)
			ln.cells = ln.cells[:ln.col]
		}
	case 1:
		for c := 0; c <= ln.col && c < len(ln.cells); c++ {
			ln.clear(c)
		}
	case 2:
		ln.cells = ln.cells[:0]
	}
}

// eraseChars is CSI n X: blank n cells from the cursor.
func (ln *lineScreen) eraseChars(n int) {
	for c := ln.col; c < ln.col+n && c < len(ln.cells); c++ {
		ln.clear(c)
	}
}

// render returns the line as shown: trailing blank cells are dropped and
// blank cells before text become spaces.
func (ln *lineScreen) render() string {
	end := len(ln.cells)
	for end > 0 && ln.cells[end-1] == blank {
		end--
	}
	out := ln.out[:0]
	for _, c := range ln.cells[:end] {
		switch {
		case c == blank:
			out = append(out, ' ')
		case c.w > 0:
			out = append(out, c.s...)
		}
	}
	ln.out = out
	return string(out)
}
