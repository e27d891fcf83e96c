package store

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Every engine stores a Job as the JSON EncodeJob gives and reads it back
// with DecodeJob, so that what makes a stored job broken is decided once;
// and a Run, a Change and the Settings as their JSON, read back with
// DecodeRun, DecodeChange and DecodeSettings, so that a damaged one is
// named alike on every engine.

// EncodeJob checks that j may be stored, and encodes it.
func EncodeJob(j *Job) ([]byte, error) {
	if j.Broken != "" {
		return nil, fmt.Errorf("job %q is broken (%s); it is kept as stored", j.ID, j.Broken)
	}
	if j.ID == "" {
		return nil, errors.New("job has no id")
	}
	if !j.State.Valid() {
		return nil, fmt.Errorf("job %q: unknown state %q", j.ID, j.State)
	}
	if _, err := j.ParseTrigger(); err != nil {
		return nil, fmt.Errorf("job %q: trigger: %w", j.ID, err)
	}
	v, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("job %q: %w", j.ID, err)
	}
	return v, nil
}

// DecodeJob never fails: a job that cannot be used is returned Broken,
// with the reason, under the id it is stored as.
func DecodeJob(id string, v []byte) *Job {
	j := new(Job)
	if err := json.Unmarshal(v, j); err != nil {
		return &Job{ID: id, Broken: "cannot decode the stored job: " + err.Error()}
	}
	switch {
	case j.ID != id:
		j.Broken = fmt.Sprintf("stored under id %q but says it is %q", id, j.ID)
		j.ID = id
	case !j.State.Valid():
		j.Broken = fmt.Sprintf("unknown state %q", j.State)
	default:
		if _, err := j.ParseTrigger(); err != nil {
			j.Broken = "trigger: " + err.Error()
		}
	}
	return j
}

// Check reports why s may not be stored.
func (s Settings) Check() error {
	if s.HistoryLimit < 0 {
		return fmt.Errorf("history limit: %d is negative", s.HistoryLimit)
	}
	for _, e := range s.Executors {
		if e.MaxWorkers < 1 {
			return fmt.Errorf("executor %q: max workers %d is less than 1", e.Name, e.MaxWorkers)
		}
	}
	if err := CheckMailTo(s.MailTo); err != nil {
		return err
	}
	if err := CheckPing(s.Ping); err != nil {
		return err
	}
	if err := CheckPingEvery(s.PingEvery); err != nil {
		return err
	}
	return CheckSendmail(s.Sendmail)
}

// Check reports why r may not be stored.
func (r *Run) Check() error {
	if !r.Outcome.Valid() {
		return fmt.Errorf("run of job %q: unknown outcome %q", r.JobID, r.Outcome)
	}
	return nil
}

// DecodeRun reads run seq of job jobID, stored as JSON.
func DecodeRun(jobID string, seq uint64, v []byte) (*Run, error) {
	r := new(Run)
	if err := json.Unmarshal(v, r); err != nil {
		return nil, fmt.Errorf("run %s/%d: cannot decode: %w", jobID, seq, err)
	}
	r.JobID, r.Seq = jobID, seq
	return r, nil
}

// DecodeChange reads journal entry seq, stored as JSON.
func DecodeChange(seq uint64, v []byte) (Change, error) {
	var c Change
	if err := json.Unmarshal(v, &c); err != nil {
		return Change{}, fmt.Errorf("change %d: cannot decode: %w", seq, err)
	}
	c.Seq = seq
	return c, nil
}

// DecodeSettings reads the Settings stored as JSON; nil is the settings of
// a new store.
func DecodeSettings(v []byte) (Settings, error) {
	var s Settings
	if v == nil {
		return s, nil
	}
	if err := json.Unmarshal(v, &s); err != nil {
		return Settings{}, fmt.Errorf("settings: cannot decode: %w", err)
	}
	return s, nil
}
