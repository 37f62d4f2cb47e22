package tasks

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// supervisorBinary returns the path of a bgmux binary that will outlive
// this process, for use as the window's command. A binary built by
// "go run" lives in a temporary go-build directory that is deleted when
// go run exits, so it is copied into the state directory (by content
// hash, once) and the copy is used instead.
func (s *Store) supervisorBinary(exe string) (string, error) {
	if !strings.Contains(exe, string(filepath.Separator)+"go-build") {
		return exe, nil
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	dir := filepath.Join(s.Dir, "bin")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", s.unwritable(err)
	}
	dst := filepath.Join(dir, "bgmux-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ".bgmux-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, f); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Chmod(0o700); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return dst, os.Rename(tmp.Name(), dst)
}
