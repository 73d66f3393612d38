// Package servetest runs a server of either plane on a loopback listener for
// the length of a test, and collects a child server process's output.
// Tests only: it takes a testing.TB.
package servetest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
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

// FreeAddr returns a loopback address free at the time of the call, for a
// server that binds it itself later: a child process, or a node restarted
// on its own address. The port is drawn below the kernel's ephemeral range
// (outgoing connections and ":0" listeners take theirs from that range, so
// a port from it could be taken between this call and the bind); when the
// range starts too low to leave room, it falls back to a ":0" port.
func FreeAddr(t testing.TB) string {
	t.Helper()
	const lowest = 10000
	if first := ephemeralFirst(); first > lowest+1000 {
		for range 100 {
			if addr, ok := tryListen(fmt.Sprintf("127.0.0.1:%d", lowest+rand.IntN(first-lowest))); ok {
				return addr
			}
		}
	}
	addr, ok := tryListen("127.0.0.1:0")
	if !ok {
		t.Fatal("servetest: no free loopback port")
	}
	return addr
}

// tryListen binds addr and releases it at once.
func tryListen(addr string) (string, bool) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", false
	}
	defer ln.Close()
	return ln.Addr().String(), true
}

// ephemeralFirst is the first port of Linux's ephemeral range, or 0 when it
// cannot be read.
func ephemeralFirst() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	first, _ := strconv.Atoi(strings.Fields(string(b) + " 0")[0])
	return first
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

// Eventually polls cond every interval until it holds, and fails tb with
// what and cond's last state once timeout has passed. Tests wait on
// conditions, never on bare sleeps: milliseconds on an idle machine, tens
// of seconds on a starved one under -race.
func Eventually(tb testing.TB, what string, timeout, interval time.Duration, cond func() (ok bool, state string)) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("waiting for %s: %s", what, state)
			return
		}
		time.Sleep(interval)
	}
}
