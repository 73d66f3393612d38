package store

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// countingBody is a request body of n bytes that records how many were read.
type countingBody struct {
	left, read int
}

func (b *countingBody) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), b.left)
	clear(p[:n])
	b.left -= n
	b.read += n
	return n, nil
}

func (b *countingBody) Close() error { return nil }

// A request whose signature header is missing, malformed or outside the
// time window is refused before a byte of its body is read: an
// unauthenticated caller cannot make a node read MaxInternalBody for free.
func TestVerifyRequestChecksHeaderBeforeBody(t *testing.T) {
	const url = "http://node-a.example:9001/internal/v1/store/apply"
	const size = 4 << 20
	signed := func(at time.Time) string {
		r, _ := http.NewRequest(http.MethodPost, url, nil)
		signRequestWith(r, authSecret, []byte("txn"), at, testNonce(0xcd))
		return r.Header.Get("Authorization")
	}
	tests := []struct {
		name, header, refused string
		wantRead              bool
	}{
		{name: "no header", refused: notSigned},
		{name: "another scheme", header: "Bearer x", refused: notSigned},
		{name: "malformed", header: clusterAuthScheme + " ts=abc,nonce=" + strings.Repeat("ab", nonceLen) + ",sig=00", refused: notSigned},
		{name: "nonce not hex", header: clusterAuthScheme + " ts=1700000000,nonce=" + strings.Repeat("zz", nonceLen) + ",sig=00", refused: notSigned},
		{name: "expired", header: signed(authT0.Add(-clockSkew - time.Second)), refused: notNow},
		{name: "from the future", header: signed(authT0.Add(clockSkew + time.Second)), refused: notNow},
		// A current header is worth reading the body for: the HMAC covers it.
		{name: "current, wrong signature", header: signed(authT0), refused: notSigned, wantRead: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := &countingBody{left: size}
			r, err := http.NewRequest(http.MethodPost, url, body)
			if err != nil {
				t.Fatal(err)
			}
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			_, err = verifyRequestOnce(r, authSecret, authT0, newNonceCache(maxNonces))
			checkVerdict(t, err, tc.refused)
			if tc.wantRead != (body.read > 0) {
				t.Fatalf("read %d bytes of the body; want read: %v", body.read, tc.wantRead)
			}
		})
	}
}

// The 401 of a request signed outside the window does not tell the caller
// how far this node's clock is from its own.
func TestInternalHandlerHidesClockOffset(t *testing.T) {
	n := openAuthNode(t)
	srv := httptest.NewServer(n.InternalHandler())
	defer srv.Close()

	for _, offset := range []time.Duration{-90 * time.Minute, 2*clockSkew + 17*time.Second} {
		body := &countingBody{left: 4 << 20}
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/internal/v1/store/apply", body)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = 4 << 20
		signRequest(req, authSecret, []byte("txn"), time.Now().Add(-offset))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("offset %s: status %d, want 401: %s", offset, resp.StatusCode, got)
		}
		if !bytes.Contains(got, []byte(notNow)) {
			t.Fatalf("offset %s: body %s does not say why", offset, got)
		}
		// The refusal's text has no number in it: any digit is the offset
		// (or the clock) leaking.
		if bytes.ContainsAny(got, "0123456789") {
			t.Fatalf("offset %s: 401 body %s gives a number (the clock offset?)", offset, got)
		}
	}
}
