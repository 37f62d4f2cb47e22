package tasklog

import (
	"github.com/bgmux/bgmux/fileutil"
)

// Validate checks logmeta. It exists only after a rotation, which starts
// output.log at the end of the older segment: Base is above 0 (and below
// maxLogOffset, so that the log's end cannot overflow), and the older
// segment starts at PrevBase, from 0 to below Base. That the segments on
// disk agree (the older one ends at Base) is checked where their sizes
// are read (Segments).
func (m *Meta) Validate(string) error {
	switch {
	case m.Base <= 0:
		return fileutil.Invalidf("its base is %d; a rotated log starts above 0", m.Base)
	case m.Base > maxLogOffset:
		return fileutil.Invalidf("its base is %d, more than any log can have held (%d)", m.Base, int64(maxLogOffset))
	case m.PrevBase < 0 || m.PrevBase >= m.Base:
		return fileutil.Invalidf("its prev_base %d is not from 0 to below its base %d", m.PrevBase, m.Base)
	}
	return nil
}

// Validate checks the record of output lost: counts and offsets from 0.
func (l *Loss) Validate(string) error {
	if l.Bytes < 0 || l.Offset < 0 || l.Gaps < 0 {
		return fileutil.Invalidf("its bytes %d, offset %d and gaps %d are not all 0 or more", l.Bytes, l.Offset, l.Gaps)
	}
	return nil
}

// maxLogOffset bounds a log's logical offsets: 4 EiB, far beyond what
// any task writes, and far enough below the int64 limit that adding a
// segment's size cannot overflow.
const maxLogOffset = 1 << 62

// readJSON reads one of the log's JSON sidecars, checked for shape.
func readJSON(path string, v any) error {
	return fileutil.ReadJSON(path, v, func(v any, dir string) error {
		if r, ok := v.(interface{ Validate(string) error }); ok {
			return r.Validate(dir)
		}
		return nil
	})
}
