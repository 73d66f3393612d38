package token

import (
	"bytes"
	"encoding/base64"
	"errors"
)

// maxBasicHeader bounds an Authorization: Basic header; a client id and a
// secret are well under a hundred bytes each.
const maxBasicHeader = 4096

var (
	errNotBasic        = errors.New("token: not the Basic scheme")
	errMalformedBasic  = errors.New("token: malformed Basic credentials")
	errBasicEncoding   = errors.New("token: Basic credentials are not form-urlencoded")
	errBasicEmptyID    = errors.New("token: Basic credentials without a client id")
	errBasicHeaderSize = errors.New("token: Basic credentials too long")
)

// parseBasic reads client credentials from an Authorization header value
// of the Basic scheme (RFC 7617 §2). RFC 6749 §2.3.1 has the client
// form-urlencode (Appendix B) its client_id and client_secret before
// joining them with ':' and base64-encoding the pair, so each half is
// form-urldecoded here: "+" is a space and %XX a byte (seed 001's clients,
// which skip the encoding, still work unless their values contain '%',
// '+' or ':').
//
// The credentials are decoded into buf (grown if needed) and returned as
// slices of it. err is errNotBasic when the header uses another scheme.
func parseBasic(header, buf []byte) (id, secret, out []byte, err error) {
	out = buf
	if len(header) > maxBasicHeader {
		return nil, nil, out, errBasicHeaderSize
	}
	const scheme = "basic"
	if len(header) <= len(scheme) || !bytes.EqualFold(header[:len(scheme)], []byte(scheme)) ||
		(header[len(scheme)] != ' ' && header[len(scheme)] != '\t') {
		return nil, nil, out, errNotBasic
	}
	enc := bytes.TrimSpace(header[len(scheme):])
	// Room for either decoding: without padding the last quantum is
	// shorter, which RawStdEncoding counts and StdEncoding does not.
	n := max(base64.StdEncoding.DecodedLen(len(enc)), base64.RawStdEncoding.DecodedLen(len(enc)))
	if cap(out) < n {
		out = make([]byte, n)
	}
	out = out[:n]
	m, err := base64.StdEncoding.Decode(out, enc)
	if err != nil {
		// Some clients leave out the padding.
		if m, err = base64.RawStdEncoding.Decode(out, enc); err != nil {
			return nil, nil, out, errMalformedBasic
		}
	}
	pair := out[:m]
	i := bytes.IndexByte(pair, ':')
	if i < 0 {
		return nil, nil, out, errMalformedBasic
	}
	id, ok := formUnescape(pair[:i])
	if !ok {
		return nil, nil, out, errBasicEncoding
	}
	secret, ok = formUnescape(pair[i+1:])
	if !ok {
		return nil, nil, out, errBasicEncoding
	}
	if len(id) == 0 {
		return nil, nil, out, errBasicEmptyID
	}
	return id, secret, out, nil
}

// formUnescape decodes application/x-www-form-urlencoded text in place
// ("+" is a space, %XX a byte) and reports false on a malformed escape.
func formUnescape(b []byte) ([]byte, bool) {
	if bytes.IndexByte(b, '%') < 0 && bytes.IndexByte(b, '+') < 0 {
		return b, true
	}
	w := 0
	for r := 0; r < len(b); r++ {
		switch c := b[r]; c {
		case '+':
			b[w] = ' '
		case '%':
			if r+2 >= len(b) {
				return nil, false
			}
			hi, ok1 := unhex(b[r+1])
			lo, ok2 := unhex(b[r+2])
			if !ok1 || !ok2 {
				return nil, false
			}
			b[w] = hi<<4 | lo
			r += 2
		default:
			b[w] = c
		}
		w++
	}
	return b[:w], true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
