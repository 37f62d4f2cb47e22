package supervisor

import (
	"bufio"
	"encoding/json"
	"os"
	"time"

	"github.com/bgmux/bgmux/control"
	"github.com/creack/pty"
)

// restartAsk is a restart asked through the control socket: the main
// loop ends the run (TERM, then KILL after grace) and starts the next,
// then answers with the run it started.
type restartAsk struct {
	grace time.Duration
	reply chan control.Reply
}

// serveControl opens the control socket and answers on it until the
// supervisor ends (closeControl).
func (s *supervisor) serveControl() {
	path := s.store.Path(s.spec.ID, control.File)
	l, err := control.Listen(path)
	if err != nil {
		supErrorf("[bgmux] cannot open the control socket (restart will use a new window, and the task cannot be shown again once its window is gone): %v\n", err)
		return
	}
	s.ctl = l
	s.ctlPath = path
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go s.serveConn(c)
		}
	}()
}

// closeControl stops answering: restarts asked from now on are told the
// supervisor is ending. It returns a restart asked before that, if any,
// which the caller must carry out.
func (s *supervisor) closeControl() *restartAsk {
	s.ctlMu.Lock()
	defer s.ctlMu.Unlock()
	select {
	case ask := <-s.restarts:
		return ask
	default:
	}
	s.ending = true
	if s.ctl != nil {
		s.ctl.Close()
		os.Remove(s.ctlPath)
	}
	return nil
}

func (s *supervisor) serveConn(c *control.Conn) {
	defer c.Close()
	if !control.SameUser(c) {
		return
	}
	r := bufio.NewReaderSize(c, 4096)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	req, ok := readRequest(r)
	if !ok {
		return
	}
	c.SetReadDeadline(time.Time{})
	switch req.Op {
	case "input":
		s.input(req.Data)
		control.WriteLine(c, control.Reply{OK: true})
	case "size":
		s.resize(&pty.Winsize{Rows: req.Rows, Cols: req.Cols})
		control.WriteLine(c, control.Reply{OK: true})
	case "restart":
		ask := &restartAsk{grace: time.Duration(req.GraceMS) * time.Millisecond, reply: make(chan control.Reply, 1)}
		s.ctlMu.Lock()
		if s.ending {
			s.ctlMu.Unlock()
			control.WriteLine(c, control.Reply{Ending: true, Error: "the supervisor is ending"})
			return
		}
		select {
		case s.restarts <- ask:
		default:
			// One is under way: this one is answered by it.
			s.ctlMu.Unlock()
			control.WriteLine(c, control.Reply{Error: "busy"})
			return
		}
		s.ctlMu.Unlock()
		control.WriteLine(c, <-ask.reply)
	case "view":
		s.serveViewer(c, r, req)
	default:
		control.WriteLine(c, control.Reply{Error: "unknown op " + req.Op})
	}
}

// serveViewer shows the task's recent and then live output on c and
// takes the viewer's input and size until it goes away or the
// supervisor ends.
func (s *supervisor) serveViewer(c *control.Conn, r *bufio.Reader, req control.Request) {
	if control.WriteLine(c, control.Reply{OK: true}) != nil {
		return
	}
	if req.Rows > 0 && req.Cols > 0 {
		s.resize(&pty.Winsize{Rows: req.Rows, Cols: req.Cols})
	}
	sink := newPaneSink(c, s.spec.Name)
	s.fan.add(sink, true)
	s.viewers.Add(1)
	defer func() {
		s.fan.remove(sink)
		sink.closeNow()
		if s.viewers.Add(-1) == 0 && s.paneGone.Load() && req.PID > 0 {
			// The last window showing the task went away (recorded by
			// the main loop, which writes every record).
			select {
			case s.detaches <- req.PID:
			default:
			}
		}
	}()
	for {
		req, ok := readRequest(r)
		if !ok {
			return
		}
		switch req.Op {
		case "input":
			s.paneInput(req.Data)
		case "size":
			s.resize(&pty.Winsize{Rows: req.Rows, Cols: req.Cols})
		}
	}
}

// readRequest reads one request line (at most 1 MiB).
func readRequest(r *bufio.Reader) (control.Request, bool) {
	var line []byte
	for {
		part, more, err := r.ReadLine()
		if err != nil {
			return control.Request{}, false
		}
		line = append(line, part...)
		if len(line) > 1<<20 {
			return control.Request{}, false
		}
		if !more {
			break
		}
	}
	var req control.Request
	if json.Unmarshal(line, &req) != nil {
		return control.Request{}, false
	}
	return req, true
}
