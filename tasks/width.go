package tasks

// StringWidth is the number of terminal columns s takes (wide characters
// count two, combining marks none).
func StringWidth(s string) int {
	w := 0
	for _, r := range s {
		w += runeWidth(r)
	}
	return w
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
		rw := runeWidth(r)
		if w+rw > room {
			return s[:i] + tail
		}
		w += rw
	}
	return s
}
