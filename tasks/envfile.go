package tasks

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// An env file gives a task's environment without putting the values on
// any command line (--env-file, MCP env_file, bgmux.yaml env_file). Its
// format is docker's --env-file: one variable a line,
//
//	KEY=VALUE   the value is everything after the first '=', taken
//	            literally: no quotes removed, no escapes, no $expansion,
//	            spaces kept (a CRLF line end is one line end)
//	KEY         the value of KEY in bgmux's own environment (an error
//	            when KEY is not set there)
//	# ...       a comment (a line whose first non-blank character is #)
//
// Blank lines are ignored, as is the blank at the start of a line; keys
// are letters, digits and '_'. Later lines win over earlier ones. A line
// that is none of these is an error naming FILE:LINE (never the line's
// text, which may be a secret).

// maxEnvFile bounds what an env file may hold.
const maxEnvFile = 1 << 20

// envVar is one variable of an env file or --env, in order.
type envVar struct{ key, value string }

// readEnvFile reads the env file at path (absolute, or relative to dir);
// lookup finds a bare KEY's value in bgmux's environment.
func readEnvFile(dir, path string, lookup func(string) (string, bool)) ([]envVar, error) {
	if path == "" {
		return nil, Errorf(KindInvalid, "the env file name is empty; give a file of KEY=VALUE lines")
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	// O_NONBLOCK: opening a named pipe nobody writes must not hang start
	// (it is refused below, as anything but a regular file is).
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, Errorf(KindInvalid, "env file %s does not exist; give a file of KEY=VALUE lines", path)
		}
		return nil, Errorf(KindInvalid, "env file %s cannot be read: %v", path, errors.Unwrap(err))
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, Errorf(KindInvalid, "env file %s is a directory; give a file of KEY=VALUE lines", path)
	} else if err == nil && !st.Mode().IsRegular() {
		return nil, Errorf(KindInvalid, "env file %s is not a regular file (a pipe, socket or device); give a file of KEY=VALUE lines", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxEnvFile+1))
	if err != nil {
		return nil, Errorf(KindInvalid, "env file %s cannot be read: %v", path, errors.Unwrap(err))
	}
	if len(data) > maxEnvFile {
		return nil, Errorf(KindInvalid, "env file %s is larger than %d bytes; an env file holds KEY=VALUE lines", path, maxEnvFile)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	var vars []envVar
	for n, line := range strings.Split(string(data), "\n") {
		at := fmt.Sprintf("env file %s:%d", path, n+1)
		line = strings.TrimSuffix(line, "\r")
		line = strings.TrimLeft(line, " \t\v\f\r")
		if line == "" || line[0] == '#' {
			continue
		}
		// Messages never quote the line: a file given by mistake (a key,
		// a token) would put its secret in the error.
		k, v, hasValue := strings.Cut(line, "=")
		if ValidateEnvKey(k) != nil {
			if rest, ok := strings.CutPrefix(k, "export "); ok && ValidateEnvKey(strings.TrimSpace(rest)) == nil {
				return nil, Errorf(KindInvalid, "%s: drop the \"export\" (an env file is KEY=VALUE lines, not a shell script)", at)
			}
			return nil, Errorf(KindInvalid, "%s: not KEY=VALUE; a name is letters, digits and '_' (not starting with a digit), then '=' and the value, taken literally", at)
		}
		if !hasValue {
			val, ok := lookup(k)
			if !ok {
				return nil, Errorf(KindInvalid, "%s: a name without '=' takes its value from bgmux's environment, where it is not set; set it there, or write KEY=VALUE", at)
			}
			v = val
		}
		if strings.IndexByte(v, 0) >= 0 {
			return nil, Errorf(KindInvalid, "%s: the value of %s contains a NUL byte", at, k)
		}
		vars = append(vars, envVar{k, v})
	}
	return vars, nil
}

// taskEnv is the environment a start asks for: the env files in order,
// then the --env entries (KEY=VALUE, or KEY for its value in bgmux's own
// environment, env), later ones winning.
func taskEnv(dir string, files, entries, env []string) (map[string]string, error) {
	lookup := func(k string) (string, bool) {
		v, ok := "", false
		for _, kv := range env { // the last one wins, as in the child's environment
			if ek, ev, _ := strings.Cut(kv, "="); ek == k {
				v, ok = ev, true
			}
		}
		return v, ok
	}
	out := map[string]string{}
	for _, p := range files {
		vars, err := readEnvFile(dir, p, lookup)
		if err != nil {
			return nil, err
		}
		for _, e := range vars {
			out[e.key] = e.value
		}
	}
	for _, kv := range entries {
		k, v, hasValue := strings.Cut(kv, "=")
		if err := ValidateEnvKey(k); err != nil {
			return nil, err
		}
		if !hasValue {
			val, ok := lookup(k)
			if !ok {
				return nil, Errorf(KindInvalid, "--env %s takes the value of %s from bgmux's environment, where it is not set; set it (export %s=...), or give --env %s=VALUE or --env-file FILE", k, k, k, k)
			}
			v = val
		}
		if strings.IndexByte(v, 0) >= 0 {
			return nil, Errorf(KindInvalid, "--env %s: the value contains a NUL byte", k)
		}
		out[k] = v
	}
	return out, nil
}
