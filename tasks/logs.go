package tasks

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"
)

// LogOptions selects what Logs returns.
type LogOptions struct {
	// Tail keeps only the last Tail lines; 0 means all.
	Tail int
	// Raw returns the bytes as written, terminal line endings included.
	Raw bool
}

// LogResult is the output of a task as read from its log file.
type LogResult struct {
	ID      string `json:"id"`
	LogPath string `json:"log_path"`
	// Size is the log file's size in bytes; EndOffset the offset just
	// past what was read (equal to Size).
	Size      int64    `json:"size"`
	EndOffset int64    `json:"end_offset"`
	Lines     []string `json:"lines"`
	// Data is the text of Lines, newline-terminated (or the raw bytes).
	Data []byte `json:"-"`
}

// maxTailRead bounds how much of the file a --tail read looks at before
// giving up on finding enough newlines in a shorter span.
const tailChunk = 64 * 1024

// Logs reads the task's output log. The log is complete: it holds every
// byte the task wrote, beyond tmux's scrollback.
func (m *Manager) Logs(t *Task, opts LogOptions) (*LogResult, error) {
	if opts.Tail < 0 {
		return nil, Errorf(KindInvalid, "--tail must be 0 or more, not %d", opts.Tail)
	}
	res := &LogResult{ID: t.ID, LogPath: t.LogPath, Lines: []string{}}
	f, err := os.Open(t.LogPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return res, nil
		}
		return nil, wrap(err, "logs %s", t.ID)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	res.Size, res.EndOffset = size, size
	var data []byte
	if opts.Tail > 0 {
		data, err = readTail(f, size, opts.Tail)
	} else {
		data, err = io.ReadAll(io.NewSectionReader(f, 0, size))
	}
	if err != nil {
		return nil, wrap(err, "logs %s", t.ID)
	}
	if opts.Raw {
		if opts.Tail > 0 {
			data = lastLines(data, opts.Tail)
		}
		res.Data = data
		res.Lines = splitLines(string(data))
		return res, nil
	}
	text := CleanText(data)
	res.Lines = splitLines(text)
	if opts.Tail > 0 && len(res.Lines) > opts.Tail {
		res.Lines = res.Lines[len(res.Lines)-opts.Tail:]
	}
	var b strings.Builder
	for _, l := range res.Lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	res.Data = []byte(b.String())
	return res, nil
}

// readTail returns the end of the file holding at least n lines (or the
// whole file).
func readTail(f *os.File, size int64, n int) ([]byte, error) {
	chunk := int64(tailChunk)
	for {
		start := size - chunk
		if start < 0 {
			start = 0
		}
		buf := make([]byte, size-start)
		if _, err := f.ReadAt(buf, start); err != nil && err != io.EOF {
			return nil, err
		}
		trimmed := bytes.TrimRight(buf, "\r\n")
		if start == 0 || bytes.Count(trimmed, []byte{'\n'}) > n {
			if start > 0 {
				// Drop the partial first line.
				if i := bytes.IndexByte(buf, '\n'); i >= 0 {
					buf = buf[i+1:]
				}
			}
			return buf, nil
		}
		chunk *= 4
	}
}

// lastLines returns the end of data holding its last n lines (a final
// line without a newline counts as one).
func lastLines(data []byte, n int) []byte {
	end := len(data)
	if end > 0 && data[end-1] == '\n' {
		end--
	}
	for i := end - 1; i >= 0; i-- {
		if data[i] == '\n' {
			n--
			if n == 0 {
				return data[i+1:]
			}
		}
	}
	return data
}

// CleanText turns terminal output into plain lines: CRLF line endings
// become LF. Invalid UTF-8 is kept for the JSON encoder to replace.
func CleanText(data []byte) string {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	return s
}

// splitLines splits text into lines without their terminators; a final
// line without a newline is kept.
func splitLines(s string) []string {
	if s == "" {
		return []string{}
	}
	s = strings.TrimSuffix(s, "\n")
	return strings.Split(s, "\n")
}
