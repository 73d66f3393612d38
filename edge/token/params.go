package token

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/authok-edge/authok/shared/oauth2"
)

// maxParams bounds how many parameters a token request may carry; no grant
// needs a tenth of it.
const maxParams = 64

var (
	mediaForm = []byte("application/x-www-form-urlencoded")
	mediaJSON = []byte("application/json")
)

// paramParser turns a token request into one list of parameters. It is
// reused across requests (pooled with the request), so after warm-up a
// form or JSON request is parsed without allocating: fasthttp.Args keeps
// its key and value buffers.
type paramParser struct {
	args    fasthttp.Args // the parameters: body first, then the query string
	query   fasthttp.Args
	scratch []byte // unescaped JSON strings
	keys    [maxParams][]byte
}

// parse reads the parameters of a token request: the body, as
// application/x-www-form-urlencoded (RFC 6749 §4.4.2, Appendix B) or
// application/json (API.md A.1), then the query string as a last resort
// (API.md B.4: seed 000 lists the parameters in the query). A parameter
// given twice, in the body or across body and query, is an invalid_request
// (RFC 6749 §3.2); an empty value counts as absent (§3.2) and is not a
// duplicate. The parsed values live until the next parse.
func (p *paramParser) parse(contentType, body, query []byte) *oauth2.Error {
	p.args.Reset()
	if len(body) > 0 {
		switch mt := mediaType(contentType); {
		case bytes.EqualFold(mt, mediaForm):
			p.args.ParseBytes(body)
		case bytes.EqualFold(mt, mediaJSON):
			if err := p.parseJSON(body); err != nil {
				return err
			}
		case len(mt) == 0:
			return oauth2.ErrInvalidRequest.With("a request body needs a Content-Type: application/x-www-form-urlencoded or application/json")
		default:
			return oauth2.ErrInvalidRequest.With("unsupported Content-Type: use application/x-www-form-urlencoded or application/json")
		}
	}
	if len(query) > 0 {
		p.query.ParseBytes(query)
		for k, v := range p.query.All() {
			// Secrets in a URL end up in logs and browser history: RFC 6749
			// §2.3.1 forbids client credentials in the request URI.
			if len(v) > 0 && (bytes.Equal(k, []byte("client_secret")) || bytes.Equal(k, []byte("client_assertion"))) {
				return oauth2.ErrInvalidRequest.Withf("%s must be sent in the request body, never in the URL (RFC 6749 §2.3.1)", k)
			}
			p.args.AddBytesKV(k, v)
		}
	}
	return p.checkDuplicates()
}

// checkDuplicates rejects a parameter given more than once with a value.
func (p *paramParser) checkDuplicates() *oauth2.Error {
	n := 0
	for k, v := range p.args.All() {
		if len(v) == 0 {
			continue
		}
		if n == maxParams {
			return oauth2.ErrInvalidRequest.With("too many parameters")
		}
		for _, seen := range p.keys[:n] {
			if bytes.Equal(seen, k) {
				return oauth2.ErrInvalidRequest.Withf("parameter %q is given more than once (RFC 6749 §3.2)", printable(k))
			}
		}
		p.keys[n] = k
		n++
	}
	clear(p.keys[:n])
	return nil
}

// get returns a parameter's value; nil when absent or empty. An empty
// copy is absent (§3.2), so it never hides the one copy with a value
// (checkDuplicates allows only one). The slice is valid until the next
// parse.
func (p *paramParser) get(name string) []byte {
	for k, v := range p.args.All() {
		if len(v) > 0 && string(k) == name {
			return v
		}
	}
	return nil
}

// mediaType returns the media type of a Content-Type value, without
// parameters and surrounding space.
func mediaType(ct []byte) []byte {
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return bytes.TrimSpace(ct)
}

// printable shortens and sanitises a client-supplied name for an error
// description.
func printable(b []byte) string {
	const max = 64
	if len(b) > max {
		b = b[:max]
	}
	return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
}

// parseJSON reads a JSON object whose members are the parameters: string
// values unescaped, numbers and true/false as their literal text (some
// clients send expires or flags unquoted), null as absent. Nested objects
// and arrays are refused: no token parameter is structured. The grammar is
// RFC 8259's; anything encoding/json would reject is refused.
func (p *paramParser) parseJSON(b []byte) *oauth2.Error {
	d := jsonDecoder{b: b, scratch: p.scratch[:0]}
	defer func() { p.scratch = d.scratch[:0] }()
	d.ws()
	if !d.consume('{') {
		return errMalformedJSON
	}
	d.ws()
	if d.consume('}') {
		return d.end()
	}
	for {
		d.ws()
		// Decoded strings are slices of b or of scratch; a later append
		// to scratch never overwrites an earlier one (it writes past it, or
		// into a new array), so key stays valid while the value decodes.
		mark := len(d.scratch)
		key, ok := d.str()
		if !ok {
			return errMalformedJSON
		}
		d.ws()
		if !d.consume(':') {
			return errMalformedJSON
		}
		d.ws()
		var val []byte
		null := false
		switch c := d.peek(); {
		case c == '"':
			val, ok = d.str()
		case c == '{' || c == '[':
			return oauth2.ErrInvalidRequest.Withf("parameter %q must be a string", printable(key))
		case c == 't':
			val, ok = d.literal("true")
		case c == 'f':
			val, ok = d.literal("false")
		case c == 'n':
			_, ok = d.literal("null")
			null = true
		default:
			val, ok = d.number()
		}
		if !ok {
			return errMalformedJSON
		}
		if !null {
			p.args.AddBytesKV(key, val) // copies
		}
		d.scratch = d.scratch[:mark]
		d.ws()
		if d.consume(',') {
			continue
		}
		if d.consume('}') {
			return d.end()
		}
		return errMalformedJSON
	}
}

var errMalformedJSON = oauth2.ErrInvalidRequest.With("the request body is not a valid JSON object")

// jsonDecoder is a cursor over a JSON text. Decoded strings that need
// unescaping are written to scratch; the others are slices of b.
type jsonDecoder struct {
	b       []byte
	i       int
	scratch []byte
}

func (d *jsonDecoder) peek() byte {
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

func (d *jsonDecoder) consume(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *jsonDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// end accepts only trailing white space.
func (d *jsonDecoder) end() *oauth2.Error {
	d.ws()
	if d.i != len(d.b) {
		return errMalformedJSON
	}
	return nil
}

func (d *jsonDecoder) literal(lit string) ([]byte, bool) {
	if len(d.b)-d.i < len(lit) || string(d.b[d.i:d.i+len(lit)]) != lit {
		return nil, false
	}
	v := d.b[d.i : d.i+len(lit)]
	d.i += len(lit)
	return v, true
}

// number scans an RFC 8259 §6 number and returns its text.
func (d *jsonDecoder) number() ([]byte, bool) {
	start := d.i
	d.consume('-')
	switch {
	case d.consume('0'):
	case d.i < len(d.b) && d.b[d.i] >= '1' && d.b[d.i] <= '9':
		d.digits()
	default:
		return nil, false
	}
	if d.consume('.') {
		if d.digits() == 0 {
			return nil, false
		}
	}
	if d.consume('e') || d.consume('E') {
		if !d.consume('+') {
			d.consume('-')
		}
		if d.digits() == 0 {
			return nil, false
		}
	}
	return d.b[start:d.i], true
}

func (d *jsonDecoder) digits() int {
	n := 0
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
		n++
	}
	return n
}

// str scans a string at the cursor and returns its value. Without escapes
// the value is a slice of b; otherwise it is appended to scratch. Invalid
// UTF-8 and lone surrogates become U+FFFD, as encoding/json decodes them.
func (d *jsonDecoder) str() ([]byte, bool) {
	if !d.consume('"') {
		return nil, false
	}
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			v := d.b[start:d.i]
			d.i++
			if !utf8.Valid(v) {
				n := len(d.scratch)
				d.scratch = appendValid(d.scratch, v)
				return d.scratch[n:], true
			}
			return v, true
		case c == '\\':
			return d.strSlow(start)
		case c < 0x20:
			return nil, false
		}
		d.i++
	}
	return nil, false
}

func (d *jsonDecoder) strSlow(start int) ([]byte, bool) {
	n := len(d.scratch)
	d.scratch = appendValid(d.scratch, d.b[start:d.i])
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return d.scratch[n:], true
		case c < 0x20:
			return nil, false
		case c != '\\':
			j := d.i
			for j < len(d.b) && d.b[j] != '"' && d.b[j] != '\\' && d.b[j] >= 0x20 {
				j++
			}
			d.scratch = appendValid(d.scratch, d.b[d.i:j])
			d.i = j
			continue
		}
		// An escape.
		if d.i+1 >= len(d.b) {
			return nil, false
		}
		e := d.b[d.i+1]
		d.i += 2
		switch e {
		case '"', '\\', '/':
			d.scratch = append(d.scratch, e)
		case 'b':
			d.scratch = append(d.scratch, '\b')
		case 'f':
			d.scratch = append(d.scratch, '\f')
		case 'n':
			d.scratch = append(d.scratch, '\n')
		case 'r':
			d.scratch = append(d.scratch, '\r')
		case 't':
			d.scratch = append(d.scratch, '\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return nil, false
			}
			if utf16.IsSurrogate(r) {
				// A high surrogate followed by an escaped low one is one
				// character; anything else is a lone surrogate.
				r2 := rune(utf8.RuneError)
				if d.i+1 < len(d.b) && d.b[d.i] == '\\' && d.b[d.i+1] == 'u' {
					save := d.i
					d.i += 2
					lo, ok := d.hex4()
					if !ok {
						return nil, false
					}
					if dec := utf16.DecodeRune(r, lo); dec != utf8.RuneError {
						r2 = dec
					} else {
						d.i = save // decode the second escape on its own
					}
				}
				r = r2
			}
			d.scratch = utf8.AppendRune(d.scratch, r)
		default:
			return nil, false
		}
	}
	return nil, false
}

func (d *jsonDecoder) hex4() (rune, bool) {
	if len(d.b)-d.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range d.b[d.i : d.i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	d.i += 4
	return r, true
}

// appendValid appends b with each byte of invalid UTF-8 replaced by
// U+FFFD, as encoding/json decodes strings.
func appendValid(dst, b []byte) []byte {
	if utf8.Valid(b) {
		return append(dst, b...)
	}
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, b[:size]...)
		}
		b = b[size:]
	}
	return dst
}
