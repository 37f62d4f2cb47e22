package tasks

// StringWidth is at least the number of terminal columns s takes (wide
// characters count two, combining marks none). It may count emoji
// sequences a little wide, never narrow, which is the safe side for
// fitting a line into a terminal.
func StringWidth(s string) int {
	w := 0
	for _, r := range s {
		w += displayWidth(r)
	}
	return w
}

// displayWidth is runeWidth, except that the emoji presentation selector
// U+FE0F counts one column: it widens a one-column glyph to two.
func displayWidth(r rune) int {
	if r == 0xfe0f {
		return 1
	}
	return runeWidth(r)
}

// TruncateWidth cuts s to at most max columns, ending it with tail (which
// counts against max) when anything was cut.
func TruncateWidth(s string, max int, tail string) string {
	if StringWidth(s) <= max {
		return s
	}
	room := max - StringWidth(tail)
	w := 0
	for i, r := range s {
		rw := displayWidth(r)
		if w+rw > room {
			return s[:i] + tail
		}
		w += rw
	}
	return s
}
