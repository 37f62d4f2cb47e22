package tasks

// logLoss reads the task's logloss sidecar: nil when no output is missing
// from its log (or the record cannot be read). Output is being dropped
// only while the task runs (or is about to run again).
func (s *Store) logLoss(t *Task) *LogLoss {
	var l LogLoss
	if readJSON(s.Path(t.ID, LogLossFile), &l) != nil || l.Gaps == 0 {
		return nil
	}
	if l.Dropping && !t.Live() {
		l.Dropping = false
	}
	return &l
}
