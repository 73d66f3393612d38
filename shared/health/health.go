package health

import (
	"encoding/json"
	"sync/atomic"
)

// Checker reports whether a node is ready to take traffic.
//
// Ready returns nil when the node is ready; otherwise an error whose text
// explains why not (it is shown to whoever probes /readyz, so it must not
// carry secrets). Ready is called once per probe, from many goroutines at
// once: it must be safe for concurrent use and cheap (no network, no disk).
type Checker interface {
	Ready() error
}

// Func adapts a function to a Checker. A nil Func must not be called.
type Func func() error

// Ready calls f.
func (f Func) Ready() error { return f() }

var _ Checker = Func(nil)

// Status values of the /readyz body.
const (
	StatusOK          = "ok"
	StatusUnavailable = "unavailable"
)

// Body is the JSON body every authok server answers /readyz with:
// {"status":"ok"} or {"status":"unavailable","reason":"..."}.
type Body struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// readyBody is Probe's body when ready, rendered once.
var readyBody = []byte(`{"status":"ok"}`)

// Probe asks c and returns the HTTP status code (200 or 503) and the JSON
// body of a /readyz answer. A nil c is always ready. When ready, the body is
// a shared slice the caller must not modify; Probe then does not allocate.
func Probe(c Checker) (status int, body []byte) {
	if c == nil {
		return 200, readyBody
	}
	err := c.Ready()
	if err == nil {
		return 200, readyBody
	}
	b, merr := json.Marshal(Body{Status: StatusUnavailable, Reason: err.Error()})
	if merr != nil { // unreachable: two strings always marshal
		b = []byte(`{"status":"unavailable"}`)
	}
	return 503, b
}

// Switch is a Checker whose answer is set from outside: not ready with a
// reason, or ready. The zero value is ready.
type Switch struct{ err atomic.Pointer[error] }

var _ Checker = (*Switch)(nil)

// Ready returns the error last set, or nil.
func (s *Switch) Ready() error {
	if p := s.err.Load(); p != nil {
		return *p
	}
	return nil
}

// Set makes Ready return err (nil: ready).
func (s *Switch) Set(err error) {
	if err == nil {
		s.err.Store(nil)
		return
	}
	s.err.Store(&err)
}
