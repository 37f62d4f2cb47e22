package tasks

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCleanText(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain lines", "a\nb\n", "a\nb\n"},
		{"no final newline", "a\nb", "a\nb"},
		{"empty lines kept", "\n\na\n\n", "\n\na\n\n"},
		{"crlf", "one\r\ntwo\r\n", "one\ntwo\n"},
		{"tabs kept", "a\tb\r\n\tc\n", "a\tb\n\tc\n"},
		{"progress bar", "  0%\r 50%\r100%\n", "100%\n"},
		{"progress bar crlf", "[##   ] 40%\r[#####] 100%\r\ndone\r\n", "[#####] 100%\ndone\n"},
		{"shorter overwrite keeps the rest", "downloading 10%\rok\n", "okwnloading 10%\n"},
		{"overwrite then erase to end", "downloading 10%\rok\x1b[K\n", "ok\n"},
		{"erase to end default 0", "abcdef\r\x1b[0Kxy\n", "xy\n"},
		{"erase to start", "abcdef\x1b[3D\x1b[1K\n", "    ef\n"},
		{"erase whole line keeps cursor", "abcdef\x1b[2Kxy\n", "      xy\n"},
		{"erase whole line then cr", "spinner |\x1b[2K\rspinner /\x1b[2K\rdone\n", "done\n"},
		{"erase chars", "abcdef\r\x1b[2X\n", "  cdef\n"},
		{"cursor back", "abc\x1b[2DX\n", "aXc\n"},
		{"cursor forward", "abc\r\x1b[2CX\n", "abX\n"},
		{"cursor forward beyond text", "a\x1b[3Cb\n", "a   b\n"},
		{"cursor absolute", "abcdef\x1b[3GX\n", "abXdef\n"},
		{"cursor absolute default", "abc\x1b[GX\n", "Xbc\n"},
		{"backspace", "abc\b\bX\n", "aXc\n"},
		{"backspace at start", "\b\bab\n", "ab\n"},
		{"colours removed", "\x1b[1;31merror\x1b[0m: \x1b[38;5;208mbad\x1b[m\n", "error: bad\n"},
		{"truecolour removed", "\x1b[38:2::255:0:0mred\x1b[39m\n", "red\n"},
		{"osc title bel", "\x1b]0;my title\aafter\n", "after\n"},
		{"osc title st", "\x1b]2;t\x1b\\after\n", "after\n"},
		{"tmux window title st", "\x1bk#(touch x) title\x1b\\after\n", "after\n"},
		{"tmux window title bel", "a\x1bkname\ab\n", "ab\n"},
		{"esc k unterminated hides rest of line only", "a\x1bkname\nnext\n", "a\nnext\n"},
		{"osc hyperlink", "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\n", "link\n"},
		{"unterminated osc hides rest of line only", "a\x1b]0;title\nnext\n", "a\nnext\n"},
		{"dcs removed", "\x1bP1$r0m\x1b\\x\n", "x\n"},
		{"cursor up removed", "line\x1b[1A\x1b[2K\rnew\n", "new\n"},
		{"private modes removed", "\x1b[?25lhidden cursor\x1b[?25h\n", "hidden cursor\n"},
		{"charset designation removed", "\x1b(Bx\x1b)0y\n", "xy\n"},
		{"keypad and save restore removed", "\x1b=\x1b7a\x1b8\x1b>\n", "a\n"},
		{"bell and nul removed", "a\a\x00b\x7f\n", "ab\n"},
		{"lone esc at end", "abc\x1b", "abc"},
		{"esc before newline", "abc\x1b\nd\n", "abc\nd\n"},
		{"csi cut by newline", "abc\x1b[3\nd\n", "abc\nd\n"},
		{"csi with too many params", "a\x1b[" + strings.Repeat("1;", 100) + "1mb\n", "ab\n"},
		{"huge move clamped", "a\x1b[999999999Cb\n", "a" + strings.Repeat(" ", maxMoveColumn-1) + "b\n"},
		{"wide chars", "界界\rab\n", "ab界\n"},
		{"half of a wide char", "界x\rX\n", "X x\n"},
		{"combining mark", "e\u0301\rE\n", "E\n"},
		{"combining mark kept", "cafe\u0301!\n", "cafe\u0301!\n"},
		{"utf8 overwrite", "héllo\rH\n", "Héllo\n"},
		{"invalid utf8 kept", "a\xffb\r\n", "a\xffb\n"},
		{"invalid utf8 slow path", "\x1b[1ma\xff\xfeb\x1b[0m\n", "a\xff\xfeb\n"},
		{"c1 byte is not csi", "a\x9b1mb\n", "a\x9b1mb\n"},
		{"c1 byte slow path", "\x1b[m\x9d0;x\n", "\x9d0;x\n"},
		{"truncated utf8 at end", "ok \xe4\xb8", "ok \xe4\xb8"},
		{"tab over blanks", "\x1b[1mx\ty\n", "x\ty\n"},
		{"tab over text moves", "abcdefghij\r\tX\n", "abcdefghXj\n"},
		{"overwrite a tab", "\tb\rX\n", "X       b\n"},
		{"only cr", "\r\r\n", "\n"},
		{"crlf with colour", "\x1b[32mok\x1b[0m\r\n", "ok\n"},
		{"cr then erase", "50%\r\x1b[K\n", "\n"},
		{"vertical tab and form feed removed", "a\vb\fc\n", "abc\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := CleanText([]byte(c.in))
			if got != c.want {
				t.Fatalf("CleanText(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// CSI sequences are read by the parser one byte at a time and only their
// first parameter is kept, so any number of parameters is safe (the
// decoder of charmbracelet/x/ansi v0.11.9 that CleanText used before
// panicked past 32 when asked to collect them).
func TestCleanTextManyParams(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"40 params, first applies", "abcdef\x1b[3D\x1b[" + strings.Repeat("1;", 40) + "5K\n", "    ef\n"},
		{"33 params erase whole line", "abc\x1b[" + strings.Repeat("2;", 32) + "2Kx\n", "   x\n"},
		{"1000 sub-params", "a\x1b[" + strings.Repeat("38:2:", 500) + "mb\n", "ab\n"},
		{"1000 empty params", "ab\x1b[" + strings.Repeat(";", 1000) + "Dc\n", "ac\n"},
		{"huge first param, many more", "ab\x1b[" + strings.Repeat("9", 40) + strings.Repeat(";7", 40) + "Dc\n", "cb\n"},
		{"many params unterminated", "ab\x1b[" + strings.Repeat("1;", 5000), "ab"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := CleanText([]byte(c.in))
			if got != c.want {
				t.Fatalf("CleanText(%q) = %q, want %q", c.in, got, c.want)
			}
			checkClean(t, []byte(c.in), got)
		})
	}
}

// Cases of the byte-at-a-time parser and the rune widths.
func TestCleanTextParser(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		// 最 is e6 9c 80: its 0x9c is not an 8-bit ST.
		{"osc title with cjk", "\x1b]0;最新\aok\n", "ok\n"},
		{"osc title with cjk st", "\x1b]2;本\x1b\\ok\n", "ok\n"},
		{"apc with utf8", "\x1b_Gé=1\x1b\\ok\n", "ok\n"},
		{"utf8 cancels a csi", "\x1b[3界x\n", "界x\n"},
		{"c1 byte cancels a csi", "\x1b[3\x9bx\n", "\x9bx\n"},
		{"cr inside a csi", "abc\x1b[\r2CX\n", "abX\n"},
		{"backspace inside a csi", "abc\x1b[1\bDX\n", "aXc\n"},
		{"esc inside a csi restarts", "abc\x1b[5\x1b[2DX\n", "aXc\n"},
		{"can cancels a csi", "abc\x1b[2\x18DX\n", "abcDX\n"},
		{"intermediate byte: not a move", "abc\x1b[2 DX\n", "abcX\n"},
		{"marker after a param: not a move", "abc\x1b[2?DX\n", "abcX\n"},
		{"private marker: not an erase", "abc\r\x1b[>Kx\n", "xbc\n"},
		{"decsel erases", "abc\r\x1b[?Kx\n", "x\n"},
		{"del inside a csi ignored", "abc\x1b[2\x7fDX\n", "aXc\n"},
		{"osc ended by csi", "a\x1b]0;t\x1b[1Db\n", "b\n"},
		{"sos removed", "\x1bXhidden\x1b\\x\n", "x\n"},
		{"pm removed", "\x1b^hidden\x1b\\x\n", "x\n"},
		{"fullwidth", "ＡＢ\rx\n", "x Ｂ\n"},
		{"halfwidth katakana", "ｱｲ\rx\n", "xｲ\n"},
		{"emoji wide", "😀b\r\x1b[2Cx\n", "😀x\n"},
		{"emoji zwj sequence one glyph", "👩\u200d💻b\r\x1b[2Cx\n", "👩\u200d💻x\n"},
		{"lone zwj joins nothing", "\x1b[m\u200d界b\r\x1b[3Cx\n", "\u200d界x\n"},
		{"emoji skin tone joins", "👍🏽b\r\x1b[2Cx\n", "👍🏽x\n"},
		{"lone skin tone is wide", "\x1b[m🏽\r\x1b[2Cx\n", "🏽x\n"},
		{"skin tone after ascii joins", "a🏽b\r\x1b[1Cx\n", "a🏽x\n"},
		{"flag is one glyph", "🇯🇵b\r\x1b[2Cx\n", "🇯🇵x\n"},
		{"two flags", "🇯🇵🇫🇷b\r\x1b[4Cx\n", "🇯🇵🇫🇷x\n"},
		{"lone regional indicator is wide", "\x1b[m🇯b\r\x1b[2Cx\n", "🇯x\n"},
		{"emoji presentation is wide", "❤\ufe0fb\r\x1b[2Cx\n", "❤\ufe0fx\n"},
		{"emoji presentation over text", "abcd\r⚠\ufe0f\n", "⚠\ufe0fcd\n"},
		{"emoji presentation over a wide char", "a界b\r⚠\ufe0f\n", "⚠\ufe0f b\n"},
		{"emoji presentation at end", "\x1b[m⚠\ufe0f\n", "⚠\ufe0f\n"},
		{"emoji presentation after a move", "a\x1b[C\ufe0fb\n", "a \ufe0fb\n"},
		{"text presentation", "\x1b[m⚠\ufe0eb\n", "⚠\ufe0eb\n"},
		{"conjoining hangul", "\u1100\u1161b\r\x1b[2Cx\n", "\u1100\u1161x\n"},
		{"enclosing mark", "1\u20e3b\r\x1b[1Cx\n", "1\u20e3x\n"},
		{"mark at line start", "\x1b[m\u0301a\n", "\u0301a\n"},
		{"mark after a tab", "\x1b[m\t\u0301a\n", "\t\u0301a\n"},
		{"marks bounded", "\x1b[mx" + strings.Repeat("\u0301", 100) + "\n", "x" + strings.Repeat("\u0301", 31) + "\n"},
		{"encoded replacement char is text", "\x1b[m\ufffdb\n", "\ufffdb\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := CleanText([]byte(c.in))
			if got != c.want {
				t.Fatalf("CleanText(%q) = %q, want %q", c.in, got, c.want)
			}
			checkClean(t, []byte(c.in), got)
		})
	}
}

func TestRuneWidth(t *testing.T) {
	for r, want := range map[rune]int{
		'a': 1, 'é': 1, '界': 2, 'Ａ': 2, 'ｱ': 1, '😀': 2, 0x20000: 2, '\u3000': 2,
		'\u0301': 0, '\u20e3': 0, '\u200d': 0, '\ufe0f': 0, '\u00ad': 0, '\u0085': 0,
		'\u1161': 0, '\U0001f3fd': 2, '\ufffd': 1, '\U0001f1ef': 2, '\ue000': 1,
	} {
		if got := runeWidth(r); got != want {
			t.Errorf("runeWidth(%U) = %d, want %d", r, got, want)
		}
	}
}

// CleanText keeps the line structure, so it can be applied line by line.
func TestCleanTextLineByLine(t *testing.T) {
	in := []byte("a\x1b[31mb\r\nxx\rc\n\x1b]0;t\n\tz")
	var parts []string
	for _, l := range bytes.Split(in, []byte{'\n'}) {
		parts = append(parts, cleanLine(l))
	}
	if got, want := CleanText(in), strings.Join(parts, "\n"); got != want {
		t.Fatalf("CleanText = %q, line by line %q", got, want)
	}
}

// checkClean holds the properties every CleanText result has.
func checkClean(t *testing.T, in []byte, out string) {
	t.Helper()
	if strings.ContainsAny(out, "\x1b\r") {
		t.Fatalf("CleanText(%q) = %q holds ESC or CR", in, out)
	}
	if got, want := strings.Count(out, "\n"), bytes.Count(in, []byte{'\n'}); got != want {
		t.Fatalf("CleanText(%q) = %q has %d newlines, input %d", in, out, got, want)
	}
	if utf8.Valid(in) && !utf8.ValidString(out) {
		t.Fatalf("CleanText(%q) = %q: valid UTF-8 in, invalid out", in, out)
	}
	if len(out) > 2*len(in)+maxMoveColumn*(bytes.Count(in, []byte{'\n'})+1) {
		t.Fatalf("CleanText(%q): output of %d bytes for %d bytes of input", in, len(out), len(in))
	}
}

func FuzzCleanText(f *testing.F) {
	for _, s := range []string{
		"", "plain\n", "10%\r100%\r\n", "\x1b[1;31mred\x1b[0m\n", "\x1b]0;title\a", "\x1b[2K\rx",
		"界\rX", "e\u0301", "\xff\xfe\x9b", "\x1b[" + strings.Repeat("9;", 50) + "K", "\tx\b\by\x1b[3GZ",
		"\x1bP1;2q#0\x1b\\", "\x1b[99999999999999999999C.", "a\x1b[1Kb\x1b[X",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := CleanText(in)
		checkClean(t, in, out)
		// Cleaning is stable: clean output cleans to itself.
		if again := CleanText([]byte(out)); again != out {
			t.Fatalf("CleanText is not idempotent on %q: %q then %q", in, out, again)
		}
	})
}

func BenchmarkCleanText(b *testing.B) {
	var buf bytes.Buffer
	for i := 0; i < 10000; i++ {
		buf.WriteString("a plain line of output from a build tool, number 12345\r\n")
		if i%10 == 0 {
			buf.WriteString("\x1b[32m  50%\x1b[0m\r\x1b[32m100%\x1b[0m\r\n")
		}
	}
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		CleanText(buf.Bytes())
	}
}
