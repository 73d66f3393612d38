package health_test

import (
	"errors"
	"testing"

	"github.com/authok-edge/authok/shared/health"
)

func TestFunc(t *testing.T) {
	errBehind := errors.New("apply index 10 behind commit index 500")
	tests := []struct {
		name string
		fn   func() error
		want error
	}{
		{name: "ready", fn: func() error { return nil }, want: nil},
		{name: "not ready", fn: func() error { return errBehind }, want: errBehind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c health.Checker = health.Func(tt.fn)
			if got := c.Ready(); !errors.Is(got, tt.want) {
				t.Fatalf("Ready() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestProbe(t *testing.T) {
	tests := []struct {
		name       string
		checker    health.Checker
		wantStatus int
		wantBody   string
	}{
		{name: "nil checker is ready", checker: nil, wantStatus: 200, wantBody: `{"status":"ok"}`},
		{name: "ready", checker: health.Func(func() error { return nil }), wantStatus: 200, wantBody: `{"status":"ok"}`},
		{
			name:       "not ready, reason escaped",
			checker:    health.Func(func() error { return errors.New(`no leader "yet"`) }),
			wantStatus: 503,
			wantBody:   `{"status":"unavailable","reason":"no leader \"yet\""}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := health.Probe(tt.checker)
			if status != tt.wantStatus || string(body) != tt.wantBody {
				t.Fatalf("Probe = %d %s, want %d %s", status, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestProbeReadyDoesNotAllocate(t *testing.T) {
	c := health.Func(func() error { return nil })
	if n := testing.AllocsPerRun(100, func() { health.Probe(c) }); n != 0 {
		t.Fatalf("Probe allocates %v times when ready, want 0", n)
	}
}
