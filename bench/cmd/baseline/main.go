// Command baseline is the floor a token endpoint can reach on a machine: a
// bare fasthttp server that answers every POST with one fresh raw signature
// in a token-sized JSON body, and every GET with a canned body of a chosen
// size (a JWKS stand-in). No routing, no parsing, no store, no metrics.
//
// Drive it and `authok dev` with the same generator (wrk, see
// bench/README.md) and compare the servers' CPU per request: what authok
// spends above the baseline is the cost of its own code; the baseline's
// own CPU per request, against one in-process signature, is how close to
// 1.0 any server on this machine and kernel can get.
//
//	go run ./bench/cmd/baseline --listen 127.0.0.1:18600 --alg ES256
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/valyala/fasthttp"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18600", "address to listen on (loopback)")
	alg := flag.String("alg", "ES256", "signature per POST: ES256 or RS256")
	getBytes := flag.Int("get-bytes", 8400, "body size of every GET answer (8.4 KB: authok's default JWKS)")
	flag.Parse()
	if err := run(*listen, *alg, *getBytes); err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

func run(listen, alg string, getBytes int) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil || net.ParseIP(host) == nil || !net.ParseIP(host).IsLoopback() {
		return fmt.Errorf("--listen %q: want a loopback ip:port", listen)
	}
	var signer crypto.Signer
	var opts crypto.SignerOpts = crypto.SHA256
	switch alg {
	case "ES256":
		signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "RS256":
		signer, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return fmt.Errorf("--alg %q: want ES256 or RS256", alg)
	}
	if err != nil {
		return err
	}
	// A token-sized signing input: header.payload of an E.1 access token.
	input := []byte(strings.Repeat("x", 420))
	canned := []byte(strings.Repeat("k", getBytes))
	handler := func(ctx *fasthttp.RequestCtx) {
		if !ctx.IsPost() {
			ctx.SetContentType("application/json")
			ctx.SetBody(canned)
			return
		}
		digest := sha256.Sum256(input)
		sig, err := signer.Sign(rand.Reader, digest[:], opts)
		if err != nil {
			ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
			return
		}
		body := make([]byte, 0, 1024)
		body = append(body, `{"access_token":"`...)
		body = append(body, input...)
		body = append(body, '.')
		body = base64.RawURLEncoding.AppendEncode(body, sig)
		body = append(body, `","token_type":"Bearer","expires_in":86400}`...)
		ctx.Response.Header.Set("Cache-Control", "no-store")
		ctx.SetContentType("application/json")
		ctx.SetBody(body)
	}
	s := &fasthttp.Server{Handler: handler, WriteBufferSize: 16 << 10, NoDefaultServerHeader: true}
	fmt.Printf("baseline: %s signing %s, GET bodies of %d bytes, pid %d\n", listen, alg, getBytes, os.Getpid())
	return s.ListenAndServe(listen)
}
