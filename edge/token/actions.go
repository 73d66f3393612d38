package token

import (
	"context"
	"encoding/json"
	"iter"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/authok-edge/authok/shared/oauth2"
)

// TriggerCredentialsExchange is the trigger of the client_credentials
// grant (API.md D.1; Authok calls it m2m).
const TriggerCredentialsExchange = "credentials-exchange"

// Actions runs the tenant's Actions bound to the token endpoint's triggers
// (API.md D). actions-runtime implements it; the dispatcher calls it
// between the grant's decision and signing. Config.Actions nil means no
// action is bound anywhere, and the phase is skipped.
type Actions interface {
	// CredentialsExchange runs the actions bound to the tenant's
	// credentials-exchange trigger, in binding order, on ev, and returns
	// their commands in the order they were emitted (D.3). A tenant with
	// no binding returns nil, nil, and should do so without allocating:
	// every client_credentials request calls it.
	//
	// An error means an action failed (a trap, a timeout, output that does
	// not decode): the request fails with a server_error whose
	// description names nothing, and the error's text becomes the
	// tenant's exchange_failed log event, so it must hold no secret
	// either. ctx carries no deadline: the runtime applies its own. ev
	// and its byte slices are valid only during the call.
	CredentialsExchange(ctx context.Context, ev *ExchangeEvent) ([]Command, error)
}

// ExchangeEvent is what credentials-exchange actions see of a request
// (API.md D.2, the m2m row): the client, the API, the request and the
// access token the grant decided. It holds no secret: the client's
// secret and assertion are not in it. The runtime adds the action's own
// secrets.
type ExchangeEvent struct {
	// Tenant is the tenant's name (event.tenant.id).
	Tenant string
	// Client is event.client.
	Client ExchangeClient
	// ResourceServer is the API's identifier
	// (event.resource_server.identifier).
	ResourceServer string
	// RequestedScope is the scope parameter as sent
	// (event.transaction.requested_scopes), nil when none was.
	RequestedScope []byte
	// Scope is the access token's scope as the grant decided it
	// (event.accessToken.scope), space-separated.
	Scope string
	// CustomClaims are the access token's custom claims so far
	// (event.accessToken.customClaims); nil when there are none. Read
	// only.
	CustomClaims map[string]any
	// Request is event.request.
	Request ExchangeRequest
}

// ExchangeClient is the client of a credentials exchange.
type ExchangeClient struct {
	ID       string            // client_id
	Name     string            // name
	Metadata map[string]string // client_metadata; read only
}

// ExchangeRequest is the token request as actions see it.
type ExchangeRequest struct {
	IP        netip.Addr // as the log event names it (authok-forwarded-for for a trusted client)
	Method    []byte
	Hostname  []byte
	UserAgent []byte
	Language  []byte // Accept-Language
	params    *paramParser
}

// Params yields the request's parameters (event.request.body: the body,
// then the query string fallback) without the client credentials:
// client_secret and client_assertion never reach an action.
func (q *ExchangeRequest) Params() iter.Seq2[[]byte, []byte] {
	return func(yield func(k, v []byte) bool) {
		if q.params == nil {
			return
		}
		for k, v := range q.params.args.All() {
			if len(v) == 0 || string(k) == "client_secret" || string(k) == "client_assertion" {
				continue
			}
			if !yield(k, v) {
				return
			}
		}
	}
}

// CommandType names a command an action emits (API.md D.3).
type CommandType string

// The commands of credentials-exchange.
const (
	// CommandSetCustomClaim: api.accessToken.setCustomClaim(Name, Value).
	CommandSetCustomClaim CommandType = "SetCustomClaim"
	// CommandAccessDenied: api.access.deny(Reason).
	CommandAccessDenied CommandType = "AccessDenied"
	// CommandAddScope: api.accessToken.addScope(Name).
	CommandAddScope CommandType = "AddScope"
	// CommandRemoveScope: api.accessToken.removeScope(Name).
	CommandRemoveScope CommandType = "RemoveScope"
)

// Command is one command of an action's result. The dispatcher applies
// them in order and validates each (see applyCommand).
type Command struct {
	Type CommandType
	// Action names the action that emitted the command, for the log event
	// when it is refused.
	Action string
	// Name is the claim of SetCustomClaim, the scope-token of AddScope and
	// RemoveScope.
	Name string
	// Value is SetCustomClaim's value: anything encoding/json encodes (a
	// json.RawMessage is used as is, once validated).
	Value any
	// Reason is AccessDenied's reason: the response's error_description.
	Reason string
}

// Limits on what actions put in a token.
const (
	// MaxCustomClaimsBytes bounds the custom claims of one token, names
	// and encoded values together (Auth0's limit: 100 KB).
	MaxCustomClaimsBytes = 100 << 10
	// MaxClaimNameBytes bounds a custom claim's name.
	MaxClaimNameBytes = 256
	// MaxDenyReasonBytes bounds the error_description of a denial; a
	// longer reason is cut.
	MaxDenyReasonBytes = 512
)

// errActionFailed is every action failure and refused command as the
// client sees it; the log event says what happened.
var errActionFailed = oauth2.ErrServerError.With("a " + TriggerCredentialsExchange + " action failed")

// runActions runs the actions of the grant's trigger on d and applies
// their commands. Without Config.Actions it costs one comparison.
func (h *Handler) runActions(r *request, g *grantType, d *decision) *oauth2.Error {
	if h.cfg.Actions == nil || g.trigger != TriggerCredentialsExchange {
		return nil
	}
	ctx := r.ctx
	ev := &r.exchange
	*ev = ExchangeEvent{
		Tenant:         r.tenant.Name,
		Client:         ExchangeClient{ID: r.client.ClientID, Name: r.client.Name, Metadata: r.client.ClientMetadata},
		ResourceServer: d.audience,
		RequestedScope: r.params.get("scope"),
		Scope:          d.scope,
		CustomClaims:   d.claims,
		Request: ExchangeRequest{
			IP:        clientIP(ctx, r.client),
			Method:    ctx.Method(),
			Hostname:  ctx.Host(),
			UserAgent: ctx.UserAgent(),
			Language:  ctx.Request.Header.Peek("Accept-Language"),
			params:    &r.params,
		},
	}
	cmds, err := h.cfg.Actions.CredentialsExchange(context.Background(), ev)
	if err != nil {
		return errActionFailed.WithDebug(TriggerCredentialsExchange + " action failed: " + err.Error())
	}
	for i := range cmds {
		if oerr := d.apply(&cmds[i]); oerr != nil {
			return oerr
		}
	}
	return nil
}

// apply applies one command to d. A command that would override a
// registered claim, use a reserved namespace, exceed a limit, or that
// names no known command, fails the request: the action's output is
// refused, not half applied.
func (d *decision) apply(c *Command) *oauth2.Error {
	switch c.Type {
	case CommandSetCustomClaim:
		if why := claimNameProblem(c.Name); why != "" {
			return refused(c, "custom claim "+quote(c.Name)+": "+why)
		}
		v, err := json.Marshal(c.Value)
		if err != nil {
			return refused(c, "custom claim "+quote(c.Name)+": the value is not JSON: "+err.Error())
		}
		if d.claims == nil {
			d.claims = map[string]any{}
		}
		// A running total: recounting the map per command would make many
		// tiny claims quadratic.
		if old, ok := d.claims[c.Name].(json.RawMessage); ok {
			d.claimsBytes -= len(c.Name) + len(old)
		}
		d.claims[c.Name] = json.RawMessage(v)
		d.claimsBytes += len(c.Name) + len(v)
		if d.claimsBytes > MaxCustomClaimsBytes {
			return refused(c, "custom claims of "+strconv.Itoa(d.claimsBytes)+" bytes exceed "+strconv.Itoa(MaxCustomClaimsBytes))
		}
	case CommandAccessDenied:
		reason := denyReason(c.Reason)
		return oauth2.ErrAccessDenied.With(reason).
			WithDebug(TriggerCredentialsExchange + " action " + quote(c.Action) + " denied access: " + reason)
	case CommandAddScope, CommandRemoveScope:
		if !oauth2.ValidScopeToken(c.Name) {
			return refused(c, string(c.Type)+" "+quote(c.Name)+": not an RFC 6749 §3.3 scope-token")
		}
		if c.Type == CommandAddScope {
			d.scope = oauth2.AddScope(d.scope, c.Name)
		} else {
			d.scope = oauth2.RemoveScope(d.scope, c.Name)
		}
	default:
		return refused(c, "unknown command "+quote(string(c.Type)))
	}
	return nil
}

func refused(c *Command, why string) *oauth2.Error {
	return errActionFailed.WithDebug(TriggerCredentialsExchange + " action " + quote(c.Action) + " refused: " + why)
}

// registeredClaims are the claims no action may set: those the token
// endpoint writes (API.md E.1), the JWT, OIDC and RFC 9068 claims, and
// the ones Auth0 restricts (its list of restricted claims), so a token
// never says something about itself its issuer did not decide.
var registeredClaims = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range strings.Fields(`iss sub aud exp nbf iat jti scope azp client_id gty
		acr act active amr at_hash ath attest auth_time authorization_details c_hash cnf cty
		dest entitlements events groups htm htu internalService jcard jku jwe jwk kid may_act
		mky nonce object_id org_id org_name orig origid permissions roles rph s_hash sid
		sip_callid sip_cseq_num sip_date sip_from_tag sip_via_branch sub_jwk toe txn typ uuid
		vot vtm x5t#S256`) {
		m[c] = true
	}
	return m
}()

// reservedNamespaces are the hosts a namespaced claim may not use: the
// platform's own, Auth0's and Authok's (as Auth0 reserves auth0.com,
// webtask.io and webtask.run).
var reservedNamespaces = []string{"auth0.com", "webtask.io", "webtask.run", "authok.cn", "authok.io", "authok.com"}

// claimNameProblem says why name may not be a custom claim, or "".
// Namespaced (http:// or https:// URL) and plain names are both allowed,
// as in Auth0 since 2022, except registered claims and reserved
// namespaces (urn:auth0 and urn:authok among them).
func claimNameProblem(name string) string {
	switch {
	case name == "":
		return "the name is empty"
	case len(name) > MaxClaimNameBytes:
		return "the name is longer than " + strconv.Itoa(MaxClaimNameBytes) + " bytes"
	case !utf8.ValidString(name):
		return "the name is not UTF-8"
	case registeredClaims[name]:
		return "a registered claim cannot be set"
	}
	lower := strings.ToLower(name)
	if strings.HasPrefix(lower, "urn:auth0") || strings.HasPrefix(lower, "urn:authok") {
		return "the namespace is reserved"
	}
	rest, ok := strings.CutPrefix(lower, "https://")
	if !ok {
		rest, ok = strings.CutPrefix(lower, "http://")
	}
	if ok {
		host, _, _ := strings.Cut(rest, "/")
		if i := strings.LastIndexByte(host, '@'); i >= 0 {
			host = host[i+1:]
		}
		if i := strings.IndexByte(host, ':'); i >= 0 {
			host = host[:i]
		}
		host = strings.TrimSuffix(host, ".")
		for _, ns := range reservedNamespaces {
			if host == ns || strings.HasSuffix(host, "."+ns) {
				return "the namespace " + ns + " is reserved"
			}
		}
	}
	return ""
}

// denyReason is the error_description of a denial: the action's reason,
// valid UTF-8, cut to MaxDenyReasonBytes on a character boundary.
func denyReason(reason string) string {
	reason = strings.ToValidUTF8(reason, "\uFFFD")
	if reason == "" {
		return "access denied by a " + TriggerCredentialsExchange + " action"
	}
	if len(reason) > MaxDenyReasonBytes {
		cut := MaxDenyReasonBytes
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut]
	}
	return reason
}

// quote is a client-supplied name for a log description, shortened.
func quote(s string) string {
	return `"` + printable([]byte(s)) + `"`
}
