package store

import (
	"encoding/json"
	"unicode/utf8"
)

// A run's output is kept as the job wrote it, which need not be UTF-8. A
// JSON string can hold only UTF-8 (encoding/json replaces other bytes with
// U+FFFD), so output that is not is stored as base64 under output_bytes.

// runFields is Run without its methods, for encoding/json.
type runFields Run

type runJSON struct {
	runFields
	OutputBytes []byte `json:"output_bytes,omitempty"`
}

func (r Run) MarshalJSON() ([]byte, error) {
	v := runJSON{runFields: runFields(r)}
	if !utf8.ValidString(r.Output) {
		v.Output, v.OutputBytes = "", []byte(r.Output)
	}
	return json.Marshal(v)
}

func (r *Run) UnmarshalJSON(b []byte) error {
	var v runJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = Run(v.runFields)
	if v.OutputBytes != nil {
		r.Output = string(v.OutputBytes)
	}
	return nil
}
