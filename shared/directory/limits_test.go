package directory_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/authok-edge/authok/shared/directory"
	"github.com/authok-edge/authok/shared/model"
)

// A client_id or a host longer than any that can exist is refused before
// the caches or the store see it (an unauthenticated request chooses them:
// each would otherwise be cached as a miss with its whole key), and the
// longest that can exist are still found.
func TestOversizedKeysAreRefusedBeforeLookup(t *testing.T) {
	f := newFixture(t, directory.Config{})
	ctx := context.Background()
	// The longest of each that can exist: a client_id the Management API
	// accepts, and a 255-byte DNS name (63-byte labels) with a port.
	longestID := strings.Repeat("c", model.MaxClientIDLength)
	label := strings.Repeat("a", 63)
	longestHost := label + "." + label + "." + label + "." + label
	if len(longestHost) != directory.MaxHostLength {
		t.Fatalf("the longest host has %d bytes", len(longestHost))
	}
	if _, err := f.repo.CreateClient(ctx, "acme", model.Client{ClientID: longestID, Name: "long",
		TokenEndpointAuthMethod: model.AuthMethodClientSecretPost}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.repo.CreateTenant(ctx, model.Tenant{Name: "long", Internal: model.TenantInternal{Issuer: "https://" + longestHost + ":8443/"}}); err != nil {
		t.Fatal(err)
	}
	if c, err := f.dir.Client("acme", longestID); err != nil || c.ClientID != longestID {
		t.Fatalf("the longest client_id: %v", err)
	}
	for _, h := range []string{longestHost + ":8443", strings.ToUpper(longestHost) + ":8443"} {
		if tn, err := f.dir.TenantByHost(h); err != nil || tn.Name != "long" {
			t.Fatalf("TenantByHost(the longest host %q) = %q, %v", h, tn.Name, err)
		}
	}

	tooLongHost := "a" + longestHost
	for _, tc := range []struct {
		name   string
		lookup func() error
	}{
		{"client_id", func() error { return second(f.dir.Client("acme", longestID+"c")) }},
		{"60 KB client_id", func() error { return second(f.dir.Client("acme", strings.Repeat("c", 60<<10))) }},
		// Not the default tenant either: no tenant answers such a host.
		{"host", func() error { return second(f.dir.TenantByHost(tooLongHost)) }},
		{"host with a port", func() error { return second(f.dir.TenantByHostBytes([]byte(tooLongHost + ":443"))) }},
		{"host with a long port", func() error { return second(f.dir.TenantByHost(longestHost + ":1234567")) }},
		{"16 KB host", func() error { return second(f.dir.TenantByHost(strings.Repeat("h", 16<<10))) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gets, before := f.src.gets.Load(), f.dir.Stats()
			if err := tc.lookup(); !errors.Is(err, directory.ErrNotFound) {
				t.Fatalf("err = %v; want ErrNotFound", err)
			}
			if n := f.src.gets.Load() - gets; n != 0 {
				t.Errorf("%d store reads", n)
			}
			if after := f.dir.Stats(); after != before {
				t.Errorf("the caches were consulted: %+v, then %+v", before, after)
			}
		})
	}
}
