package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Internal HTTP calls between nodes (forwarded writes, joins, status) are
// signed with the cluster secret: HMAC-SHA256 over the method, the path,
// a timestamp and the body's hash, in the header
//
//	Authorization: AuthokCluster ts=<unix seconds>,sig=<hex>
//
// A signature is accepted for clockSkew either side of the receiver's clock.
// Use TLS between nodes on untrusted networks: the signature authenticates a
// request but does not hide it.
const (
	clusterAuthScheme = "AuthokCluster"
	clockSkew         = 60 * time.Second
	// MaxInternalBody bounds an internal request body (a forwarded transaction).
	MaxInternalBody = 32 << 20
)

func signature(secret []byte, method, path string, ts int64, body []byte) string {
	sum := sha256.Sum256(body)
	h := hmac.New(sha256.New, secret)
	fmt.Fprintf(h, "%s\n%s\n%d\n%x", method, path, ts, sum)
	return hex.EncodeToString(h.Sum(nil))
}

// signRequest sets the Authorization header of an internal request.
func signRequest(r *http.Request, secret, body []byte, now time.Time) {
	ts := now.Unix()
	r.Header.Set("Authorization", fmt.Sprintf("%s ts=%d,sig=%s", clusterAuthScheme, ts, signature(secret, r.Method, r.URL.EscapedPath(), ts, body)))
}

var errUnsigned = errors.New("store: internal request without a valid cluster signature")

// verifyRequest reads the body (bounded) and checks the signature.
func verifyRequest(r *http.Request, secret []byte, now time.Time) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxInternalBody+1))
	if err != nil {
		return nil, fmt.Errorf("store: read internal request: %w", err)
	}
	if len(body) > MaxInternalBody {
		return nil, fmt.Errorf("store: internal request body exceeds %d bytes", MaxInternalBody)
	}
	h := r.Header.Get("Authorization")
	rest, ok := bytes.CutPrefix([]byte(h), []byte(clusterAuthScheme+" ts="))
	if !ok {
		return nil, errUnsigned
	}
	tsPart, sig, ok := bytes.Cut(rest, []byte(",sig="))
	if !ok {
		return nil, errUnsigned
	}
	ts, err := strconv.ParseInt(string(tsPart), 10, 64)
	if err != nil {
		return nil, errUnsigned
	}
	if d := now.Sub(time.Unix(ts, 0)); d > clockSkew || d < -clockSkew {
		return nil, fmt.Errorf("store: internal request signed %s away from this node's clock", d.Round(time.Second))
	}
	want := signature(secret, r.Method, r.URL.EscapedPath(), ts, body)
	if !hmac.Equal(sig, []byte(want)) {
		return nil, errUnsigned
	}
	return body, nil
}
