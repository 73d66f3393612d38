package token

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/url"
	"testing"

	"github.com/valyala/fasthttp"
)

// FuzzParseTokenRequest feeds the parameter parser arbitrary content types,
// bodies and query strings. It must never panic; when it accepts, no
// parameter has two values; a form body with a repeated parameter is
// always refused and one without is always accepted; and an accepted JSON
// body holds exactly what encoding/json reads from it.
func FuzzParseTokenRequest(f *testing.F) {
	for _, s := range []struct{ ct, body, query string }{
		{"application/x-www-form-urlencoded", "grant_type=client_credentials&client_id=a&client_secret=b", ""},
		{"application/x-www-form-urlencoded", "a=1&a=2", ""},
		{"application/x-www-form-urlencoded", "a=1&a=", "a=3"},
		{"application/x-www-form-urlencoded; charset=UTF-8", "scope=a+b%20c&x=%zz", "y=1"},
		{"application/json", `{"grant_type":"client_credentials","audience":"https:\/\/x\u00e9\ud83d\ude00","n":1.5e3,"b":true,"z":null}`, ""},
		{"application/json", `{"a":"1","a":"2"}`, ""},
		{"application/json", `{"a":{"b":1}}`, ""},
		{"application/json", `{"a":"\ud800\u0041"}`, ""},
		{"APPLICATION/JSON", ` { } `, "grant_type=x"},
		{"text/plain", "a=1", ""},
		{"", "", "grant_type=password&username=u"},
	} {
		f.Add(s.ct, []byte(s.body), []byte(s.query))
	}
	f.Fuzz(func(t *testing.T, ct string, body, query []byte) {
		var p paramParser
		oerr := p.parse([]byte(ct), body, query)
		if oerr != nil {
			if oerr.Code() != "invalid_request" || oerr.Description() == "" {
				t.Fatalf("error %+v", oerr)
			}
		} else {
			seen := map[string]bool{}
			for k, v := range p.args.All() {
				if len(v) == 0 {
					continue
				}
				if seen[string(k)] {
					t.Fatalf("accepted a repeated parameter %q", k)
				}
				seen[string(k)] = true
			}
		}

		mt := string(bytes.ToLower(mediaType([]byte(ct))))
		switch {
		case mt == "application/x-www-form-urlencoded" || len(body) == 0:
			var all fasthttp.Args
			if len(body) > 0 {
				all.ParseBytes(body)
			}
			var q fasthttp.Args
			q.ParseBytes(query)
			for k, v := range q.All() {
				all.AddBytesKV(k, v)
			}
			count := map[string]int{}
			n, dup := 0, false
			for k, v := range all.All() {
				if len(v) > 0 {
					count[string(k)]++
					dup = dup || count[string(k)] > 1
					n++
				}
			}
			if dup && oerr == nil {
				t.Fatal("a repeated parameter was accepted")
			}
			if !dup && n <= maxParams && oerr != nil {
				t.Fatalf("refused a form without repeats: %v", oerr)
			}
		case mt == "application/json" && oerr != nil:
			// encoding/json reads a flat object without repeats: so must we
			// (unless the query repeats one of its members).
			pairs, flat := jsonPairs(body)
			if !flat || len(query) > 0 || len(pairs) > maxParams {
				return
			}
			seen := map[string]bool{}
			for _, kv := range pairs {
				if kv[1] != "" && seen[kv[0]] {
					return
				}
				seen[kv[0]] = kv[1] != "" || seen[kv[0]]
			}
			t.Fatalf("refused %q, which encoding/json reads as %q: %v", body, pairs, oerr)
		case mt == "application/json" && oerr == nil:
			want, flat := jsonPairs(body)
			if !flat {
				t.Fatalf("accepted %q, which encoding/json does not read as a flat object", body)
			}
			var got [][2]string
			for k, v := range p.args.All() {
				got = append(got, [2]string{string(k), string(v)})
			}
			got = got[:min(len(got), len(want))] // the query's come after
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("member %d: parsed %q, encoding/json reads %q", i, got[i], want[i])
				}
			}
		}
	})
}

// jsonPairs reads a JSON object's members with encoding/json, in order,
// leaving out nulls; flat is false when body is not valid JSON or not an
// object of strings, numbers, booleans and nulls.
func jsonPairs(body []byte) (pairs [][2]string, flat bool) {
	if !json.Valid(body) {
		return nil, false
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	for d.More() {
		k, err := d.Token()
		if err != nil {
			return nil, false
		}
		v, err := d.Token()
		if err != nil {
			return nil, false
		}
		var s string
		switch v := v.(type) {
		case nil:
			continue
		case string:
			s = v
		case json.Number:
			s = v.String()
		case bool:
			s = map[bool]string{true: "true", false: "false"}[v]
		default:
			return nil, false
		}
		pairs = append(pairs, [2]string{k.(string), s})
	}
	if _, err := d.Token(); err != nil && err != io.EOF {
		return nil, false
	}
	return pairs, true
}

// FuzzBasicAuth feeds the Basic credentials parser arbitrary headers (it
// must never panic, and an accepted header has a client id) and arbitrary
// credentials encoded the way RFC 6749 §2.3.1 says (they must come back
// unchanged).
func FuzzBasicAuth(f *testing.F) {
	f.Add("Basic Y2xpZW50OnNlY3JldA==", "client", "secret")
	f.Add("basic   Y2xpZW50OnNlY3JldA", "basic client:é+/%", "s3cr3t:+ %&=é/?")
	f.Add("Bearer x", "a", "")
	f.Add("Basic %%%", "", "x")
	f.Add("Basic "+base64.StdEncoding.EncodeToString([]byte("a%zz:b")), "a b", "c+d")
	f.Fuzz(func(t *testing.T, header, id, secret string) {
		gotID, _, _, err := parseBasic([]byte(header), nil)
		if err == nil && len(gotID) == 0 {
			t.Fatal("accepted credentials without a client id")
		}

		enc := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
		buf := make([]byte, 8)
		gotID, gotSecret, _, err := parseBasic([]byte(enc), buf)
		switch {
		case len(enc) > maxBasicHeader:
			if err == nil {
				t.Fatal("accepted an oversized header")
			}
		case id == "":
			if err == nil {
				t.Fatal("accepted an empty client id")
			}
		case err != nil:
			t.Fatalf("parseBasic(%q): %v", enc, err)
		case string(gotID) != id || string(gotSecret) != secret:
			t.Fatalf("round trip: got %q:%q, want %q:%q", gotID, gotSecret, id, secret)
		}
	})
}
