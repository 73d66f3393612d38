package oauth2

import "iter"

// ScopeTokens yields the scope-tokens of a scope value (RFC 6749 §3.3),
// in order, as sub-slices of s. §3.3 separates tokens by one space; runs
// of spaces and leading or trailing spaces are tolerated, as most servers
// do, and yield no empty token. Tokens are not validated: see
// ValidScopeToken.
func ScopeTokens[S ~string | ~[]byte](s S) iter.Seq[S] {
	return func(yield func(S) bool) {
		for len(s) > 0 {
			i := 0
			for i < len(s) && s[i] != ' ' {
				i++
			}
			if i > 0 && !yield(s[:i]) {
				return
			}
			for i < len(s) && s[i] == ' ' {
				i++
			}
			s = s[i:]
		}
	}
}

// ValidScopeToken reports whether t is an RFC 6749 §3.3 scope-token:
// 1*( %x21 / %x23-5B / %x5D-7E ), printable ASCII without space, '"' or
// '\'.
func ValidScopeToken[S ~string | ~[]byte](t S) bool {
	for i := 0; i < len(t); i++ {
		if c := t[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return len(t) > 0
}

// errScopeChars is the invalid_scope of a token §3.3 does not allow.
var errScopeChars = ErrInvalidScope.With("scope holds characters RFC 6749 §3.3 does not allow")

// ParseScope splits a scope value into its tokens, without repeats, in
// order. A token with a character §3.3 excludes is an invalid_scope. An
// empty or all-space value is nil.
func ParseScope(s string) ([]string, *Error) {
	var out []string
	for t := range ScopeTokens(s) {
		if !ValidScopeToken(t) {
			return nil, errScopeChars
		}
		if !contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// AppendGranted appends to dst the requested scope-tokens that granted
// holds, in request order, without repeats, separated by single spaces:
// requested ∩ granted (API.md B.4, E.1). requested reports whether the
// value held any token at all (an all-space value requests nothing). A
// token with a character §3.3 excludes is an invalid_scope; dst then
// comes back as given. A request none of whose tokens is granted appends
// nothing: whether that is an error is the caller's rule.
func AppendGranted[S ~string | ~[]byte](dst []byte, requestedScope S, granted []string) (out []byte, requested bool, err *Error) {
	start := len(dst)
	for t := range ScopeTokens(requestedScope) {
		if !ValidScopeToken(t) {
			return dst[:start], false, errScopeChars
		}
		requested = true
		if !contains(granted, t) || HasScope(dst[start:], t) {
			continue
		}
		if len(dst) > start {
			dst = append(dst, ' ')
		}
		dst = append(dst, t...)
	}
	return dst, requested, nil
}

// HasScope reports whether the scope value list holds the token t.
func HasScope[L, T ~string | ~[]byte](list L, t T) bool {
	for u := range ScopeTokens(list) {
		if string(u) == string(t) {
			return true
		}
	}
	return false
}

// AddScope returns list with t appended when list does not hold it yet.
func AddScope(list, t string) string {
	switch {
	case HasScope(list, t):
		return list
	case list == "":
		return t
	}
	return list + " " + t
}

// RemoveScope returns list without the token t, the others in order and
// separated by single spaces.
func RemoveScope(list, t string) string {
	if !HasScope(list, t) {
		return list
	}
	var b []byte
	for u := range ScopeTokens(list) {
		if u == t {
			continue
		}
		if len(b) > 0 {
			b = append(b, ' ')
		}
		b = append(b, u...)
	}
	return string(b)
}

func contains[S ~string | ~[]byte](list []string, t S) bool {
	for _, s := range list {
		if s == string(t) {
			return true
		}
	}
	return false
}
