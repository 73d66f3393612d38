package servetest

import (
	"net"
	"strconv"
	"testing"
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
