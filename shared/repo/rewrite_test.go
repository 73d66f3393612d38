package repo

import (
	"errors"
	"testing"
)

// addRewrite writes a loaded record back in place of the version it was
// loaded at: a valid change commits, an invalid one adds nothing to the
// batch, and one over a version changed since commits nothing (errStale).
func TestAddRewrite(t *testing.T) {
	f := newFixture(t)
	mustTenant(t, f.r, "acme", "https://acme.example/")
	mustRS(t, f.r, "acme", "rs1", "https://api.example/")

	rs, first, err := load(f.r, resourceServerKind, "acme", "rs1")
	if err != nil {
		t.Fatal(err)
	}
	b := f.r.NewBatch()
	rs.Name = "renamed"
	if _, err := addRewrite(b, resourceServerKind, "acme", rs, first); err != nil {
		t.Fatalf("addRewrite: %v", err)
	}
	if _, err := f.r.Commit(ctx, b); err != nil {
		t.Fatalf("commit of a rewrite at the current version: %v", err)
	}
	if got, err := f.r.GetResourceServer(ctx, "acme", "rs1"); err != nil || got.Name != "renamed" {
		t.Fatalf("after the rewrite: %+v, %v; want name renamed", got, err)
	}

	b = f.r.NewBatch()
	bad := rs
	bad.Identifier = ""
	if _, err := addRewrite(b, resourceServerKind, "acme", bad, first); !errors.Is(err, ErrInvalid) {
		t.Fatalf("addRewrite of an invalid record: %v, want ErrInvalid", err)
	}
	if b.Len() != 0 {
		t.Fatalf("an invalid rewrite added %d writes", b.Len())
	}

	b = f.r.NewBatch()
	rs.Name = "stale"
	if _, err := addRewrite(b, resourceServerKind, "acme", rs, first); err != nil {
		t.Fatalf("addRewrite: %v", err)
	}
	if _, err := f.r.Commit(ctx, b); !errors.Is(err, errStale) {
		t.Fatalf("commit over a version changed since: %v, want errStale", err)
	}
	if got, _ := f.r.GetResourceServer(ctx, "acme", "rs1"); got.Name != "renamed" {
		t.Fatalf("a stale rewrite was stored: name %q", got.Name)
	}
}
