package model

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

// TimeLayout is the wire format of every JSON timestamp (API.md A.6):
// ISO-8601 in UTC with exactly three fractional digits.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// Time is a timestamp that marshals as TimeLayout, for example
// "2023-01-25T19:00:26.187Z". The zero Time marshals as null and
// unmarshals from null; use the `omitzero` tag option to leave it out.
type Time struct {
	time.Time
}

// NewTime returns t in UTC truncated to milliseconds: the precision the wire
// carries, so a value survives a JSON round trip unchanged.
func NewTime(t time.Time) Time {
	if t.IsZero() {
		return Time{}
	}
	return Time{t.UTC().Truncate(time.Millisecond)}
}

// String formats t as TimeLayout ("" for the zero Time).
func (t Time) String() string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeLayout)
}

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	u := t.UTC()
	if y := u.Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("model: time year %d outside [0,9999]", y)
	}
	b := make([]byte, 0, len(TimeLayout)+2)
	b = append(b, '"')
	b = u.AppendFormat(b, TimeLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON accepts null and any RFC 3339 timestamp (any fractional
// precision, any offset); the value is kept in UTC at millisecond precision.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*t = Time{}
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return errors.New("model: time must be a JSON string")
	}
	p, err := time.Parse(time.RFC3339Nano, string(b[1:len(b)-1]))
	if err != nil {
		return fmt.Errorf("model: time: %w", err)
	}
	*t = NewTime(p)
	return nil
}
