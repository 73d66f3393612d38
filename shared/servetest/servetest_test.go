package servetest

import (
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"
)

func TestFreeAddrIsBindableAndOutsideTheEphemeralRange(t *testing.T) {
	first := ephemeralFirst()
	for range 20 {
		addr := FreeAddr(t)
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host != "127.0.0.1" {
			t.Fatalf("FreeAddr = %q (%v), want a 127.0.0.1 address", addr, err)
		}
		if p, _ := strconv.Atoi(port); first > 11000 && p >= first {
			t.Errorf("port %d is in the ephemeral range starting at %d", p, first)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("FreeAddr's %s does not bind: %v", addr, err)
		}
		ln.Close()
	}
}

// fatalRecorder is a testing.TB whose Fatalf records instead of stopping.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Fatalf(format string, args ...any) { r.msg = fmt.Sprintf(format, args...) }

func TestEventually(t *testing.T) {
	n := 0
	rec := &fatalRecorder{TB: t}
	Eventually(rec, "the third poll", time.Minute, time.Millisecond, func() (bool, string) {
		n++
		return n == 3, fmt.Sprintf("poll %d", n)
	})
	if n != 3 || rec.msg != "" {
		t.Errorf("a condition that holds on the third poll: %d polls, failure %q", n, rec.msg)
	}
	rec = &fatalRecorder{TB: t}
	Eventually(rec, "never", 0, time.Millisecond, func() (bool, string) { return false, "still false" })
	if rec.msg != "waiting for never: still false" {
		t.Errorf("a condition that never holds failed with %q", rec.msg)
	}
}
