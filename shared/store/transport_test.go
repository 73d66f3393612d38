package store

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func layerPair(t *testing.T, serverSecret, clientSecret []byte, serverTLS, clientTLS *tls.Config) (*authLayer, *authLayer) {
	t.Helper()
	srv, err := newAuthLayer("127.0.0.1:0", "", serverSecret, serverTLS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cli, err := newAuthLayer("127.0.0.1:0", "", clientSecret, clientTLS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return srv, cli
}

// echoOnce accepts one connection and echoes what it reads until EOF.
func echoOnce(srv *authLayer) <-chan error {
	done := make(chan error, 1)
	go func() {
		c, err := srv.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		_, err = io.Copy(c, c)
		done <- err
	}()
	return done
}

func TestTransportHandshake(t *testing.T) {
	serverConf, clientConf := testTLS(t)
	tests := []struct {
		name                 string
		serverSec, clientSec string
		serverTLS, clientTLS *tls.Config
		ok                   bool
	}{
		{"same secret", "s3cret", "s3cret", nil, nil, true},
		{"wrong secret", "s3cret", "guess", nil, nil, false},
		{"same secret over TLS", "s3cret", "s3cret", serverConf, clientConf, true},
		{"wrong secret over TLS", "s3cret", "guess", serverConf, clientConf, false},
		{"plain client, TLS server", "s3cret", "s3cret", serverConf, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, cli := layerPair(t, []byte(tc.serverSec), []byte(tc.clientSec), tc.serverTLS, tc.clientTLS)
			served := echoOnce(srv)
			conn, err := cli.Dial(raft.ServerAddress(srv.Addr().String()), 2*time.Second)
			if !tc.ok {
				if err == nil {
					conn.Close()
					t.Fatal("dial succeeded")
				}
				if err := <-served; !errors.Is(err, ErrClusterAuth) {
					t.Fatalf("server side: %v, want ErrClusterAuth", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.Write([]byte("raft rpc"))
			buf := make([]byte, 8)
			if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "raft rpc" {
				t.Fatalf("echo: %q %v", buf, err)
			}
		})
	}
}

// A peer that never sends the handshake cannot reach the Raft RPC layer.
func TestTransportRejectsRawPeers(t *testing.T) {
	srv, _ := layerPair(t, []byte("s3cret"), []byte("s3cret"), nil, nil)
	served := echoOnce(srv)
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	hello := make([]byte, len(raftMagic)+32)
	io.ReadFull(c, hello)
	c.Write(make([]byte, 64)) // a wrong proof
	c.Close()
	if err := <-served; !errors.Is(err, ErrClusterAuth) {
		t.Fatalf("server: %v, want ErrClusterAuth", err)
	}
}

func TestTransportRefusesUnroutableAdvertise(t *testing.T) {
	if _, err := newAuthLayer("0.0.0.0:0", "", []byte("s"), nil); err == nil {
		t.Fatal("0.0.0.0 accepted as the advertised Raft address")
	}
	if _, err := newAuthLayer("127.0.0.1:0", "", nil, nil); err == nil {
		t.Fatal("empty cluster secret accepted")
	}
}

// testTLS makes a CA and one certificate for 127.0.0.1 that serves as both
// the server's and the client's, as every node of a cluster would have.
func testTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "authok test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "node"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	conf := &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
	return conf, conf.Clone()
}
