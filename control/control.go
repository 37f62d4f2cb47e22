package control

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// File is the live supervisor's control socket in the task's
// directory (mode 0600): restart asks the supervisor through it to end
// the run and start the next, send types into the task when it has no
// window, and viewers (bgmux __view) show the task's output in a window
// of their own.
const File = "control.sock"

// Request is one request on the control socket: one JSON line.
type Request struct {
	// Op is restart, input, size or view.
	Op string `json:"op"`
	// Data is what input types (bytes, base64 in JSON).
	Data []byte `json:"data,omitempty"`
	// Rows and Cols are the terminal size (size, view).
	Rows uint16 `json:"rows,omitempty"`
	Cols uint16 `json:"cols,omitempty"`
	// PID is a viewer's pid, its window's pane process (view).
	PID int `json:"pid,omitempty"`
	// GraceMS is how long restart waits after SIGTERM before SIGKILL.
	GraceMS int64 `json:"grace_ms,omitempty"`
}

// Reply is the supervisor's answer: one JSON line.
type Reply struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// Run is the run a restart started.
	Run int `json:"run,omitempty"`
	// Ending says the supervisor is ending: the task's last run is over
	// and nothing is started any more.
	Ending bool `json:"ending,omitempty"`
}

// ErrNoAnswer says no supervisor answers on the task's control socket.
var ErrNoAnswer = errors.New("no supervisor answers")

// socketPath is a path to the socket at path that fits in a sockaddr_un
// (108 bytes on Linux, 104 on macOS): long paths go through the
// directory's descriptor under /proc/self/fd on Linux. The returned
// close releases that descriptor.
func socketPath(path string) (string, func(), error) {
	if len(path) < 100 {
		return path, func() {}, nil
	}
	if runtime.GOOS != "linux" {
		return "", nil, fmt.Errorf("the control socket's path is too long for a unix socket (%d bytes): use a shorter state directory", len(path))
	}
	fd, err := unix.Open(filepath.Dir(path), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", nil, err
	}
	return "/proc/self/fd/" + strconv.Itoa(fd) + "/" + filepath.Base(path), func() { unix.Close(fd) }, nil
}

// The socket is made with plain system calls, not package net: net would
// link the C library into bgmux (its DNS resolver), which every bgmux
// process, CLI call and supervisor alike, would then pay for at start-up.

// Conn is one connection on a control socket.
type Conn struct {
	*os.File
}

// Listener is a control socket that takes connections.
type Listener struct {
	f *os.File
}

// Listen makes the task's control socket, replacing a stale one
// (its supervisor is gone: the caller made sure under the record lock).
func Listen(path string) (*Listener, error) {
	p, done, err := socketPath(path)
	if err != nil {
		return nil, err
	}
	defer done()
	os.Remove(path)
	fd, err := socket()
	if err != nil {
		return nil, err
	}
	old := unix.Umask(0o177)
	err = unix.Bind(fd, &unix.SockaddrUnix{Name: p})
	unix.Umask(old)
	if err == nil {
		err = unix.Listen(fd, 64)
	}
	if err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "listen", Path: path, Err: err}
	}
	return &Listener{f: os.NewFile(uintptr(fd), path)}, nil
}

// socket is a new unix stream socket, close-on-exec and non-blocking (so
// that Go's poller waits on it, and closing it ends a wait).
func socket() (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		return -1, err
	}
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// Accept waits for the next connection; it fails once the listener is
// closed.
func (l *Listener) Accept() (*Conn, error) {
	raw, err := l.f.SyscallConn()
	if err != nil {
		return nil, err
	}
	nfd := -1
	var aerr error
	err = raw.Read(func(fd uintptr) bool {
		syscall.ForkLock.RLock()
		nfd, _, aerr = unix.Accept(int(fd))
		if aerr == nil {
			unix.CloseOnExec(nfd)
		}
		syscall.ForkLock.RUnlock()
		return aerr != unix.EAGAIN && aerr != unix.EINTR
	})
	if err != nil {
		return nil, err
	}
	if aerr != nil {
		return nil, aerr
	}
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return nil, err
	}
	return &Conn{os.NewFile(uintptr(nfd), "control")}, nil
}

// Close stops taking connections (the socket file stays: its owner
// removes it).
func (l *Listener) Close() error { return l.f.Close() }

// Dial connects to the supervisor of the task whose control
// socket is path.
func Dial(path string, timeout time.Duration) (*Conn, error) {
	p, done, err := socketPath(path)
	if err != nil {
		return nil, err
	}
	defer done()
	fd, err := socket()
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	for {
		err = unix.Connect(fd, &unix.SockaddrUnix{Name: p})
		if err != unix.EAGAIN && err != unix.EINTR || time.Now().After(deadline) {
			break
		}
		// The supervisor's backlog is full: it takes connections soon.
		time.Sleep(5 * time.Millisecond)
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("%w: connect %s: %v", ErrNoAnswer, path, err)
	}
	return &Conn{os.NewFile(uintptr(fd), path)}, nil
}

// Call sends one request to the task's supervisor and reads its
// answer, waiting at most timeout for it.
func Call(path string, req Request, timeout time.Duration) (Reply, error) {
	c, err := Dial(path, 2*time.Second)
	if err != nil {
		return Reply{}, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if err := WriteLine(c, req); err != nil {
		return Reply{}, fmt.Errorf("%w: %v", ErrNoAnswer, err)
	}
	var rep Reply
	line, err := bufio.NewReader(c).ReadBytes('\n')
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return Reply{}, fmt.Errorf("its supervisor did not answer within %v", timeout)
	}
	if err != nil {
		// Closed unanswered: the supervisor ended before taking it.
		return Reply{}, fmt.Errorf("%w: %v", ErrNoAnswer, err)
	}
	if err := json.Unmarshal(line, &rep); err != nil {
		return Reply{}, fmt.Errorf("the supervisor's answer is not valid: %v", err)
	}
	return rep, nil
}

// WriteLine writes v as one JSON line.
func WriteLine(c io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = c.Write(append(b, '\n'))
	return err
}

// SameUser reports whether the peer of c runs as this process's user
// (where the system tells; the socket's mode and its directory's already
// keep other users out).
func SameUser(c *Conn) bool {
	uid, ok := peerUID(c)
	return !ok || uid == os.Getuid()
}
