package mcp

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// handleRecord is a Tasks extension handle as kept on disk: enough to
// answer tasks/get, and to run the wait again after a server restart.
type handleRecord struct {
	ID string `json:"id"`
	// Tool and Arguments are the tools/call the handle answers.
	Tool      string          `json:"tool"`
	Arguments json.RawMessage `json:"arguments"`
	// Task is the id of the bgmux task waited on; Started, for
	// start_task, the words its summary begins with.
	Task    string `json:"task"`
	Started string `json:"started,omitempty"`
	// Status is working, completed, failed or cancelled.
	Status        string    `json:"status"`
	StatusMessage string    `json:"status_message"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	// From is where wait_task's new or since_offset starts looking (a log
	// offset), settled when the call was made.
	From int64 `json:"from,omitempty"`
	// Result is the CallToolResult once completed.
	Result json.RawMessage `json:"result,omitempty"`
}

// waitArgs are the wait the handle's arguments ask for.
func (r *handleRecord) waitArgs() (*waitArgs, error) {
	if r.Tool == "start_task" {
		var in StartInput
		if err := json.Unmarshal(r.Arguments, &in); err != nil {
			return nil, err
		}
		if in.WaitFor == "" {
			return nil, errors.New("start_task without wait_for does not wait")
		}
		return parseWait("wait_for", in.WaitFor, in.TimeoutS)
	}
	var in WaitInput
	if err := json.Unmarshal(r.Arguments, &in); err != nil {
		return nil, err
	}
	w, err := parseWait("for", in.For, in.TimeoutS)
	if err != nil {
		return nil, err
	}
	w.from = r.From
	return w, nil
}

// handleStatus is a handle as the extension shows it: the answer to
// tasks/get, and (with resultType "task") to the tools/call.
type handleStatus struct {
	ResultType     string          `json:"resultType"`
	TaskID         string          `json:"taskId"`
	Status         string          `json:"status"`
	StatusMessage  string          `json:"statusMessage,omitempty"`
	CreatedAt      string          `json:"createdAt"`
	LastUpdatedAt  string          `json:"lastUpdatedAt"`
	TTLMs          int64           `json:"ttlMs"`
	PollIntervalMs int64           `json:"pollIntervalMs"`
	Result         json.RawMessage `json:"result,omitempty"`
	Error          *handleError    `json:"error,omitempty"`
}

// handleError is the error of a failed handle.
type handleError struct {
	Code    int64  `json:"code"`
	Message string `json:"message"`
}

// status is the record as tasks/get answers it.
func (r *handleRecord) status(ttl time.Duration) *handleStatus {
	h := &handleStatus{
		ResultType: "complete", TaskID: r.ID, Status: r.Status, StatusMessage: r.StatusMessage,
		CreatedAt: r.CreatedAt.Format(time.RFC3339Nano), LastUpdatedAt: r.UpdatedAt.Format(time.RFC3339Nano),
		TTLMs: ttl.Milliseconds(), PollIntervalMs: handlePoll.Milliseconds(),
	}
	switch r.Status {
	case statusCompleted:
		h.Result = r.Result
	case statusFailed:
		h.Error = &handleError{Code: -32603, Message: r.StatusMessage}
	}
	return h
}

// handleStore keeps the handles, one file each, in dir.
type handleStore struct {
	dir string
	ttl time.Duration
}

// handleIDPattern is the form of the handle ids this server makes; any
// other id names no file.
var handleIDPattern = regexp.MustCompile(`^bgw-[0-9a-f]{24}$`)

func (st *handleStore) path(id string) string { return filepath.Join(st.dir, id+".json") }

// save writes r whole (a temporary file renamed over the old one).
func (st *handleStore) save(r *handleRecord) error {
	if err := os.MkdirAll(st.dir, 0o700); err != nil {
		return fmt.Errorf("keep handle %s: %w", r.ID, err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("keep handle %s: %w", r.ID, err)
	}
	tmp := st.path(r.ID) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("keep handle %s: %w", r.ID, err)
	}
	if err := os.Rename(tmp, st.path(r.ID)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("keep handle %s: %w", r.ID, err)
	}
	return nil
}

// remove deletes the handle id's file.
func (st *handleStore) remove(id string) { os.Remove(st.path(id)) }

// load reads the handle id; an unknown, unreadable or expired one is an
// error (an expired one's file is removed).
func (st *handleStore) load(id string) (*handleRecord, error) {
	if !handleIDPattern.MatchString(id) {
		return nil, errors.New("not a handle of this server (they look like bgw-<24 hex digits>)")
	}
	b, err := os.ReadFile(st.path(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errors.New("no such handle (it expired, or never existed)")
	}
	if err != nil {
		return nil, err
	}
	var r handleRecord
	if err := json.Unmarshal(b, &r); err != nil || r.ID != id {
		return nil, fmt.Errorf("its file %s is damaged", st.path(id))
	}
	if st.expired(&r, time.Now()) {
		os.Remove(st.path(id))
		return nil, fmt.Errorf("it expired %s after its last change", st.ttl)
	}
	return &r, nil
}

// expired reports whether r is past its time to live at now.
func (st *handleStore) expired(r *handleRecord, now time.Time) bool {
	return now.Sub(r.UpdatedAt) > st.ttl
}

// clean removes the files of expired handles, and damaged or left-over
// temporary ones older than the time to live. Only files named as
// handles are looked at.
func (st *handleStore) clean() {
	ents, err := os.ReadDir(st.dir)
	if err != nil {
		return
	}
	now := time.Now()
	for _, e := range ents {
		name := e.Name()
		id, tmp := strings.CutSuffix(name, ".json.tmp")
		if !tmp {
			id, _ = strings.CutSuffix(name, ".json")
		}
		if id == name || !handleIDPattern.MatchString(id) {
			continue
		}
		p := filepath.Join(st.dir, name)
		var r handleRecord
		if b, err := os.ReadFile(p); !tmp && err == nil && json.Unmarshal(b, &r) == nil {
			if st.expired(&r, now) {
				os.Remove(p)
			}
			continue
		}
		if fi, err := e.Info(); err == nil && now.Sub(fi.ModTime()) > st.ttl {
			os.Remove(p)
		}
	}
}
