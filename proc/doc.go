// Package proc inspects processes: whether a process is the one that was
// recorded (alive, same start time, not a zombie), whether a process
// group still has a live member, and which boot of the host this is.
// Linux reads /proc; macOS asks the kernel (sysctl). It imports nothing
// of bgmux's but fileutil.
package proc
