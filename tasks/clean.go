package tasks

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi/parser"
	"golang.org/x/text/width"
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
// Escape sequences are delimited by the DEC ANSI state machine of
// github.com/charmbracelet/x/ansi/parser (the VT500 parser of
// vt100.net/emu/dec_ansi_parser), fed one byte at a time as a terminal
// does; control characters inside a CSI or ESC sequence act as they
// would on a terminal. The stream is taken as UTF-8: a byte of 0x80 or
// more is text (or string data inside OSC, DCS, SOS, PM and APC), never
// an 8-bit C1 control, so a title in Chinese does not end at the 0x9c
// (ST) inside one of its characters. Because lines are replayed one at a
// time, an unterminated sequence (an OSC title missing its BEL, say)
// hides at most the rest of its line.
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

// maxParam bounds a CSI parameter's value; larger ones are clamped, as
// terminals do, so that many digits cannot overflow.
const maxParam = 1 << 20

// cell is one column of a lineScreen. A glyph (a character with the
// zero-width marks that follow it, or a tab) that spans w columns is
// stored in its first cell with w set; the cells it covers to the right
// have w == 0. A blank cell has s == "" and w == 1.
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

// csiSeq is what CleanText keeps of a CSI sequence while the parser reads
// it: only the first parameter is needed, so any number of parameters is
// safe.
type csiSeq struct {
	prefix byte // private marker '<', '=', '>' or '?'; 0 when none
	first  int  // the first parameter; 0 when missing
	params int  // separators (';' or ':') seen so far
	odd    bool // intermediate or misplaced bytes: not a command CleanText applies
}

// param adds a parameter byte ('0'-'9', ':' or ';').
func (q *csiSeq) param(c byte) {
	switch {
	case c >= '0' && c <= '9':
		if q.params == 0 {
			q.first = min(q.first*10+int(c-'0'), maxParam)
		}
	case c == ';' || c == ':':
		q.params++
	}
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

// stringState reports whether the parser is inside the data of an OSC,
// DCS, SOS, PM or APC string.
func stringState(s parser.State) bool {
	switch s {
	case parser.OscStringState, parser.DcsStringState, parser.SosStringState,
		parser.PmStringState, parser.ApcStringState:
		return true
	}
	return false
}

func (ln *lineScreen) clean(line []byte) string {
	if n := len(line); n > 0 && line[n-1] == '\r' && plain(line[:n-1]) {
		return string(line[:n-1])
	}
	if plain(line) {
		return string(line)
	}
	// Glyphs are slices of one copy of the line.
	s := string(line)
	ln.cells, ln.col = ln.cells[:0], 0
	state := parser.GroundState
	var csi csiSeq
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x80 {
			if stringState(state) {
				i++ // string data
				continue
			}
			// Text; it cancels an unfinished escape sequence.
			state = parser.GroundState
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				// Invalid UTF-8, kept for the JSON encoder to replace.
				n = invalidLen(s[i:])
				ln.put(s[i:i+n], 1)
			} else {
				ln.text(s[i:i+n], r)
			}
			i += n
			continue
		}
		if state == parser.EscapeState && c == 'k' {
			// ESC k title ST: the window title of tmux and screen, a
			// string the VT500 parser does not know; read it as an OSC.
			state = parser.OscStringState
			i++
			continue
		}
		next, action := parser.Table.Transition(state, c)
		switch action {
		case parser.PrintAction:
			ln.put(s[i:i+1], 1)
		case parser.ExecuteAction:
			ln.control(c)
		case parser.ClearAction:
			csi = csiSeq{}
		case parser.PrefixAction:
			csi.prefix = c
		case parser.ParamAction:
			csi.param(c)
		case parser.CollectAction:
			csi.odd = true // an intermediate byte
		case parser.IgnoreAction:
			if state == parser.CsiParamState && c != 0x7f {
				csi.odd = true // a private marker after a parameter
			}
		case parser.DispatchAction:
			switch state {
			case parser.CsiEntryState, parser.CsiParamState, parser.CsiIntermediateState:
				ln.csi(csi, c)
			}
			// Other sequences (ESC, OSC, DCS, ...) change nothing on
			// the line.
		}
		state = next
		i++
	}
	// A sequence still open at the end of the line is dropped whole.
	return ln.render()
}

// invalidLen is the length of the invalid UTF-8 at the start of s that a
// terminal shows as one replacement character: the start of a multi-byte
// sequence and as many of its continuation bytes as follow it (the
// "maximal subpart" of Unicode's chapter 3), or a single byte.
func invalidLen(s string) int {
	c := s[0]
	need, lo, hi := 0, byte(0x80), byte(0xbf)
	switch {
	case c >= 0xc2 && c <= 0xdf:
		need = 2
	case c >= 0xe0 && c <= 0xef:
		need = 3
		if c == 0xe0 {
			lo = 0xa0 // not overlong
		} else if c == 0xed {
			hi = 0x9f // not a surrogate
		}
	case c >= 0xf0 && c <= 0xf4:
		need = 4
		if c == 0xf0 {
			lo = 0x90
		} else if c == 0xf4 {
			hi = 0x8f // not beyond U+10FFFF
		}
	}
	n := 1
	for n < need && n < len(s) && s[n] >= lo && s[n] <= hi {
		n++
		lo, hi = 0x80, 0xbf
	}
	return n
}

// control applies a control character.
func (ln *lineScreen) control(c byte) {
	switch c {
	case '\r':
		ln.col = 0
	case '\b':
		if ln.col > 0 {
			ln.col--
		}
	case '\t':
		ln.tab()
	}
}

// csi applies a complete CSI sequence with the given final byte.
func (ln *lineScreen) csi(q csiSeq, final byte) {
	if q.odd || q.prefix != 0 && !(q.prefix == '?' && final == 'K') { // DECSEL erases like EL
		return
	}
	n := q.first
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

// runeWidth is the number of columns a terminal gives r on its own: 2 for
// East Asian wide and fullwidth characters and regional indicators, 0 for
// marks that join the character before them (combining marks, format
// characters such as ZWJ and variation selectors, conjoining Hangul
// vowels and final consonants, C1 control code points), 1 otherwise.
// lineScreen.text adds the joins of emoji sequences.
func runeWidth(r rune) int {
	switch {
	case r < 0x300:
		if r >= 0x80 && r < 0xa0 || r == 0xad { // C1 controls, soft hyphen
			return 0
		}
		return 1
	case r >= 0x1160 && r <= 0x11ff, r >= 0xd7b0 && r <= 0xd7ff: // Hangul jungseong and jongseong
		return 0
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	}
	if isFlagHalf(r) {
		return 2 // a lone one is drawn as a letter in a box
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
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

// text writes the character r, encoded as s, at the cursor. A zero-width
// one (a combining mark after ASCII, say), any character after a
// zero-width joiner (the parts of an emoji ZWJ sequence), an emoji skin
// tone and the second regional indicator of a flag join the glyph to the
// left of the cursor instead, as in a terminal that clusters graphemes;
// VARIATION SELECTOR-16 makes a one-column glyph two columns wide.
func (ln *lineScreen) text(s string, r rune) {
	w := runeWidth(r)
	if c := ln.col - 1; c >= 0 && c < len(ln.cells) {
		c = ln.start(c)
		g := ln.cells[c]
		if g.s != "" && g.s != "\t" && joins(g.s, r, w) {
			// Past maxGlyph bytes more marks are invisible anyway;
			// dropping them keeps a flood of them linear.
			if len(g.s)+len(s) <= maxGlyph {
				ln.cells[c].s = g.s + s
				if r == 0xfe0f && g.w == 1 && c+1 == ln.col {
					ln.widen(c)
				}
			}
			return
		}
	}
	ln.put(s, max(w, 1))
}

// joins reports whether the character r of width w joins the glyph g.
func joins(g string, r rune, w int) bool {
	return w == 0 ||
		len(g) > len(zwj) && strings.HasSuffix(g, zwj) ||
		isSkinTone(r) ||
		isFlagHalf(r) && isFlagHalf(single(g))
}

// widen makes the one-column glyph in cell c, just left of the cursor,
// two columns wide: VARIATION SELECTOR-16 asks for the emoji
// presentation of the character before it (⚠️ rather than ⚠).
func (ln *lineScreen) widen(c int) {
	if ln.col < len(ln.cells) {
		ln.clear(ln.col)
	} else {
		ln.cells = append(ln.cells, blank)
	}
	ln.cells[c].w = 2
	ln.cells[ln.col] = cell{}
	ln.col++
}

// zwj is ZERO WIDTH JOINER.
const zwj = "\u200d"

// isSkinTone reports whether r is an emoji modifier (a skin tone).
func isSkinTone(r rune) bool { return r >= 0x1f3fb && r <= 0x1f3ff }

// isFlagHalf reports whether r is a regional indicator, two of which
// make a flag.
func isFlagHalf(r rune) bool { return r >= 0x1f1e6 && r <= 0x1f1ff }

// single returns the character s consists of, or -1 when s is not one
// character.
func single(s string) rune {
	r, n := utf8.DecodeRuneInString(s)
	if n != len(s) {
		return -1
	}
	return r
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
