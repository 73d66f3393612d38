package mgmtapi

import (
	"context"
	"errors"
	"fmt"
	"github.com/authok-edge/authok/control/internal/rest"
	"net/http"
	"strings"

	"github.com/authok-edge/authok/control/internal/apierror"
	"github.com/authok-edge/authok/shared/keys"
)

// The keys manager verifies Management API tokens as it is.
var _ TokenVerifier = (*keys.Manager)(nil)

// KeysFromManager adapts a *keys.Manager to SigningKeys: keys.Key becomes
// SigningKey (public fields and alg only) and the manager's errors become
// this package's (ErrNotFound → ErrKeyNotFound, ErrInvalid →
// ErrKeyInvalid, ErrConflict → 409).
func KeysFromManager(m *keys.Manager) SigningKeys { return managerKeys{m} }

type managerKeys struct{ m *keys.Manager }

func (k managerKeys) List(tenant string) ([]SigningKey, error) {
	ks, err := k.m.List(tenant)
	if err != nil {
		return nil, keysErr(err)
	}
	return convertKeys(ks), nil
}

func (k managerKeys) Get(tenant, kid string) (SigningKey, error) {
	key, err := k.m.Get(tenant, kid)
	if err != nil {
		return SigningKey{}, keysErr(err)
	}
	return convertKey(key), nil
}

func (k managerKeys) Rotate(ctx context.Context, tenant string) ([]SigningKey, error) {
	ks, err := k.m.Rotate(ctx, tenant)
	if err != nil {
		return nil, keysErr(err)
	}
	return convertKeys(ks), nil
}

func (k managerKeys) Revoke(ctx context.Context, tenant, kid string) (SigningKey, error) {
	key, err := k.m.Revoke(ctx, tenant, kid)
	if err != nil {
		return SigningKey{}, keysErr(err)
	}
	return convertKey(key), nil
}

func convertKey(k keys.Key) SigningKey {
	return SigningKey{SigningKey: k.SigningKey, Alg: string(k.Alg)}
}

func convertKeys(ks []keys.Key) []SigningKey {
	out := make([]SigningKey, len(ks))
	for i, k := range ks {
		out[i] = convertKey(k)
	}
	return out
}

// keysErr translates the manager's errors; the message of an ErrInvalid
// (which names the rule, never key material) is kept for the response.
func keysErr(err error) error {
	switch {
	case errors.Is(err, keys.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrKeyNotFound, err)
	case errors.Is(err, keys.ErrInvalid):
		msg := err.Error()
		if i := strings.LastIndex(msg, keys.ErrInvalid.Error()+": "); i >= 0 {
			msg = msg[i+len(keys.ErrInvalid.Error()+": "):]
		}
		return fmt.Errorf("%w: %s", ErrKeyInvalid, msg)
	case errors.Is(err, keys.ErrConflict):
		return apierror.New(http.StatusConflict, rest.CodeConflict, "The signing keys were changed by concurrent requests; retry.")
	}
	return err
}
