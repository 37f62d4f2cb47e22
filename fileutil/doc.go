// Package fileutil holds the file helpers every part of bgmux's state
// directory relies on: writing a file so that readers see the old one or
// the whole new one (WriteFileAtomic, WriteJSON), reading small files
// with plain system calls (ReadSmallFile), reading JSON records with a
// shape check (ReadJSON) that reports damage as a CorruptError, setting
// a damaged file aside (SetAside), and reading parts of files (ReadAt,
// FileStat).
//
// It owns no file of its own and imports nothing of bgmux's.
package fileutil
