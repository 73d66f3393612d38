package repo

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authok-edge/authok/shared/model"
)

func rsScopes(vs ...string) []model.ResourceServerScope {
	out := []model.ResourceServerScope{}
	for _, v := range vs {
		out = append(out, model.ResourceServerScope{Value: v})
	}
	return out
}

// definedScopes is the GrantCheck of the Management API: every scope of
// the grant is defined by its API.
func definedScopes(g model.ClientGrant, rs model.ResourceServer) error {
	for _, s := range g.Scope {
		if !rs.HasScope(s) {
			return fmt.Errorf("%w: scope %q is not defined by %q", ErrInvalid, s, rs.Identifier)
		}
	}
	return nil
}

// TestUpdateResourceServerPrunesGrants: an update that removes scopes
// removes them from the grants of its audience in the same transaction;
// other updates and other audiences' grants are left alone.
func TestUpdateResourceServerPrunesGrants(t *testing.T) {
	f := newFixture(t)
	mustTenant(t, f.r, "acme", "https://acme.example/")
	mustClient(t, f.r, "acme", "c1")
	mustClient(t, f.r, "acme", "c2")
	for _, rs := range []model.ResourceServer{
		{ID: "rsA", Identifier: "https://a.example/", Scopes: rsScopes("a", "b", "c")},
		{ID: "rsB", Identifier: "https://b.example/", Scopes: rsScopes("a", "b", "c")},
	} {
		if _, err := f.r.CreateResourceServer(ctx, "acme", rs); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range []model.ClientGrant{
		{ID: "cg_1a", ClientID: "c1", Audience: "https://a.example/", Scope: []string{"a", "b"}},
		{ID: "cg_2a", ClientID: "c2", Audience: "https://a.example/", Scope: []string{"c"}},
		{ID: "cg_1b", ClientID: "c1", Audience: "https://b.example/", Scope: []string{"a", "b"}},
	} {
		if _, err := f.r.CreateClientGrant(ctx, "acme", g); err != nil {
			t.Fatal(err)
		}
	}
	stamp := model.NewTime(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	steps := []struct {
		name      string
		change    func(*model.ResourceServer)
		want      map[string][]string
		rewritten []string // grants written by the update's transaction
	}{
		{"another field", func(rs *model.ResourceServer) { rs.TokenLifetime = 60 },
			map[string][]string{"cg_1a": {"a", "b"}, "cg_2a": {"c"}, "cg_1b": {"a", "b"}}, nil},
		{"a scope added", func(rs *model.ResourceServer) { rs.Scopes = rsScopes("a", "b", "c", "d") },
			map[string][]string{"cg_1a": {"a", "b"}, "cg_2a": {"c"}, "cg_1b": {"a", "b"}}, nil},
		{"b and c removed", func(rs *model.ResourceServer) { rs.Scopes = rsScopes("a", "d") },
			map[string][]string{"cg_1a": {"a"}, "cg_2a": {}, "cg_1b": {"a", "b"}}, []string{"cg_1a", "cg_2a"}},
		{"every scope removed", func(rs *model.ResourceServer) { rs.Scopes = nil },
			map[string][]string{"cg_1a": {}, "cg_2a": {}, "cg_1b": {"a", "b"}}, []string{"cg_1a"}},
	}
	for _, st := range steps {
		before := map[string]model.ClientGrant{}
		for id := range st.want {
			before[id], _ = f.r.GetClientGrant(ctx, "acme", id)
		}
		rs, err := f.r.UpdateResourceServer(ctx, "acme", "rsA", func(rs model.ResourceServer) (model.ResourceServer, error) {
			st.change(&rs)
			rs.UpdatedAt = stamp
			return rs, nil
		})
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		for id, want := range st.want {
			g, err := f.r.GetClientGrant(ctx, "acme", id)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(g.Scope, want) || g.Scope == nil {
				t.Errorf("%s: %s scope = %#v, want %#v", st.name, id, g.Scope, want)
			}
			switch {
			case slices.Contains(st.rewritten, id) && (g.Version != rs.Version || g.UpdatedAt != stamp):
				t.Errorf("%s: %s not rewritten by the update's transaction: version %d (update %d), updated_at %v", st.name, id, g.Version, rs.Version, g.UpdatedAt)
			case !slices.Contains(st.rewritten, id) && g.Version != before[id].Version:
				t.Errorf("%s: %s rewritten", st.name, id)
			}
		}
	}
}

// TestGrantWriteConditionedOnAPIVersion: a grant write validated against
// one version of its API does not commit once the API has changed; it is
// validated again against the new version.
func TestGrantWriteConditionedOnAPIVersion(t *testing.T) {
	f := newFixture(t)
	mustTenant(t, f.r, "acme", "https://acme.example/")
	mustClient(t, f.r, "acme", "c1")
	mustClient(t, f.r, "acme", "c2")
	if _, err := f.r.CreateResourceServer(ctx, "acme", model.ResourceServer{ID: "rs", Identifier: "https://api.example/", Scopes: rsScopes("a", "b")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.CreateClientGrant(ctx, "acme", model.ClientGrant{ID: "cg_2", ClientID: "c2", Audience: "https://api.example/", Scope: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	setScopes := func(vs ...string) {
		t.Helper()
		if _, err := f.r.UpdateResourceServer(ctx, "acme", "rs", func(rs model.ResourceServer) (model.ResourceServer, error) {
			rs.Scopes = rsScopes(vs...)
			return rs, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		write func(check GrantCheck) (model.ClientGrant, error)
		id    string
	}{
		{"create", func(check GrantCheck) (model.ClientGrant, error) {
			return f.r.CreateClientGrantChecked(ctx, "acme", model.ClientGrant{ID: "cg_1", ClientID: "c1", Audience: "https://api.example/", Scope: []string{"a", "b"}}, check)
		}, "cg_1"},
		{"update", func(check GrantCheck) (model.ClientGrant, error) {
			return f.r.UpdateClientGrantChecked(ctx, "acme", "cg_2", func(g model.ClientGrant) (model.ClientGrant, error) {
				g.Scope = []string{"a", "b"}
				return g, nil
			}, check)
		}, "cg_2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setScopes("a", "b")
			var seen []int
			_, err := tt.write(func(g model.ClientGrant, rs model.ResourceServer) error {
				seen = append(seen, len(rs.Scopes))
				if err := definedScopes(g, rs); err != nil {
					return err
				}
				if len(seen) == 1 {
					setScopes("a") // the API changes after the grant was validated
				}
				return nil
			})
			if !errors.Is(err, ErrInvalid) || !slices.Equal(seen, []int{2, 1}) {
				t.Fatalf("err = %v after checks against %v scopes, want the second check to fail", err, seen)
			}
			if g, err := f.r.GetClientGrant(ctx, "acme", tt.id); err == nil && g.Allows("b") {
				t.Fatalf("grant committed with a scope its API no longer defines: %v", g.Scope)
			}
		})
	}
}

// TestScopeRemovalRacingGrantWrites: grants written while an update removes
// scopes from their API never keep them.
func TestScopeRemovalRacingGrantWrites(t *testing.T) {
	f := newFixture(t)
	mustTenant(t, f.r, "acme", "https://acme.example/")
	const clients = 20
	for i := range clients {
		mustClient(t, f.r, "acme", fmt.Sprintf("c%02d", i))
	}
	for round := range 10 {
		id, aud := fmt.Sprintf("rs%d", round), fmt.Sprintf("https://api%d/", round)
		if _, err := f.r.CreateResourceServer(ctx, "acme", model.ResourceServer{ID: id, Identifier: aud, Scopes: rsScopes("a", "b")}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := range clients {
				_, err := f.r.CreateClientGrantChecked(ctx, "acme", model.ClientGrant{ID: fmt.Sprintf("cg_%d_%d", round, i), ClientID: fmt.Sprintf("c%02d", i), Audience: aud, Scope: []string{"a", "b"}}, definedScopes)
				if err != nil && !errors.Is(err, ErrInvalid) {
					t.Error(err)
				}
			}
		})
		wg.Go(func() {
			if _, err := f.r.UpdateResourceServer(ctx, "acme", id, func(rs model.ResourceServer) (model.ResourceServer, error) {
				rs.Scopes = rsScopes("a")
				return rs, nil
			}); err != nil {
				t.Error(err)
			}
		})
		wg.Wait()
		gs, _, err := f.r.ListClientGrants(ctx, "acme", "", MaxListLimit)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gs {
			if g.Audience == aud && g.Allows("b") {
				t.Fatalf("round %d: grant %s kept the removed scope: %v", round, g.ID, g.Scope)
			}
		}
	}
}
