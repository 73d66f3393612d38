// Package servetest runs a server of either plane on a loopback listener for
// the length of a test. Tests only: it takes a testing.TB.
package servetest

import (
	"context"
	"net"
	"testing"
	"time"
)

// Server is what control/server and edge/server both are.
type Server interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
}

// Listen returns a listener on 127.0.0.1 with a free port.
func Listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// Serve serves srv on ln until the test ends, then shuts it down and checks
// that Serve returned nil. It returns the base URL ("http://host:port").
func Serve(t testing.TB, srv Server, ln net.Listener) string {
	t.Helper()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve returned %v after Shutdown, want nil", err)
		}
	})
	return "http://" + ln.Addr().String()
}
