package mgmtapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/authok-edge/authok/control/internal/rest"
	"net/http"
	"strconv"

	"github.com/authok-edge/authok/control/internal/apierror"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/repo"
)

var grantListSpec = &rest.ListSpec{
	Fields:   []string{"id", "client_id", "audience", "scope", "created_at", "updated_at"},
	Sortable: []string{"id", "client_id", "audience", "created_at", "updated_at"},
	Filters: map[string]rest.FilterSpec{
		"client_id": {},
		"audience":  {},
	},
}

func renderGrant(g model.ClientGrant) ([]byte, error) {
	b, err := json.Marshal(g)
	if err != nil {
		return nil, fmt.Errorf("mgmtapi: encode client grant: %w", err)
	}
	return b, nil
}

// grantInput is a parsed client grant body.
type grantInput struct {
	clientID, audience string
	scope              []string
	hasScope           bool
}

// parseGrant reads a POST or PATCH /client-grants body; currentID is the
// id of the grant being updated ("" on create).
func parseGrant(o *rest.Object, create bool, currentID string) (*grantInput, error) {
	in := &grantInput{}
	o.ReadOnlyEqual("id", currentID)
	o.IgnoreReadOnly("string", "created_at", "updated_at")
	if !o.StringChecked("client_id", &in.clientID, rest.CheckToken(maxClientIDLen)) && create && !o.Has("client_id") {
		o.Missing("client_id")
	}
	if !o.StringChecked("audience", &in.audience, rest.CheckToken(maxIdentifierLen)) && create && !o.Has("audience") {
		o.Missing("audience")
	}
	if o.Strings("scope", &in.scope, rest.CheckToken(maxScopeValueLen)) {
		in.hasScope = true
		if in.scope == nil {
			in.scope = []string{}
		}
		if d, dup := rest.FirstDuplicate(in.scope); dup {
			o.Errs().Add("Invalid value %s for field scope (duplicate entry)", strconv.Quote(d))
		}
	} else if create && !o.Has("scope") {
		o.Missing("scope")
	}
	o.Finish()
	return in, o.Errs().Err()
}

// checkGrantScopes fails when scope names a scope rs does not define.
func checkGrantScopes(rs model.ResourceServer, scope []string) error {
	v := &rest.Problems{}
	for i, s := range scope {
		if !rs.HasScope(s) {
			v.Add("Invalid value %s (string) for field scope[%d] (the resource server %s does not define it)", strconv.Quote(s), i, strconv.Quote(rs.Identifier))
		}
	}
	return v.Err()
}

// ---- handlers ----

// clientGrants is the client grant resource.
var clientGrants = rest.Resource[model.ClientGrant]{
	Spec: grantListSpec, Render: renderGrant,
	Version: func(g model.ClientGrant) uint64 { return g.Version },
}

func (a *API) listGrants(c *call) error {
	// Grants store the canonical Management API identifier.
	return clientGrants.List(c.w, c.r, func(after string) ([]model.ClientGrant, string, error) {
		return a.cfg.Repo.ListClientGrants(c.ctx(), c.tenant.Name, after, 0)
	}, canonicalAudienceFilter("audience", c.tenant.Internal.Issuer))
}

func (a *API) getGrant(c *call) error {
	id := c.r.PathValue("id")
	return clientGrants.Get(c.w, c.r, func() (model.ClientGrant, error) {
		g, err := a.cfg.Repo.GetClientGrant(c.ctx(), c.tenant.Name, id)
		return g, repoError(err, whatGrant, id)
	})
}

func (a *API) createGrant(c *call) error {
	o, err := rest.ReadObject(c.r, a.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	in, err := parseGrant(o, true, "")
	if err != nil {
		return err
	}
	if _, err := a.cfg.Repo.GetClient(c.ctx(), c.tenant.Name, in.clientID); err != nil {
		return repoError(err, whatClient, in.clientID)
	}
	audience := canonicalAudience(c.tenant.Internal.Issuer, in.audience)
	if _, err := a.cfg.Repo.GetResourceServerByIdentifier(c.ctx(), c.tenant.Name, audience); err != nil {
		return repoError(err, whatRS, audience)
	}
	g := model.ClientGrant{ClientID: in.clientID, Audience: audience, Scope: in.scope}
	if g.ID, err = model.NewClientGrantID(a.cfg.Rand); err != nil {
		return err
	}
	now := a.now()
	g.CreatedAt, g.UpdatedAt = now, now
	// The scopes are checked against the API version the create is
	// conditioned on (repo.GrantCheck).
	created, err := a.cfg.Repo.CreateClientGrantChecked(c.ctx(), c.tenant.Name, g, func(g model.ClientGrant, rs model.ResourceServer) error {
		return checkGrantScopes(rs, g.Scope)
	})
	switch {
	case errors.Is(err, repo.ErrDuplicate):
		return apierror.New(http.StatusConflict, rest.CodeConflict,
			fmt.Sprintf("A client grant for client %q and audience %q already exists.", g.ClientID, g.Audience))
	case errors.Is(err, repo.ErrNotFound):
		// The client or the API was deleted since it was read.
		return rest.NotFound(codeInexistentClient, "The client or the resource server does not exist.")
	case err != nil:
		return repoError(err, whatGrant, g.ID)
	}
	return clientGrants.Created(c.w, created)
}

func (a *API) updateGrant(c *call) error {
	id := c.r.PathValue("id")
	o, err := rest.ReadObject(c.r, a.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	cur, err := a.cfg.Repo.GetClientGrant(c.ctx(), c.tenant.Name, id)
	if err != nil {
		return repoError(err, whatGrant, id)
	}
	in, err := parseGrant(o, false, cur.ID)
	if err != nil {
		return err
	}
	now := a.now()
	// New scopes are checked against the API version the update is
	// conditioned on (repo.GrantCheck).
	check := func(g model.ClientGrant, rs model.ResourceServer) error {
		if !in.hasScope {
			return nil
		}
		return checkGrantScopes(rs, g.Scope)
	}
	cas := func(fn func(model.ClientGrant) (model.ClientGrant, error)) (model.ClientGrant, error) {
		return a.cfg.Repo.UpdateClientGrantChecked(c.ctx(), c.tenant.Name, id, fn, check)
	}
	updated, err := clientGrants.Update(c.r, cas, func(old model.ClientGrant) (model.ClientGrant, error) {
		if in.clientID != "" && in.clientID != old.ClientID {
			return old, rest.InvalidField("Invalid value %s (string) for field client_id (a grant's client_id is immutable)", strconv.Quote(in.clientID))
		}
		if in.audience != "" && canonicalAudience(c.tenant.Internal.Issuer, in.audience) != old.Audience {
			return old, rest.InvalidField("Invalid value %s (string) for field audience (a grant's audience is immutable)", strconv.Quote(in.audience))
		}
		ng := old
		if in.hasScope {
			ng.Scope = in.scope
		}
		ng.UpdatedAt = now
		return ng, nil
	})
	if err != nil {
		return repoError(err, whatGrant, id)
	}
	return clientGrants.OK(c.w, updated)
}

func (a *API) deleteGrant(c *call) error {
	id := c.r.PathValue("id")
	return rest.Delete(c.w, func() error {
		return repoError(a.cfg.Repo.DeleteClientGrant(c.ctx(), c.tenant.Name, id), whatGrant, id)
	})
}
