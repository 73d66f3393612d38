package mgmtapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/authok-edge/authok/control/internal/apierror"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/repo"
)

var grantListSpec = &listSpec{
	fields:   []string{"id", "client_id", "audience", "scope", "created_at", "updated_at"},
	sortable: []string{"id", "client_id", "audience", "created_at", "updated_at"},
	filters: map[string]filterSpec{
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
func parseGrant(o *object, create bool, currentID string) (*grantInput, error) {
	in := &grantInput{}
	o.readOnlyEqual("id", currentID)
	o.ignoreReadOnly("string", "created_at", "updated_at")
	if !o.stringChecked("client_id", &in.clientID, checkToken(maxClientIDLen)) && create && !o.has("client_id") {
		o.missing("client_id")
	}
	if !o.stringChecked("audience", &in.audience, checkToken(maxIdentifierLen)) && create && !o.has("audience") {
		o.missing("audience")
	}
	if o.Strings("scope", &in.scope, checkToken(maxScopeValueLen)) {
		in.hasScope = true
		if in.scope == nil {
			in.scope = []string{}
		}
		if d, dup := firstDuplicate(in.scope); dup {
			o.errs.add("Invalid value %s for field scope (duplicate entry)", strconv.Quote(d))
		}
	} else if create && !o.has("scope") {
		o.missing("scope")
	}
	o.finish()
	return in, o.errs.err()
}

// checkGrantScopes fails when scope names a scope rs does not define.
func checkGrantScopes(rs model.ResourceServer, scope []string) error {
	v := &validationError{}
	for i, s := range scope {
		if !rs.HasScope(s) {
			v.add("Invalid value %s (string) for field scope[%d] (the resource server %s does not define it)", strconv.Quote(s), i, strconv.Quote(rs.Identifier))
		}
	}
	return v.err()
}

// ---- handlers ----

func (a *API) listGrants(c *call) error {
	q, err := parseListQuery(c.r.URL.Query(), grantListSpec)
	if err != nil {
		return err
	}
	// Grants store the canonical Management API identifier.
	canonicalAudienceFilter(q, "audience", c.tenant.Internal.Issuer)
	return writeList(c, q, func(after string) ([]model.ClientGrant, string, error) {
		return a.cfg.Repo.ListClientGrants(c.ctx(), c.tenant.Name, after, 0)
	}, renderGrant)
}

func (a *API) getGrant(c *call) error {
	proj, err := parseProjection(c.r.URL.Query(), grantListSpec.fields)
	if err != nil {
		return err
	}
	id := c.r.PathValue("id")
	g, err := a.cfg.Repo.GetClientGrant(c.ctx(), c.tenant.Name, id)
	if err != nil {
		return repoError(err, whatGrant, id)
	}
	return writeOne(c.w, http.StatusOK, g, renderGrant, proj, g.Version)
}

func (a *API) createGrant(c *call) error {
	o, err := readObject(c.r, a.cfg.MaxBodyBytes)
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
		return apierror.New(http.StatusConflict, codeConflict,
			fmt.Sprintf("A client grant for client %q and audience %q already exists.", g.ClientID, g.Audience))
	case errors.Is(err, repo.ErrNotFound):
		// The client or the API was deleted since it was read.
		return notFound(codeInexistentClient, "The client or the resource server does not exist.")
	case err != nil:
		return repoError(err, whatGrant, g.ID)
	}
	return writeOne(c.w, http.StatusCreated, created, renderGrant, projection{}, created.Version)
}

func (a *API) updateGrant(c *call) error {
	id := c.r.PathValue("id")
	o, err := readObject(c.r, a.cfg.MaxBodyBytes)
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
	want := ifMatch(c.r)
	now := a.now()
	// New scopes are checked against the API version the update is
	// conditioned on (repo.GrantCheck).
	check := func(g model.ClientGrant, rs model.ResourceServer) error {
		if !in.hasScope {
			return nil
		}
		return checkGrantScopes(rs, g.Scope)
	}
	updated, err := a.cfg.Repo.UpdateClientGrantChecked(c.ctx(), c.tenant.Name, id, func(old model.ClientGrant) (model.ClientGrant, error) {
		if err := checkVersion(want, old.Version); err != nil {
			return old, err
		}
		if in.clientID != "" && in.clientID != old.ClientID {
			return old, invalidField("Invalid value %s (string) for field client_id (a grant's client_id is immutable)", strconv.Quote(in.clientID))
		}
		if in.audience != "" && canonicalAudience(c.tenant.Internal.Issuer, in.audience) != old.Audience {
			return old, invalidField("Invalid value %s (string) for field audience (a grant's audience is immutable)", strconv.Quote(in.audience))
		}
		ng := old
		if in.hasScope {
			ng.Scope = in.scope
		}
		ng.UpdatedAt = now
		return ng, nil
	}, check)
	if err != nil {
		return repoError(err, whatGrant, id)
	}
	return writeOne(c.w, http.StatusOK, updated, renderGrant, projection{}, updated.Version)
}

func (a *API) deleteGrant(c *call) error {
	id := c.r.PathValue("id")
	if err := a.cfg.Repo.DeleteClientGrant(c.ctx(), c.tenant.Name, id); err != nil {
		return repoError(err, whatGrant, id)
	}
	return noContent(c.w)
}
