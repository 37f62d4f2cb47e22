package tasks

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgmux/bgmux/tasklog"
)

// auditBadLogMetas parse as JSON but are no logmeta a rotation writes: a
// negative base (which made the log's size negative), an empty object
// (which hid output.log.1 and reported nothing dropped), an older segment
// starting after the newer one, and offsets that the segments on disk
// contradict.
var auditBadLogMetas = map[string]string{
	"negative-base":  `{"base":-999999999,"prev_base":0}`,
	"empty-object":   `{}`,
	"null":           `null`,
	"prev-past-base": `{"base":6,"prev_base":9}`,
	"negative-prev":  `{"base":6,"prev_base":-3}`,
	// The segments on disk (6 bytes each) disagree: a base so large that
	// the log's end overflowed to a negative size, an older segment said
	// to hold 1000 bytes (which read its first line cut, and nothing
	// dropped) or 3.
	"base-overflows":     `{"base":9223372036854775807,"prev_base":0}`,
	"older-past-its-end": `{"base":1000,"prev_base":0}`,
	"older-cut-short":    `{"base":6,"prev_base":3}`,
}

// auditLogTask writes a finished task with a rotated log (older\n in
// output.log.1, newer\n in output.log) and the logmeta text.
func auditLogTask(t *testing.T, meta string) (*Store, string) {
	t.Helper()
	s := OpenStore(filepath.Join(t.TempDir(), "state"))
	id := "bg-meta02"
	ftTask(t, s, id, "m")
	for name, text := range map[string]string{PrevLogFile: "older\n", LogFile: "newer\n", LogMetaFile: meta} {
		if err := os.WriteFile(s.Path(id, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return s, id
}

// TestAuditLogMetaReaders: a reader that meets a logmeta of the wrong
// shape reports it as damaged, as it does an unparsable one, instead of
// reading the log with made-up offsets (a negative size, an older segment
// ignored and nothing reported dropped).
func TestAuditLogMetaReaders(t *testing.T) {
	for name, meta := range auditBadLogMetas {
		s, id := auditLogTask(t, meta)
		m := &Manager{Store: s}
		c, err := s.Log(id).Read(0, 0)
		var ce *CorruptError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "logmeta is not a valid record") {
			t.Errorf("%s: readLog with logmeta %s: %+v, %v; want a CorruptError", name, meta, c, err)
			continue
		}
		res, err := m.Logs(&Task{ID: id}, LogOptions{})
		if err == nil {
			t.Errorf("%s: logs with logmeta %s: size %d, dropped %d, lines %q; want an error", name, meta, res.Size, res.Dropped, res.Lines)
		}
		if b, _ := os.ReadFile(s.Path(id, LogMetaFile)); string(b) != meta {
			t.Errorf("%s: a reader changed logmeta: %q", name, b)
		}
	}
}

// TestAuditLogMetaWriter: the supervisor's log writer sets a logmeta of
// the wrong shape aside and starts a new one counting from the older
// segment's start, exactly as it does an unparsable one: both segments
// stay readable and writer and readers agree on offsets.
func TestAuditLogMetaWriter(t *testing.T) {
	for name, meta := range auditBadLogMetas {
		s, id := auditLogTask(t, meta)
		w, err := tasklog.OpenWriter(s.TaskDir(id), 0)
		if err != nil {
			t.Fatal(err)
		}
		w.Append([]byte("newest\n"))
		w.Close()
		end := w.End()
		aside, _ := filepath.Glob(s.Path(id, LogMetaFile) + ".corrupt-*")
		if len(aside) != 1 {
			t.Errorf("%s: logmeta %s not set aside: %v", name, meta, aside)
			continue
		}
		if b, _ := os.ReadFile(aside[0]); string(b) != meta {
			t.Errorf("%s: the set-aside logmeta holds %q, want %q", name, b, meta)
		}
		c, err := s.Log(id).Read(0, 0)
		if err != nil || string(c.Data) != "older\nnewer\nnewest\n" || c.Start != 0 || c.End != end || end != 19 || c.Dropped != 0 {
			t.Errorf("%s: log after logmeta %s: %q from %d to %d, dropped %v (%v), writer at %d; want all three lines from 0 to 19", name, meta, c.Data, c.Start, c.End, c.Dropped, err, end)
		}
	}
}
