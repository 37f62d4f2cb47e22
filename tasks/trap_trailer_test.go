package tasks

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestTrapTrailerConsumed: the log writer consumes the exact trailer it
// expects, however the pipe splits it, and writes everything else: the
// log holds only the task's output, its size (the logical end, where the
// next run's output begins) counts only the bytes written, and a line the
// task left unfinished is still ended so the next run starts on its own.
func TestTrapTrailerConsumed(t *testing.T) {
	const trailer = "[bgmux] exited 0 after 0.1s"
	cases := []struct {
		name   string
		note   string // what the supervisor prints, if not the trailer
		chunks []string
		want   string
		seen   bool
	}{
		{"whole", "", []string{"out\r\n\r\n" + trailer + "\r\n"}, "out\r\n", true},
		{"byte by byte", "", split("out\r\n\r\n" + trailer + "\r\n"), "out\r\n", true},
		{"no output processing", "", []string{"out\n\n" + trailer + "\n"}, "out\n", true},
		{"unfinished line", "", []string{"prompt> ", "\r\n" + trailer + "\r\n"}, "prompt> \r\n", true},
		{"output after it", "", []string{"a\r\n\r\n" + trailer + "\r\nlate\r\n"}, "a\r\nlate\r\n", true},
		{"stop note", "[bgmux] stopped; not restarting\n", []string{"a\r\n[bgmux] stopped; not restarting\r\n"}, "a\r\n", true},
		{"look-alike", "", []string{"\r\n[bgmux] exited 0 after 0.1", "x\r\n"}, "\r\n[bgmux] exited 0 after 0.1x\r\n", false},
		{"cut short", "", []string{"a\r\n\r\n[bgmux] exit"}, "a\r\n\r\n[bgmux] exit", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := OpenStore(filepath.Join(t.TempDir(), "state"))
			id := "bg-trail1"
			ftTask(t, s, id, "tr")
			base, _ := os.ReadFile(s.Path(id, LogFile)) // what the task logged before
			w, err := openLogWriter(s, id, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer w.close()
			note := c.note
			if note == "" {
				note = "\n" + trailer + "\n"
			}
			w.expect(note)
			for _, ch := range c.chunks {
				w.write([]byte(ch))
			}
			seen := w.waitSeen(100*time.Millisecond, nil)
			data, _ := os.ReadFile(s.Path(id, LogFile))
			if string(data) != string(base)+c.want || seen != c.seen {
				t.Fatalf("log %q seen %v, want %q seen %v", data, seen, string(base)+c.want, c.seen)
			}
			if w.end() != int64(len(base)+len(c.want)) {
				t.Fatalf("end %d, want %d", w.end(), len(base)+len(c.want))
			}
			// Disarmed: the next run's output is written as it comes.
			w.write([]byte("\r\n" + trailer + "\r\n"))
			if data, _ := os.ReadFile(s.Path(id, LogFile)); string(data) != string(base)+c.want+"\r\n"+trailer+"\r\n" {
				t.Fatalf("after waitSeen the writer still consumed output: %q", data)
			}
		})
	}
}

func split(s string) []string {
	out := make([]string, len(s))
	for i := range s {
		out[i] = s[i : i+1]
	}
	return out
}
