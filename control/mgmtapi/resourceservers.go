package mgmtapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/authok-edge/authok/control/internal/rest"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/authok-edge/authok/control/internal/apierror"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/repo"
)

// Limits of resource server fields (API.md C.3).
const (
	maxRSNameLen          = 200
	maxIdentifierLen      = 600 // the repository's id limit
	maxScopeValueLen      = 280
	maxScopeDescLen       = 500
	maxRSScopes           = 1000
	maxRSOptions          = 10
	maxRSTokenLifetime    = 2592000 // 30 days
	defaultRSTokenLife    = model.DefaultTokenLifetime
	defaultRSTokenLifeWeb = model.DefaultTokenLifetimeForWeb
)

var tokenDialects = []string{model.TokenDialectAccessToken, model.TokenDialectAccessTokenAuthz}

// systemRSMutable are the only fields of the system API (is_system) a
// PATCH may change: its identifier, scope catalogue and signing belong to
// the server.
var systemRSMutable = []string{
	"token_lifetime", "token_lifetime_for_web", "allow_offline_access",
	"skip_consent_for_verifiable_first_party_clients",
}

var rsListSpec = &rest.ListSpec{
	Fields: []string{
		"id", "name", "identifier", "is_system", "scopes", "signing_alg", "signing_secret",
		"allow_offline_access", "skip_consent_for_verifiable_first_party_clients", "token_lifetime",
		"token_lifetime_for_web", "enforce_policies", "token_dialect", "verificationLocation",
		"options", "client", "created_at", "updated_at",
	},
	Sortable: []string{"id", "name", "identifier", "is_system", "signing_alg", "token_lifetime", "enforce_policies", "created_at", "updated_at"},
	Filters: map[string]rest.FilterSpec{
		"id":               {},
		"identifier":       {},
		"is_system":        {Boolean: true},
		"enforce_policies": {Boolean: true},
	},
}

func renderRS(rs model.ResourceServer) ([]byte, error) {
	rs.SigningSecret = "" // HS256 is not supported; nothing to return
	b, err := json.Marshal(rs)
	if err != nil {
		return nil, fmt.Errorf("mgmtapi: encode resource server: %w", err)
	}
	return b, nil
}

// rsInput is a parsed resource server body.
type rsInput struct {
	rest.Changes[model.ResourceServer]
	identifier string
	isSystem   *bool
}

// parseRS reads a POST or PATCH /resource-servers body; currentID is the
// id of the resource server being updated ("" on create).
func parseRS(o *rest.Object, create bool, currentID string) (*rsInput, error) {
	in := &rsInput{}
	o.ReadOnlyEqual("id", currentID)
	o.IgnoreReadOnly("string", "created_at", "updated_at")
	o.IgnoreReadOnly("object", "client")
	if raw, ok := o.Take("signing_secret"); ok {
		o.Fail("signing_secret", raw, "HS256 is not supported yet, so resource servers have no signing secret")
	}
	if o.StringChecked("identifier", &in.identifier, rest.CheckToken(maxIdentifierLen)) {
		in.Mark("identifier")
	} else if create && !o.Has("identifier") {
		o.Missing("identifier")
	}
	var b bool
	if o.Bool("is_system", &b) {
		in.isSystem = &b
	}
	var name string
	if o.StringChecked("name", &name, checkRSName) {
		in.Set("name", func(rs *model.ResourceServer) { rs.Name = name })
	}
	var loc string
	if o.StringChecked("verificationLocation", &loc, rest.OptionalWebURL(true)) {
		in.Set("verificationLocation", func(rs *model.ResourceServer) { rs.VerificationLocation = loc })
	}
	if alg, ok := readAlg(o, "signing_alg"); ok {
		in.Set("signing_alg", func(rs *model.ResourceServer) { rs.SigningAlg = alg })
	}
	var dialect string
	if o.Enum("token_dialect", &dialect, tokenDialects...) {
		in.Set("token_dialect", func(rs *model.ResourceServer) { rs.TokenDialect = dialect })
	}
	var life, web int
	if o.Int("token_lifetime", &life, 1, maxRSTokenLifetime) {
		in.Set("token_lifetime", func(rs *model.ResourceServer) { rs.TokenLifetime = life })
	}
	if o.Int("token_lifetime_for_web", &web, 1, maxRSTokenLifetime) {
		in.Set("token_lifetime_for_web", func(rs *model.ResourceServer) { rs.TokenLifetimeForWeb = web })
	}
	boolean := func(name string, set func(*model.ResourceServer, bool)) {
		var v bool
		if o.Bool(name, &v) {
			in.Set(name, func(rs *model.ResourceServer) { set(rs, v) })
		}
	}
	boolean("allow_offline_access", func(rs *model.ResourceServer, v bool) { rs.AllowOfflineAccess = v })
	boolean("skip_consent_for_verifiable_first_party_clients", func(rs *model.ResourceServer, v bool) {
		rs.SkipConsentForVerifiableFirstPartyClients = v
	})
	boolean("enforce_policies", func(rs *model.ResourceServer, v bool) { rs.EnforcePolicies = v })
	var opts map[string]string
	if o.StringMap("options", &opts) {
		if len(opts) > maxRSOptions {
			o.Errs().Add("Invalid value for field options (at most %d keys)", maxRSOptions)
		} else {
			in.Set("options", func(rs *model.ResourceServer) { rs.Options = opts })
		}
	}
	if scopes, ok := parseScopes(o); ok {
		in.Set("scopes", func(rs *model.ResourceServer) { rs.Scopes = scopes })
	}
	o.Finish()
	return in, o.Errs().Err()
}

// defaultRSName is the name of a resource server created without one: its
// identifier without the characters a name may not hold (< and >), cut to
// maxRSNameLen characters on a rune boundary, so the object as read can be
// sent back (checkRSName accepts it). An identifier of nothing but those
// characters leaves "API".
func defaultRSName(identifier string) string {
	name := strings.NewReplacer("<", "", ">", "").Replace(identifier)
	if r := []rune(name); len(r) > maxRSNameLen {
		name = string(r[:maxRSNameLen])
	}
	if name == "" {
		return "API"
	}
	return name
}

func checkRSName(s string) (string, string) {
	if s == "" || len([]rune(s)) > maxRSNameLen || strings.ContainsAny(s, "<>") || strings.ContainsFunc(s, isControl) {
		return "", fmt.Sprintf("1 to %d characters, without < or >", maxRSNameLen)
	}
	return s, ""
}

// parseScopes reads scopes: [{value, description}], values without spaces
// and unique.
func parseScopes(o *rest.Object) ([]model.ResourceServerScope, bool) {
	list, ok := o.Objects("scopes")
	if !ok {
		return nil, false
	}
	if len(list) > maxRSScopes {
		o.Errs().Add("Invalid value for field scopes (at most %d scopes)", maxRSScopes)
		return nil, false
	}
	out := make([]model.ResourceServerScope, 0, len(list))
	seen := map[string]bool{}
	for _, so := range list {
		var s model.ResourceServerScope
		if so.StringChecked("value", &s.Value, rest.CheckToken(maxScopeValueLen)) {
			if seen[s.Value] {
				so.Errs().Add("Invalid value %s for field %s (duplicate scope)", strconv.Quote(s.Value), so.Field("value"))
			}
			seen[s.Value] = true
		} else if !so.Has("value") {
			so.Missing("value")
		}
		so.StringChecked("description", &s.Description, rest.CheckText(maxScopeDescLen))
		so.Finish()
		out = append(out, s)
	}
	return out, o.Errs().Empty()
}

// checkSystemRSChange refuses a change of the system API outside
// systemRSMutable; members sent with their current value are fine.
func checkSystemRSChange(old, nrs model.ResourceServer) error {
	before, err1 := json.Marshal(old)
	after, err2 := json.Marshal(nrs)
	var b, a map[string]json.RawMessage
	if err := errors.Join(err1, err2, json.Unmarshal(before, &b), json.Unmarshal(after, &a)); err != nil {
		return fmt.Errorf("mgmtapi: compare system API: %w", err)
	}
	var changed []string
	for k := range a {
		if !rest.SameJSON(a[k], b[k]) && !slices.Contains(systemRSMutable, k) {
			changed = append(changed, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok && !slices.Contains(systemRSMutable, k) {
			changed = append(changed, k)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	slices.Sort(changed)
	return apierror.New(http.StatusBadRequest, codeOperationNotAllowed,
		fmt.Sprintf("The system API's %s cannot be changed (allowed: %s).", strings.Join(changed, ", "), strings.Join(systemRSMutable, ", ")))
}

// checkRS enforces cross-field rules on the resource server as stored.
func checkRS(rs model.ResourceServer) error {
	if rs.TokenLifetimeForWeb > rs.TokenLifetime {
		return rest.InvalidField("Invalid value %d (number) for field token_lifetime_for_web (must not exceed token_lifetime %d)", rs.TokenLifetimeForWeb, rs.TokenLifetime)
	}
	return nil
}

// findRS returns a resource server by id or by identifier (the path
// segment may be a URL-encoded identifier; API.md C.3). Any spelling of
// the Management API identifier finds the system API.
func (a *API) findRS(ctx context.Context, t model.Tenant, idOrIdentifier string) (model.ResourceServer, error) {
	rs, err := a.cfg.Repo.GetResourceServer(ctx, t.Name, idOrIdentifier)
	if errors.Is(err, repo.ErrNotFound) {
		rs, err = a.cfg.Repo.GetResourceServerByIdentifier(ctx, t.Name, canonicalAudience(t.Internal.Issuer, idOrIdentifier))
	}
	if err != nil {
		return rs, repoError(err, whatRS, idOrIdentifier)
	}
	return rs, nil
}

// ---- handlers ----

// resourceServers is the resource server resource.
var resourceServers = rest.Resource[model.ResourceServer]{
	Spec: rsListSpec, Render: renderRS,
	Version: func(rs model.ResourceServer) uint64 { return rs.Version },
}

func (a *API) listRS(c *call) error {
	return resourceServers.List(c.w, c.r, func(after string) ([]model.ResourceServer, string, error) {
		return a.cfg.Repo.ListResourceServers(c.ctx(), c.tenant.Name, after, 0)
	}, canonicalAudienceFilter("identifier", c.tenant.Internal.Issuer))
}

func (a *API) getRS(c *call) error {
	return resourceServers.Get(c.w, c.r, func() (model.ResourceServer, error) {
		return a.findRS(c.ctx(), c.tenant, c.r.PathValue("id"))
	})
}

func (a *API) createRS(c *call) error {
	o, err := rest.ReadObject(c.r, a.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	in, err := parseRS(o, true, "")
	if err != nil {
		return err
	}
	if in.isSystem != nil && *in.isSystem {
		return rest.InvalidField("Invalid value true (boolean) for field is_system (only the server creates system APIs)")
	}
	if canonicalAudience(c.tenant.Internal.Issuer, in.identifier) != in.identifier {
		return apierror.New(http.StatusConflict, rest.CodeConflict, "The identifier is a spelling of the Management API's; the resource server already exists.")
	}
	rs := model.ResourceServer{
		Identifier:   in.identifier,
		Name:         defaultRSName(in.identifier),
		SigningAlg:   model.SigningAlgRS256,
		TokenDialect: model.TokenDialectAccessToken,
		Scopes:       []model.ResourceServerScope{},
	}
	in.Apply(&rs)
	if rs.TokenLifetime == 0 {
		rs.TokenLifetime = defaultRSTokenLife
	}
	if rs.TokenLifetimeForWeb == 0 {
		rs.TokenLifetimeForWeb = min(defaultRSTokenLifeWeb, rs.TokenLifetime)
	}
	if err := checkRS(rs); err != nil {
		return err
	}
	if rs.ID, err = model.NewResourceServerID(a.cfg.Rand); err != nil {
		return err
	}
	now := a.now()
	rs.CreatedAt, rs.UpdatedAt = now, now
	created, err := a.cfg.Repo.CreateResourceServer(c.ctx(), c.tenant.Name, rs)
	if errors.Is(err, repo.ErrDuplicate) {
		return apierror.New(http.StatusConflict, rest.CodeConflict, fmt.Sprintf("A resource server with identifier %q already exists.", rs.Identifier))
	}
	if err != nil {
		return repoError(err, whatRS, rs.ID)
	}
	return resourceServers.Created(c.w, created)
}

func (a *API) updateRS(c *call) error {
	o, err := rest.ReadObject(c.r, a.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	cur, err := a.findRS(c.ctx(), c.tenant, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	in, err := parseRS(o, false, cur.ID)
	if err != nil {
		return err
	}
	now := a.now()
	cas := func(fn func(model.ResourceServer) (model.ResourceServer, error)) (model.ResourceServer, error) {
		return a.cfg.Repo.UpdateResourceServer(c.ctx(), c.tenant.Name, cur.ID, fn)
	}
	updated, err := resourceServers.Update(c.r, cas, func(old model.ResourceServer) (model.ResourceServer, error) {
		if in.Has("identifier") && in.identifier != old.Identifier {
			return old, rest.InvalidField("Invalid value %s (string) for field identifier (identifier is immutable)", strconv.Quote(in.identifier))
		}
		if in.isSystem != nil && *in.isSystem != old.IsSystem {
			return old, rest.InvalidField("Invalid value %t (boolean) for field is_system (is_system is immutable)", *in.isSystem)
		}
		nrs := old
		in.Apply(&nrs)
		if in.Has("token_lifetime") && !in.Has("token_lifetime_for_web") {
			nrs.TokenLifetimeForWeb = min(nrs.TokenLifetimeForWeb, nrs.TokenLifetime)
		}
		if old.IsSystem {
			if err := checkSystemRSChange(old, nrs); err != nil {
				return old, err
			}
		}
		if err := checkRS(nrs); err != nil {
			return old, err
		}
		nrs.UpdatedAt = now
		return nrs, nil
	})
	if err != nil {
		return repoError(err, whatRS, cur.ID)
	}
	return resourceServers.OK(c.w, updated)
}

func (a *API) deleteRS(c *call) error {
	rs, err := a.findRS(c.ctx(), c.tenant, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	if rs.IsSystem {
		return apierror.New(http.StatusBadRequest, codeOperationNotAllowed, "The system API cannot be deleted.")
	}
	return rest.Delete(c.w, func() error {
		return repoError(a.cfg.Repo.DeleteResourceServer(c.ctx(), c.tenant.Name, rs.ID), whatRS, rs.ID)
	})
}
