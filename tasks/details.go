package tasks

// addDetails fills in the parts of the task object kept in sidecars of
// their own, the run history and the log-loss record, so that status and
// list give the same object. A task with one run and a complete log has
// neither file: two failed opens.
func (s *Store) addDetails(t *Task) {
	t.LogLoss = s.logLoss(t)
	var hist []Exit
	if readJSON(s.Path(t.ID, HistoryFile), &hist) != nil {
		return
	}
	// The last entry may be the current run's exit, which is in the
	// object (or about to be: the history is written first).
	if n := len(hist); n > 0 && hist[n-1].Run == t.Runs {
		hist = hist[:n-1]
	}
	for _, ex := range hist {
		t.History = append(t.History, pastRun(ex))
	}
}
