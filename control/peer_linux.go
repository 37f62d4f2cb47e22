package control

import (
	"golang.org/x/sys/unix"
)

// peerUID is the user id of the process at the other end of c.
func peerUID(c *Conn) (int, bool) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, false
	}
	var cred *unix.Ucred
	var gerr error
	raw.Control(func(fd uintptr) { cred, gerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) })
	if gerr != nil || cred == nil {
		return 0, false
	}
	return int(cred.Uid), true
}
