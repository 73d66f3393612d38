package model

// Secret is a credential held in clear in memory: a client secret or an
// HS256 signing secret. fmt prints it as [REDACTED] (under %v, %+v, %#v and
// %s, also inside structs) so a logged model never leaks it; JSON carries
// the clear value because the Management API returns it. Compare secrets
// with crypto/subtle, never ==.
type Secret string

const redacted = "[REDACTED]"

// String hides the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString hides the secret under %#v.
func (s Secret) GoString() string { return `model.Secret("` + s.String() + `")` }

// Reveal returns the clear value. Call sites that need it are few and easy
// to audit: the token endpoint's comparison, sealing, and API responses.
func (s Secret) Reveal() string { return string(s) }
