package bootstrap

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/authok-edge/authok/shared/keys"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/secretbox"
	"github.com/authok-edge/authok/shared/store"
)

// DefaultTenantName is the tenant Ensure creates when Options.TenantName is
// empty.
const DefaultTenantName = "default"

// ManagementClientName is the name of the management client (≤ 32 chars).
const ManagementClientName = "Authok Management Client"

// MinClientSecretLength is the shortest client secret Options may supply.
const MinClientSecretLength = 16

// CredentialsFile is the name of the file WriteCredentialsFile writes.
const CredentialsFile = "bootstrap.json"

// Options says what to create.
type Options struct {
	// Issuer is the tenant's issuer: an absolute http(s) URL such as
	// http://127.0.0.1:8080/. It is normalised to end in "/".
	Issuer string
	// TenantName defaults to DefaultTenantName.
	TenantName string
	// ClientID and ClientSecret are the management client's credentials
	// (AUTHOK_BOOTSTRAP_CLIENT_ID/SECRET, passed in by cmd). Each is
	// generated when empty.
	ClientID     string
	ClientSecret string
	// Now defaults to time.Now; Rand to crypto/rand.Reader.
	Now  func() time.Time
	Rand io.Reader
	// FollowIssuer moves an existing tenant to Issuer when its issuer
	// differs (repo.MoveTenantIssuer: its host and its Management API
	// identifier follow), instead of listing "issuer" in Result.Ignored.
	// For an issuer the caller derives, as dev does from its listen
	// address; an issuer an operator wrote down must not move a tenant
	// that tokens and clients already know.
	FollowIssuer bool
	// Keys makes the tenant's signing keys. When nil, Ensure uses a
	// keys.Manager of its own (with Now and Rand) for the call.
	Keys *keys.Manager
}

// Result describes the default tenant after Ensure.
type Result struct {
	Tenant       string
	Issuer       string
	Audience     string // the Management API identifier
	ClientID     string
	ClientSecret model.Secret
	// Created is true when this call created the tenant.
	Created bool
	// Ignored names the options that differ from an existing tenant and
	// were therefore not applied: "issuer", "client_id", "client_secret".
	Ignored []string
	// MovedFrom is the issuer the tenant had before this call moved it
	// (Options.FollowIssuer); empty when it did not move.
	MovedFrom string
}

// TokenURL is where the management client gets tokens.
func (r Result) TokenURL() string { return r.Issuer + "oauth/token" }

// ManagementAudience returns the Management API identifier for an issuer
// (API.md A.2: https://{host}/api/v1/).
func ManagementAudience(issuer string) string { return issuer + "api/v1/" }

// NormalizeIssuer checks that s is an absolute http(s) URL without user
// info, query or fragment and returns it with a lower-case scheme and host,
// without the scheme's default port, and with a path ending in "/".
func NormalizeIssuer(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", errors.New("bootstrap: issuer is required")
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("bootstrap: issuer %q is not an absolute http or https URL: %w", s, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("bootstrap: issuer %q must be an absolute http or https URL", s)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("bootstrap: issuer %q has no host", s)
	case u.User != nil:
		return "", fmt.Errorf("bootstrap: issuer %q must not carry user info", s)
	case u.RawQuery != "" || u.ForceQuery:
		return "", fmt.Errorf("bootstrap: issuer %q must not have a query", s)
	case u.Fragment != "" || strings.Contains(s, "#"):
		return "", fmt.Errorf("bootstrap: issuer %q must not have a fragment", s)
	case u.Opaque != "":
		return "", fmt.Errorf("bootstrap: issuer %q must be an absolute http or https URL", s)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	if (u.Scheme == "https" && u.Port() == "443") || (u.Scheme == "http" && u.Port() == "80") {
		u.Host = u.Hostname()
		if strings.Contains(u.Host, ":") { // IPv6 literal
			u.Host = "[" + u.Host + "]"
		}
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u.String(), nil
}

// Ensure creates the default tenant if it does not exist, then its signing
// keys if it has none (keys.Manager.Ensure: a current and a next
// generation), and reports its state. Two nodes calling Ensure concurrently
// on one cluster both succeed and report the same credentials; exactly one
// reports Created.
func Ensure(ctx context.Context, st store.Store, box secretbox.Key, opts Options) (Result, error) {
	res, err := ensureTenant(ctx, st, box, opts)
	if err != nil {
		return res, err
	}
	km := opts.Keys
	if km == nil {
		km = keys.New(st, box, keys.WithClock(opts.Now), keys.WithRand(opts.Rand))
		defer km.Close()
	}
	if err := km.Ensure(ctx, res.Tenant); err != nil {
		return Result{}, fmt.Errorf("bootstrap: signing keys of tenant %q: %w", res.Tenant, err)
	}
	return res, nil
}

// ensureTenant creates the tenant, its Management API, client and grant.
func ensureTenant(ctx context.Context, st store.Store, box secretbox.Key, opts Options) (Result, error) {
	issuer, err := NormalizeIssuer(opts.Issuer)
	if err != nil {
		return Result{}, err
	}
	name := opts.TenantName
	if name == "" {
		name = DefaultTenantName
	}
	if opts.ClientSecret != "" && len(opts.ClientSecret) < MinClientSecretLength {
		return Result{}, fmt.Errorf("bootstrap: client secret of %d characters is shorter than %d", len(opts.ClientSecret), MinClientSecretLength)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	r, err := repo.New(st, box, repo.WithClock(now))
	if err != nil {
		return Result{}, fmt.Errorf("bootstrap: %w", err)
	}

	if res, found, err := existing(ctx, r, name, issuer, opts); found || err != nil {
		return res, err
	}

	plan, err := newPlan(name, issuer, opts, rnd)
	if err != nil {
		return Result{}, err
	}
	b := r.NewBatch()
	for _, add := range []func() error{
		func() error { return b.CreateTenant(plan.tenant) },
		func() error { return b.CreateResourceServer(name, plan.api) },
		func() error { return b.CreateClient(name, plan.client) },
		func() error { return b.CreateClientGrant(name, plan.grant) },
	} {
		if err := add(); err != nil {
			return Result{}, fmt.Errorf("bootstrap: %w", err)
		}
	}
	if _, err := r.Commit(ctx, b); err != nil {
		if errors.Is(err, repo.ErrDuplicate) {
			// Another node won the race: report what it created.
			if res, found, gerr := existing(ctx, r, name, issuer, opts); found && gerr == nil {
				return res, nil
			}
		}
		return Result{}, fmt.Errorf("bootstrap: create tenant %q: %w", name, err)
	}
	return Result{
		Tenant:       name,
		Issuer:       issuer,
		Audience:     plan.api.Identifier,
		ClientID:     plan.client.ClientID,
		ClientSecret: plan.client.ClientSecret,
		Created:      true,
	}, nil
}

// existing reports the tenant called name; found is false when there is
// none.
func existing(ctx context.Context, r *repo.Repo, name, issuer string, opts Options) (res Result, found bool, err error) {
	t, err := r.GetTenant(ctx, name)
	if errors.Is(err, repo.ErrNotFound) {
		return Result{}, false, nil
	}
	if err != nil {
		return Result{}, false, fmt.Errorf("bootstrap: %w", err)
	}
	res = Result{Tenant: name, Issuer: t.Internal.Issuer, Audience: ManagementAudience(t.Internal.Issuer)}
	if t.Internal.ManagementClientID == "" {
		return Result{}, true, fmt.Errorf("bootstrap: tenant %q exists but records no management client", name)
	}
	c, err := r.GetClient(ctx, name, t.Internal.ManagementClientID)
	if err != nil {
		return Result{}, true, fmt.Errorf("bootstrap: management client of tenant %q: %w", name, err)
	}
	res.ClientID, res.ClientSecret = c.ClientID, c.ClientSecret
	switch {
	case issuer == res.Issuer:
	case opts.FollowIssuer:
		moved, err := r.MoveTenantIssuer(ctx, name, issuer, ManagementAudience)
		if err != nil {
			return Result{}, true, fmt.Errorf("bootstrap: move tenant %q from issuer %s to %s: %w", name, res.Issuer, issuer, err)
		}
		res.MovedFrom = res.Issuer
		res.Issuer, res.Audience = moved.Internal.Issuer, ManagementAudience(moved.Internal.Issuer)
	default:
		res.Ignored = append(res.Ignored, "issuer")
	}
	if opts.ClientID != "" && opts.ClientID != res.ClientID {
		res.Ignored = append(res.Ignored, "client_id")
	}
	if opts.ClientSecret != "" && subtle.ConstantTimeCompare([]byte(opts.ClientSecret), []byte(res.ClientSecret.Reveal())) != 1 {
		res.Ignored = append(res.Ignored, "client_secret")
	}
	return res, true, nil
}

type plan struct {
	tenant model.Tenant
	api    model.ResourceServer
	client model.Client
	grant  model.ClientGrant
}

func newPlan(name, issuer string, opts Options, rnd io.Reader) (plan, error) {
	var err error
	clientID := opts.ClientID
	if clientID == "" {
		if clientID, err = model.NewClientID(rnd); err != nil {
			return plan{}, fmt.Errorf("bootstrap: %w", err)
		}
	}
	secret := model.Secret(opts.ClientSecret)
	if secret == "" {
		if secret, err = model.NewClientSecret(rnd); err != nil {
			return plan{}, fmt.Errorf("bootstrap: %w", err)
		}
	}
	rsID, err := model.NewResourceServerID(rnd)
	if err != nil {
		return plan{}, fmt.Errorf("bootstrap: %w", err)
	}
	grantID, err := model.NewClientGrantID(rnd)
	if err != nil {
		return plan{}, fmt.Errorf("bootstrap: %w", err)
	}
	host, err := repo.HostOf(issuer)
	if err != nil {
		return plan{}, fmt.Errorf("bootstrap: %w", err)
	}
	audience := ManagementAudience(issuer)
	return plan{
		tenant: model.Tenant{
			ID:       name,
			Name:     name,
			Domain:   host,
			Internal: model.TenantInternal{Issuer: issuer, ManagementClientID: clientID},
		},
		api: model.ResourceServer{
			ID:                  rsID,
			Name:                model.ManagementAPIName,
			Identifier:          audience,
			IsSystem:            true,
			Scopes:              model.ManagementResourceServerScopes(),
			SigningAlg:          model.SigningAlgRS256,
			AllowOfflineAccess:  true,
			TokenLifetime:       model.DefaultTokenLifetime,
			TokenLifetimeForWeb: model.DefaultTokenLifetimeForWeb,
			TokenDialect:        model.TokenDialectAccessToken,
		},
		client: model.Client{
			ClientID:                    clientID,
			ClientSecret:                secret,
			Name:                        ManagementClientName,
			Description:                 "Created with the tenant to call its Management API (client_credentials).",
			AppType:                     model.AppTypeNonInteractive,
			IsFirstParty:                true,
			OIDCConformant:              true,
			GrantTypes:                  []string{model.GrantTypeClientCredentials},
			TokenEndpointAuthMethod:     model.AuthMethodClientSecretPost,
			JWTConfiguration:            model.JWTConfiguration{Alg: model.SigningAlgRS256, LifetimeInSeconds: 36000},
			SSODisabled:                 true,
			OrganizationUsage:           model.OrganizationUsageDeny,
			OrganizationRequireBehavior: model.OrganizationRequireNoPrompt,
			RefreshToken: model.RefreshToken{
				RotationType:   model.RotationTypeNonRotating,
				ExpirationType: model.ExpirationTypeNonExpiring,
			},
			OIDC: model.ClientOIDC{IDTokenSignedResponseAlg: model.SigningAlgRS256},
		},
		grant: model.ClientGrant{
			ID:       grantID,
			ClientID: clientID,
			Audience: audience,
			Scope:    model.ManagementScopes(),
		},
	}, nil
}

// credentials is the JSON of the credentials file.
type credentials struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Audience     string `json:"audience"`
	TokenURL     string `json:"token_url"`
	Issuer       string `json:"issuer"`
}

// WriteCredentialsFile writes <dataDir>/bootstrap.json, mode 0600, holding
// the management client's credentials, the audience, the token URL and the
// issuer. The file is replaced atomically, and is 0600 even if an older
// copy had another mode.
func WriteCredentialsFile(dataDir string, r Result) error {
	if dataDir == "" {
		return errors.New("bootstrap: credentials file: empty data folder")
	}
	if r.ClientID == "" || r.ClientSecret == "" || r.Issuer == "" {
		return errors.New("bootstrap: credentials file: incomplete result")
	}
	b, err := json.MarshalIndent(credentials{
		ClientID:     r.ClientID,
		ClientSecret: r.ClientSecret.Reveal(),
		Audience:     r.Audience,
		TokenURL:     r.TokenURL(),
		Issuer:       r.Issuer,
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("bootstrap: credentials file: %w", err)
	}
	b = append(b, '\n')
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("bootstrap: credentials file: %w", err)
	}
	tmp, err := os.CreateTemp(dataDir, ".bootstrap-*.json") // created 0600
	if err != nil {
		return fmt.Errorf("bootstrap: credentials file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("bootstrap: credentials file: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("bootstrap: credentials file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("bootstrap: credentials file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("bootstrap: credentials file: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dataDir, CredentialsFile)); err != nil {
		return fmt.Errorf("bootstrap: credentials file: %w", err)
	}
	return nil
}
