// Package servetest runs a server of either plane on a loopback listener for
// the length of a test. Tests only: it takes a testing.TB.
package servetest

import (
	"context"
	"io"
	"net"
	"net/http"
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

// Response is a whole HTTP response, its body read.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends req with client (http.DefaultClient when nil), reads the whole
// answer and closes it; a transport error fails the test.
func Do(t testing.TB, client *http.Client, req *http.Request) Response {
	t.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}
