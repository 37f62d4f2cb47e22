package tests

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ftFloodLines is how many lines the full-disk flood writes: about 3.8 MB
// through the terminal, on a 2 MB file system.
const ftFloodLines = 300000

// ftFloodBytes is what the flood writes through the terminal (CRLF).
func ftFloodBytes() int64 {
	var n int64
	for i := 1; i <= ftFloodLines; i++ {
		n += int64(len(ftLine(i)) + 2)
	}
	return n
}

// TestFaultFullDisk runs the state dir on a 2 MB tmpfs and lets a task
// write 3.8 MB: it is not blocked, its exit (7) is recorded exactly
// although the disk is full, status and logs say how much output is
// missing and why, the log is a clean record of what it holds, and the
// other tasks' records are untouched. A task that keeps writing resumes
// logging, at a line start, once there is room again.
func TestFaultFullDisk(t *testing.T) {
	needRoot(t, "it mounts a tmpfs on the state dir")
	e := newEnv(t)
	ftMount(t, e, "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", e.State)
	keeper := e.start("--name", "keeper", "--", "echo keeper-ready; exec sleep 1000")
	done := e.start("--name", "done", "--", "echo done-out; exit 3")
	ecCheck(t, "done", e.waitFinished("done"), ecWant{state: "exited", code: 3})
	ftSettled(t, e, done.ID)
	ticker := e.start("--name", "ticker", "--", ftWideTicker)
	e.waitLog("ticker", "tick 2 ", 20*time.Second)
	// Room given back later, to show logging resumes.
	ballast := filepath.Join(e.State, "ballast")
	if err := os.WriteFile(ballast, bytes.Repeat([]byte{'b'}, 256<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	keeperDir, doneDir := scTaskDir(e, keeper.ID), scTaskDir(e, done.ID)
	keeperBefore := map[string][]byte{}
	for _, f := range []string{"spec", "run", "window", "output.log"} {
		keeperBefore[f] = ftRead(t, filepath.Join(keeperDir, f))
	}
	doneBefore := ftTree(t, doneDir)

	fin0 := time.Now()
	flood := e.start("--name", "flood", "--", fmt.Sprintf(`awk 'BEGIN { for (i = 1; i <= %d; i++) print "line " i; exit 7 }'`, ftFloodLines))
	// Not blocked: the supervisor drains the pipe and the task finishes.
	fin := e.waitState("flood", 90*time.Second, func(t task) bool { return t.State != "running" && t.State != "starting" })
	ecCheck(t, "flood on a full disk", fin, ecWant{state: "exited", code: 7})
	t.Logf("flood finished after %v", time.Since(fin0))
	ecCheckSidecar(t, e, flood.ID, ecWant{state: "exited", code: 7})
	var hist []ecExit
	scReadSidecar(t, e, flood.ID, "history", &hist)
	if len(hist) != 1 || hist[0].ExitCode == nil || *hist[0].ExitCode != 7 {
		t.Fatalf("history of the flood: %+v", hist)
	}

	// It says what is missing, and why.
	loss := ftLossOf(t, e, "flood")
	logData := ftRead(t, flood.LogPath)
	if loss == nil || loss.Bytes <= 0 || loss.Gaps < 1 || loss.Dropping || !strings.Contains(loss.Reason, "disk full") || loss.Offset > int64(len(logData)) {
		t.Fatalf("status log_loss of the flood: %+v (log %d bytes)", loss, len(logData))
	}
	total := int64(len(logData)) + loss.Bytes
	if want := ftFloodBytes(); total < want || total > want+1024 {
		t.Fatalf("log %d + missing %d = %d bytes; the task wrote %d (plus bgmux's own lines): output unaccounted for", len(logData), loss.Bytes, total, want)
	}
	if text := e.must("status", "flood"); !strings.Contains(text, "missing from the log") || !strings.Contains(text, "disk full") {
		t.Fatalf("status text does not say output is missing:\n%s", text)
	}
	r := e.run("logs", "flood", "--tail", "3")
	if r.Code != 0 || !strings.Contains(r.Err, "missing from the log") || !strings.Contains(r.Err, "disk full") {
		t.Fatalf("logs on a log with a gap: exit %d, stderr %q", r.Code, r.Err)
	}
	var lj struct {
		LogLoss *ftLogLoss `json:"log_loss"`
	}
	edgeOneJSON(t, "logs --json", e.must("logs", "--json", "--tail", "1", "flood"), &lj)
	if lj.LogLoss == nil || *lj.LogLoss != *loss {
		t.Fatalf("logs --json log_loss %+v, status says %+v", lj.LogLoss, loss)
	}
	got := ftParse(t, "flood log on a full disk", logData, ftLine, ftParseOpts{first: 1, gaps: true, notes: true})
	if got.lines < 1000 || got.last >= ftFloodLines || int64(got.jumps) > int64(loss.Gaps) {
		t.Fatalf("flood log: lines %d..%d, %d jumps; loss %+v", got.first, got.last, got.jumps, loss)
	}

	// The other tasks' records are untouched; keeper still runs.
	if st := e.status("keeper"); st.State != "running" || st.PID == nil || *st.PID != *keeper.PID {
		t.Fatalf("keeper on a full disk: %+v", st)
	}
	for f, b := range keeperBefore {
		if now := ftRead(t, filepath.Join(keeperDir, f)); !bytes.Equal(now, b) {
			t.Fatalf("keeper's %s changed:\nbefore %q\nafter  %q", f, b, now)
		}
	}
	if d := ftTreeDiff(doneBefore, ftTree(t, doneDir)); d != "" {
		t.Fatalf("the finished task's files changed:\n%s", d)
	}
	ecCheck(t, "done on a full disk", e.status("done"), ecWant{state: "exited", code: 3})

	// The flood's supervisor gave back its reserve when it ended: fill
	// the disk again, as anything else on it might.
	ftFill(t, filepath.Join(e.State, "filler"))
	// The ticker, writing on, is dropping output and says so.
	var tl *ftLogLoss
	if !poll(30*time.Second, func() bool { tl = ftLossOf(t, e, "ticker"); return tl != nil && tl.Dropping }) {
		t.Fatalf("the ticker on a full disk never reported dropping output: %+v (log %d bytes)", tl, ftSize(ticker.LogPath))
	}
	if st := e.status("ticker"); st.State != "running" {
		t.Fatalf("ticker on a full disk: %+v", st)
	}
	t.Logf("ticker dropping after %v: %+v", time.Since(fin0), tl)
	// Room again: logging resumes by itself, at a line start.
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	if !poll(30*time.Second, func() bool {
		tl = ftLossOf(t, e, "ticker")
		return tl != nil && !tl.Dropping && ftSize(ticker.LogPath) > tl.Offset+200
	}) {
		t.Fatalf("the ticker's log did not resume once there was room: %+v, log %d bytes", tl, ftSize(ticker.LogPath))
	}
	t.Logf("ticker resumed after %v: %+v", time.Since(fin0), tl)
	tickLog := ftParse(t, "ticker log across the gap", ftRead(t, ticker.LogPath), ftWideTick, ftParseOpts{first: 1, gaps: true, notes: true})
	if tickLog.jumps < 1 || tickLog.jumps > tl.Gaps {
		t.Fatalf("ticker log: %d jumps in the numbering, loss record %+v", tickLog.jumps, tl)
	}
	e.must("stop", "ticker")
	ecCheck(t, "ticker after stop", e.waitFinished("ticker"), ecWant{state: "killed", signal: "SIGTERM"})
	ecCheckSidecar(t, e, ticker.ID, ecWant{state: "killed", signal: "SIGTERM"})
	for _, id := range []string{flood.ID, ticker.ID} {
		r := lpReadRun(t, e, id)
		if !poll(20*time.Second, func() bool { return !pidAlive(r.SupervisorPID) }) {
			t.Fatalf("the supervisor of %s did not end", id)
		}
		if _, err := os.Stat(filepath.Join(scTaskDir(e, id), "reserve")); err == nil {
			t.Fatalf("task %s kept its disk reserve after its supervisor ended", id)
		}
	}
}
