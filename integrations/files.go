// Package integrations holds what `bgmux setup` writes into an agent's
// configuration (subpackages opencode and claude) and how it writes it:
// each file is computed first (File), then written atomically only when
// its content changes, so a second setup changes nothing.
package integrations

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File is one file a setup writes: its path, its content now (Old, nil
// when it does not exist) and the content it should have (New).
type File struct {
	Path string
	Old  []byte
	New  []byte
	// What says in a few words what the new content adds.
	What string
	// Mode is the file's mode when it is created (an existing file keeps its own).
	Mode fs.FileMode
}

// Changed reports whether writing f would change the file.
func (f *File) Changed() bool { return f.New != nil && (f.Old == nil || !bytes.Equal(f.Old, f.New)) }

// Read returns the content of path, nil when it does not exist.
func Read(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// Write writes f's new content when it changed: a temporary file in the
// same directory (created with the missing parent directories), then a
// rename over the old one, so a reader sees the old file or the new one.
func Write(f *File) error {
	if !f.Changed() {
		return nil
	}
	dir := filepath.Dir(f.Path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	mode := f.Mode
	if mode == 0 {
		mode = 0o644
	}
	if st, err := os.Stat(f.Path); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(f.Path)+".bgmux-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(f.New); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), f.Path); err != nil {
		return fmt.Errorf("cannot write %s: %w", f.Path, err)
	}
	return nil
}
