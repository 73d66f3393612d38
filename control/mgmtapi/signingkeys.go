package mgmtapi

import (
	"errors"
	"github.com/authok-edge/authok/control/internal/rest"
	"net/http"
	"slices"
	"strings"

	"github.com/authok-edge/authok/shared/model"
)

// keyError maps a SigningKeys error.
func keyError(err error) error {
	switch {
	case errors.Is(err, ErrKeyNotFound):
		return rest.NotFound(codeInexistentSigningKey, "The signing key does not exist.")
	case errors.Is(err, ErrKeyInvalid):
		return rest.BadRequest(rest.CodeInvalidBody, "%s", keyInvalidMessage(err))
	}
	return err
}

// keyInvalidMessage is the text of an ErrKeyInvalid error: the rule it
// broke (e.g. the current key cannot be revoked), never key material.
func keyInvalidMessage(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ErrKeyInvalid.Error()+": "); i >= 0 {
		msg = msg[i+len(ErrKeyInvalid.Error()+": "):]
	}
	return "Invalid signing key operation: " + msg
}

// publicKey strips anything but the public face of a key: SigningKey
// carries no private material by type; this is a second belt.
func publicKey(k SigningKey) SigningKey {
	return SigningKey{SigningKey: model.SigningKey{
		KID: k.KID, Cert: k.Cert, PKCS7: k.PKCS7, Current: k.Current, Next: k.Next, Previous: k.Previous,
		CurrentSince: k.CurrentSince, CurrentUntil: k.CurrentUntil, Fingerprint: k.Fingerprint,
		Thumbprint: k.Thumbprint, Revoked: k.Revoked, RevokedAt: k.RevokedAt, Version: k.Version,
	}, Alg: k.Alg}
}

// listKeys answers GET /keys/signing: a bare array (API.md A.3).
func (a *API) listKeys(c *call) error {
	ks, err := a.cfg.Keys.List(c.tenant.Name)
	if err != nil {
		return keyError(err)
	}
	out := make([]SigningKey, 0, len(ks))
	for _, k := range ks {
		out = append(out, publicKey(k))
	}
	return rest.WriteJSON(c.w, http.StatusOK, out, 0)
}

func (a *API) getKey(c *call) error {
	k, err := a.cfg.Keys.Get(c.tenant.Name, c.r.PathValue("kid"))
	if err != nil {
		return keyError(err)
	}
	return rest.WriteJSON(c.w, http.StatusOK, publicKey(k), 0)
}

// rotateKeys answers POST /keys/signing/rotate (and the backend's POST
// /keys/rotate): 201 with the newly generated next key (API.md C.14, E.4).
// When the manager rotates one key per algorithm the RS256 one is
// returned (what the SDK's Rotate expects: one object); GET /keys/signing
// lists all.
func (a *API) rotateKeys(c *call) error {
	ks, err := a.cfg.Keys.Rotate(c.ctx(), c.tenant.Name)
	if err != nil {
		return keyError(err)
	}
	if len(ks) == 0 {
		return errors.New("mgmtapi: rotate returned no key")
	}
	i := slices.IndexFunc(ks, func(k SigningKey) bool { return k.Alg == model.SigningAlgRS256 && k.Next })
	if i < 0 {
		i = slices.IndexFunc(ks, func(k SigningKey) bool { return k.Next })
	}
	if i < 0 {
		i = 0
	}
	return rest.WriteJSON(c.w, http.StatusCreated, publicKey(ks[i]), 0)
}

func (a *API) revokeKey(c *call) error {
	k, err := a.cfg.Keys.Revoke(c.ctx(), c.tenant.Name, c.r.PathValue("kid"))
	if err != nil {
		return keyError(err)
	}
	return rest.WriteJSON(c.w, http.StatusOK, publicKey(k), 0)
}
