package control

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
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

// Listen makes the task's control socket, replacing a stale one
// (its supervisor is gone: the caller made sure under the record lock).
func Listen(path string) (*net.UnixListener, error) {
	p, done, err := socketPath(path)
	if err != nil {
		return nil, err
	}
	defer done()
	os.Remove(path)
	old := unix.Umask(0o177)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
	unix.Umask(old)
	if err != nil {
		return nil, err
	}
	l.SetUnlinkOnClose(false)
	return l, nil
}

// Dial connects to the supervisor of the task whose control
// socket is path.
func Dial(path string, timeout time.Duration) (*net.UnixConn, error) {
	p, done, err := socketPath(path)
	if err != nil {
		return nil, err
	}
	defer done()
	c, err := net.DialTimeout("unix", p, timeout)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoAnswer, err)
	}
	return c.(*net.UnixConn), nil
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
	if ne := (net.Error)(nil); errors.As(err, &ne) && ne.Timeout() {
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
func WriteLine(c net.Conn, v any) error {
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
func SameUser(c *net.UnixConn) bool {
	uid, ok := peerUID(c)
	return !ok || uid == os.Getuid()
}
