package repo

// Exported decoders and key builders, for read models that keep decoded
// records outside this package (shared/directory caches them, invalidated by
// the store's apply feed) and for writers of keys this package documents but
// does not manage itself (log events, client-assertion jtis).
//
// The decoders are the very functions the repositories use, so a cached
// record is exactly what Get* would return. The key builders produce the
// exact bytes of the key schema in doc.go; the Append* forms build into a
// caller's buffer so a warm lookup allocates nothing.

import (
	"bytes"
	"fmt"
	"net/url"

	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/store"
)

// DecodeTenant decodes a tenant record (an item read under TenantKey).
func (r *Repo) DecodeTenant(it store.Item) (model.Tenant, error) {
	return tenantKind.decode(r, "", it)
}

// DecodeClient decodes a client record (an item read under ClientKey) and
// opens its secret. The tenant the secret is bound to is read from the key.
func (r *Repo) DecodeClient(it store.Item) (model.Client, error) {
	tenant, err := TenantOfKey(it.Key)
	if err != nil {
		return model.Client{}, err
	}
	return clientKind.decode(r, tenant, it)
}

// DecodeResourceServer decodes a resource server record (an item read under
// ResourceServerKey) and opens its HS256 signing secret, if any.
func (r *Repo) DecodeResourceServer(it store.Item) (model.ResourceServer, error) {
	tenant, err := TenantOfKey(it.Key)
	if err != nil {
		return model.ResourceServer{}, err
	}
	return resourceServerKind.decode(r, tenant, it)
}

// DecodeClientGrant decodes a client grant record (an item read under
// ClientGrantKey).
func (r *Repo) DecodeClientGrant(it store.Item) (model.ClientGrant, error) {
	tenant, err := TenantOfKey(it.Key)
	if err != nil {
		return model.ClientGrant{}, err
	}
	return clientGrantKind.decode(r, tenant, it)
}

// DecodeIndex returns what a unique index key (HostKey,
// ResourceServerIdentifierKey, ClientGrantPairKey) points to: a tenant name
// or a record id.
func DecodeIndex(it store.Item) string { return string(it.Value) }

// TenantOfKey returns the tenant owning a key under t/<T>/.
func TenantOfKey(key []byte) (string, error) {
	rest, ok := bytes.CutPrefix(key, []byte("t/"))
	if !ok {
		return "", fmt.Errorf("repo: key %q is not under a tenant", key)
	}
	seg, _, ok := bytes.Cut(rest, []byte("/"))
	if !ok || len(seg) == 0 {
		return "", fmt.Errorf("repo: key %q is not under a tenant", key)
	}
	name, err := url.PathUnescape(string(seg))
	if err != nil {
		return "", fmt.Errorf("repo: key %q: %w", key, err)
	}
	return name, nil
}

// NormalizeHost returns host (a Host header value) as the host index stores
// it: lower case, without a trailing dot. It does not remove a port: give
// the port only when it is not the scheme's default (see HostOf).
func NormalizeHost(host string) string {
	return string(AppendNormalizedHost(nil, host))
}

// AppendNormalizedHost appends NormalizeHost(host) to dst.
func AppendNormalizedHost[S ~string | ~[]byte](dst []byte, host S) []byte {
	n := len(host)
	if n > 0 && host[n-1] == '.' {
		n--
	}
	for i := 0; i < n; i++ {
		c := host[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// ---- keys (doc.go has the schema) ----

// TenantKey is the key of a tenant record.
func TenantKey(name string) []byte { return tenantKey(name) }

// HostKey is the host index key: its value is the name of the tenant served
// on host (already normalised: see NormalizeHost).
func HostKey(host string) []byte { return hostKey(host) }

// ClientKey is the key of a client record.
func ClientKey(tenant, clientID string) []byte { return clientKey(tenant, clientID) }

// ResourceServerKey is the key of a resource server record.
func ResourceServerKey(tenant, id string) []byte { return rsKey(tenant, id) }

// ResourceServerIdentifierKey is the identifier index key: its value is the
// id of the resource server whose identifier (audience) it is.
func ResourceServerIdentifierKey(tenant, identifier string) []byte {
	return rsIdentKey(tenant, identifier)
}

// ClientGrantKey is the key of a client grant record.
func ClientGrantKey(tenant, id string) []byte { return cgKey(tenant, id) }

// ClientGrantPairKey is the pair index key: its value is the id of the
// grant of clientID for audience.
func ClientGrantPairKey(tenant, clientID, audience string) []byte {
	return cgPairKey(tenant, clientID, audience)
}

// LogPrefix is the prefix of a tenant's log events.
func LogPrefix(tenant string) []byte { return []byte(scope(tenant) + "log/") }

// LogKey is the key of one batch of log events, named by the smallest
// event id in it. ids must sort by date (the shipper's do) so a prefix scan
// lists batches oldest first.
func LogKey(tenant, id string) []byte { return []byte(scope(tenant) + "log/" + esc(id)) }

// LogUsageKey is the record of the bytes a tenant's log batches take,
// by expiry day (shared/logship's quota). It is outside LogPrefix.
func LogUsageKey(tenant string) []byte { return []byte(scope(tenant) + "log-usage") }

// ClientAssertionKey records a used client assertion (RFC 7523 jti) of a
// client until the assertion expires, so it cannot be replayed.
func ClientAssertionKey(tenant, clientID, jti string) []byte {
	return []byte(scope(tenant) + "client-assertion/" + esc(clientID) + "/" + esc(jti))
}

// AppendTenantKey appends TenantKey(name) to dst.
func AppendTenantKey[S ~string | ~[]byte](dst []byte, name S) []byte {
	return AppendEscaped(append(dst, "tenant/"...), name)
}

// AppendHostKey appends HostKey(host) to dst.
func AppendHostKey[S ~string | ~[]byte](dst []byte, host S) []byte {
	return AppendEscaped(append(dst, "host/"...), host)
}

// AppendClientKey appends ClientKey(tenant, clientID) to dst.
func AppendClientKey[S ~string | ~[]byte](dst []byte, tenant string, clientID S) []byte {
	return AppendEscaped(append(appendScope(dst, tenant), "client/"...), clientID)
}

// AppendResourceServerKey appends ResourceServerKey(tenant, id) to dst.
func AppendResourceServerKey[S ~string | ~[]byte](dst []byte, tenant string, id S) []byte {
	return AppendEscaped(append(appendScope(dst, tenant), "rs/"...), id)
}

// AppendResourceServerIdentifierKey appends
// ResourceServerIdentifierKey(tenant, identifier) to dst.
func AppendResourceServerIdentifierKey[S ~string | ~[]byte](dst []byte, tenant string, identifier S) []byte {
	return AppendEscaped(append(appendScope(dst, tenant), "rs-ident/"...), identifier)
}

// AppendClientGrantKey appends ClientGrantKey(tenant, id) to dst.
func AppendClientGrantKey[S ~string | ~[]byte](dst []byte, tenant string, id S) []byte {
	return AppendEscaped(append(appendScope(dst, tenant), "cg/"...), id)
}

// AppendClientGrantPairKey appends ClientGrantPairKey(tenant, clientID,
// audience) to dst.
func AppendClientGrantPairKey[S ~string | ~[]byte](dst []byte, tenant string, clientID, audience S) []byte {
	dst = AppendEscaped(append(appendScope(dst, tenant), "cg-pair/"...), clientID)
	return AppendEscaped(append(dst, '/'), audience)
}

func appendScope(dst []byte, tenant string) []byte {
	return append(AppendEscaped(append(dst, "t/"...), tenant), '/')
}

// AppendEscaped appends s escaped exactly as url.PathEscape escapes it (the
// escaping of every variable key segment), without allocating.
func AppendEscaped[S ~string | ~[]byte](dst []byte, s S) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if pathSegmentSafe[c] {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', hex[c>>4], hex[c&15])
	}
	return dst
}

// pathSegmentSafe lists the bytes url.PathEscape leaves alone: RFC 3986
// unreserved characters, and the reserved ones a path segment may hold
// except '/', ';', ',' and '?'. TestAppendEscapedMatchesPathEscape checks
// every byte against net/url.
var pathSegmentSafe = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-_.~$&+:=@" {
		t[c] = true
	}
	return t
}()
