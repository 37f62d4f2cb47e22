package supervisor

import (
	"os"
	"syscall"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal for a run. The master comes back in
// non-blocking mode, registered with Go's poller, so that closing it ends
// a read or write that waits on it (creack/pty leaves it blocking: it
// asks for its descriptor with Fd). The master must never be asked for
// Fd: that would make it blocking again; see setWinsize.
func openPTY() (master, tty *os.File, err error) {
	m, tty, err := pty.Open()
	if err != nil {
		return nil, nil, err
	}
	fd, err := unix.Dup(int(m.Fd()))
	m.Close()
	if err != nil {
		tty.Close()
		return nil, nil, err
	}
	unix.CloseOnExec(fd)
	if err := syscall.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		tty.Close()
		return nil, nil, err
	}
	return os.NewFile(uintptr(fd), "/dev/ptmx"), tty, nil
}

// setWinsize gives the terminal whose master is f the size ws (the
// child's process group gets SIGWINCH when it changes).
func setWinsize(f *os.File, ws *pty.Winsize) error {
	raw, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	err = raw.Control(func(fd uintptr) {
		ierr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: ws.Rows, Col: ws.Cols, Xpixel: ws.X, Ypixel: ws.Y})
	})
	if err != nil {
		return err
	}
	return ierr
}
