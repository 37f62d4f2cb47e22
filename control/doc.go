// Package control is the protocol of a live supervisor's control socket
// (File, in the task's directory): one JSON request line (Request), one
// JSON answer line (Reply), and for a viewer the task's output after the
// answer, with more request lines (input, size) the other way. Call is
// one request and its answer; Listen and Dial make and reach the socket,
// whatever the length of its path. It imports nothing of bgmux's.
package control
