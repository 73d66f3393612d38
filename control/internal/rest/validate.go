package rest

import (
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Checks used by the field readers: each returns the value to keep and,
// when the value is bad, a reason naming what is expected.

const MaxURLLen = 2048

func HasSpaceOrControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
}

// CheckRedirectURL accepts an absolute URL without a fragment (RFC 6749
// §3.1.2); custom schemes are allowed for native apps (RFC 8252 §7.1)
// except those a browser would execute or read locally, http(s) needs a
// host. Wildcards are not supported.
func CheckRedirectURL(s string) (string, string) {
	const want = "must be an absolute URL without a fragment or wildcard"
	if s == "" || len(s) > MaxURLLen || HasSpaceOrControl(s) || strings.Contains(s, "*") {
		return "", want
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Fragment != "" || strings.Contains(s, "#") {
		return "", want
	}
	switch strings.ToLower(u.Scheme) {
	case "javascript", "data", "vbscript", "file", "blob":
		// A browser would run or read these instead of delivering a code.
		return "", "the " + strings.ToLower(u.Scheme) + ": scheme is not allowed"
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Host == "" {
		return "", want
	}
	if u.Opaque != "" && (u.Scheme == "http" || u.Scheme == "https") {
		return "", want
	}
	return s, ""
}

// CheckWebURL accepts an absolute http(s) URL; https is required unless
// allowHTTP.
func CheckWebURL(s string, allowHTTP bool) (string, string) {
	want := "must be an absolute https URL"
	if allowHTTP {
		want = "must be an absolute http(s) URL"
	}
	if len(s) > MaxURLLen || HasSpaceOrControl(s) {
		return "", want
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil {
		return "", want
	}
	if u.Scheme != "https" && !(allowHTTP && u.Scheme == "http") {
		return "", want
	}
	return s, ""
}

// OptionalWebURL is checkWebURL that also accepts "" (unset).
func OptionalWebURL(allowHTTP bool) func(string) (string, string) {
	return func(s string) (string, string) {
		if s == "" {
			return "", ""
		}
		return CheckWebURL(s, allowHTTP)
	}
}

// CheckOrigin accepts a bare origin, scheme://host[:port] (a trailing "/"
// is dropped), as a browser sends in Origin (RFC 6454 §7). Scheme and host
// are lower-cased so the CORS check can compare bytes.
func CheckOrigin(s string) (string, string) {
	const want = "must be an origin: scheme://host[:port], without path, query or fragment"
	if s == "" || len(s) > MaxURLLen || HasSpaceOrControl(s) || strings.Contains(s, "*") {
		return "", want
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery ||
		u.Fragment != "" || strings.Contains(s, "#") || (u.Path != "" && u.Path != "/") {
		return "", want
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host), ""
}

// CheckText bounds a free-text string.
func CheckText(maxRunes int) func(string) (string, string) {
	return func(s string) (string, string) {
		if utf8.RuneCountInString(s) > maxRunes {
			return "", "at most " + strconv.Itoa(maxRunes) + " characters"
		}
		return s, ""
	}
}

// CheckToken accepts a non-empty string without whitespace or control
// characters (ids, scopes, aliases).
func CheckToken(maxLen int) func(string) (string, string) {
	return func(s string) (string, string) {
		if s == "" || len(s) > maxLen || HasSpaceOrControl(s) {
			return "", "must be 1 to " + strconv.Itoa(maxLen) + " characters without spaces"
		}
		return s, ""
	}
}

func CheckEmail(s string) (string, string) {
	if s == "" {
		return "", ""
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 {
		return "", "must be an email address"
	}
	return s, ""
}

// StringChecked reads a string member through check (nil: any string).
func (o *Object) StringChecked(name string, dst *string, check func(string) (string, string)) bool {
	raw, present := o.Take(name)
	if !present {
		return false
	}
	var s string
	if !o.StringValue(name, raw, &s) {
		return false
	}
	if check != nil {
		v, reason := check(s)
		if reason != "" {
			o.Fail(name, raw, reason)
			return false
		}
		s = v
	}
	*dst = s
	return true
}

// FirstDuplicate reports the first repeated value of list, if any.
func FirstDuplicate(list []string) (string, bool) {
	seen := make(map[string]bool, len(list))
	for _, s := range list {
		if seen[s] {
			return s, true
		}
		seen[s] = true
	}
	return "", false
}
