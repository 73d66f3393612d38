package token

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/authok-edge/authok/shared/directory"
	"github.com/authok-edge/authok/shared/logship"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/store"
	"github.com/authok-edge/authok/shared/tokens"
)

// Defaults for the zero values of Config.
const (
	DefaultMaxBodyBytes         = 64 << 10
	DefaultMaxAssertionLifetime = 10 * time.Minute
	DefaultClockSkew            = 30 * time.Second
	DefaultWriteTimeout         = 10 * time.Second
	DefaultRealm                = "authok"
)

// Directory is what the endpoint reads on every request; all of it is
// cached (shared/directory), so a warm request reads no disk.
type Directory interface {
	TenantByHostBytes(host []byte) (model.Tenant, error)
	Client(tenant, clientID string) (*directory.Client, error)
	ResourceServerByIdentifier(tenant, identifier string) (*model.ResourceServer, error)
	ClientGrant(tenant, clientID, audience string) (*directory.ClientGrant, error)
	Signer(tenant string, alg tokens.Alg) (*tokens.Signer, error)
}

var _ Directory = (*directory.Directory)(nil)

// Applier writes to the store: only to record a private_key_jwt
// assertion's jti (single use, RFC 7523 §3).
type Applier interface {
	Apply(ctx context.Context, txn store.Txn) (store.Result, error)
}

// Config configures a Handler.
type Config struct {
	// Directory resolves tenants, clients, APIs, grants and signers.
	// Required: *directory.Directory.
	Directory Directory
	// Store records used client assertions. Required: the node's store.
	Store Applier
	// Logs receives an exchange_success or exchange_failed event (API.md
	// C.11) for every request whose tenant is known. Nil records none.
	Logs *logship.Shipper
	// Logger receives internal errors (never secrets). Default
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock of iat, exp and assertion checks. Default time.Now.
	Now func() time.Time
	// Actions runs the Actions bound to credentials-exchange between the
	// grant's decision and signing (actions-runtime). Nil: none is bound,
	// and the phase costs nothing.
	Actions Actions

	// MaxBodyBytes caps a request body; larger get 413 invalid_request.
	// Default DefaultMaxBodyBytes. The server's own limit (413 before the
	// handler runs) must be at least this.
	MaxBodyBytes int
	// MaxAssertionLifetime is how far in the future a client assertion's
	// exp may be. Default DefaultMaxAssertionLifetime.
	MaxAssertionLifetime time.Duration
	// ClockSkew is tolerated on a client assertion's exp, nbf and iat.
	// Default DefaultClockSkew.
	ClockSkew time.Duration
	// WriteTimeout bounds recording a client assertion. Default
	// DefaultWriteTimeout.
	WriteTimeout time.Duration
	// Realm names the protection space of WWW-Authenticate: Basic.
	// Default DefaultRealm.
	Realm string
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if c.Directory == nil {
		errs = append(errs, errors.New("token: Config.Directory is required"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("token: Config.Store is required"))
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, errors.New("token: Config.MaxBodyBytes is negative"))
	}
	if c.MaxAssertionLifetime < 0 {
		errs = append(errs, errors.New("token: Config.MaxAssertionLifetime is negative"))
	}
	if c.ClockSkew < 0 {
		errs = append(errs, errors.New("token: Config.ClockSkew is negative"))
	}
	if c.WriteTimeout < 0 {
		errs = append(errs, errors.New("token: Config.WriteTimeout is negative"))
	}
	for _, r := range c.Realm {
		if r == '"' || r == '\\' || r < 0x20 || r == 0x7f {
			errs = append(errs, errors.New("token: Config.Realm must not contain quotes, backslashes or control characters"))
			break
		}
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.MaxBodyBytes = cmp.Or(c.MaxBodyBytes, DefaultMaxBodyBytes)
	c.MaxAssertionLifetime = cmp.Or(c.MaxAssertionLifetime, DefaultMaxAssertionLifetime)
	c.ClockSkew = cmp.Or(c.ClockSkew, DefaultClockSkew)
	c.WriteTimeout = cmp.Or(c.WriteTimeout, DefaultWriteTimeout)
	c.Realm = cmp.Or(c.Realm, DefaultRealm)
	return c
}
