package token

import (
	"context"
	"testing"
	"time"

	"github.com/authok-edge/authok/shared/store/storetest"
)

// On a real cluster the edge serves from its own replica: what the control
// plane writes is seen by the edge's next request once the edge has
// applied it, and a client assertion used at the edge is recorded through
// the leader, so it cannot be replayed.
func TestEdgeOfACluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Raft cluster")
	}
	c := storetest.NewCluster(t, 1, 1, storetest.ClusterOptions{})
	leader, edge := c.Leader(), c.Edges()[0]
	e := newEnv(t, envOptions{listen: true, store: leader.Node, dirSrc: edge.Node})
	caughtUp := func() {
		t.Helper()
		// A minute: a few milliseconds idle, seconds on a starved machine.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := edge.Node.WaitApplied(ctx, leader.Node.AppliedIndex()); err != nil {
			t.Fatal(err)
		}
	}
	caughtUp()

	if r := e.form(postForm(), nil); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	gets, applies := e.src.gets.Load(), e.applier.applies.Load()
	if r := e.form(postForm(), nil); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if e.src.gets.Load() != gets || e.applier.applies.Load() != applies {
		t.Fatal("a warm request at the edge read or wrote the store")
	}

	if err := e.repo.DeleteClientGrant(context.Background(), tenantName, "cg_a"); err != nil {
		t.Fatal(err)
	}
	caughtUp()
	if r := e.form(postForm(), nil); r.status != 400 || r.str("error") != "access_denied" {
		t.Fatalf("after the grant was deleted on the leader: %d %s", r.status, r.raw)
	}

	a := e.assertion(assertionSpec{exp: time.Minute})
	if r := e.form(jwtForm(a), nil); r.status != 200 {
		t.Fatalf("assertion at the edge: %d %s", r.status, r.raw)
	}
	if r := e.form(jwtForm(a), nil); r.status != 401 || r.str("error") != "invalid_client" {
		t.Fatalf("replayed assertion at the edge: %d %s", r.status, r.raw)
	}
	// The jti is in the leader's store too: another edge would refuse it.
	if n := e.applier.applies.Load() - applies; n != 2 {
		t.Errorf("%d writes for two assertions (one recorded, one refused), want 2", n)
	}
}
