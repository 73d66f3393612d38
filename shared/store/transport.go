package store

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// authLayer is the Raft stream layer: TCP, optionally TLS, and a mutual
// challenge-response on the cluster secret before any Raft RPC flows, so a
// peer that does not hold the secret can neither join the conversation nor
// impersonate a member.
//
//	server -> client: magic(8) nonceS(32)
//	client -> server: HMAC(secret, "client"|nonceS)(32) nonceC(32)
//	server -> client: HMAC(secret, "server"|nonceC)(32)
type authLayer struct {
	ln        net.Listener
	advertise net.Addr
	secret    []byte
	tls       *tls.Config
}

var _ raft.StreamLayer = (*authLayer)(nil)

var raftMagic = []byte("AKRAFT1\n")

const handshakeTimeout = 5 * time.Second

// ErrClusterAuth is returned when a peer fails the cluster-secret handshake.
var ErrClusterAuth = errors.New("store: cluster authentication failed")

func newAuthLayer(bind, advertise string, secret []byte, tlsConf *tls.Config) (*authLayer, error) {
	if len(secret) == 0 {
		return nil, errors.New("store: a cluster secret is required for the Raft transport")
	}
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("store: listen for raft on %s: %w", bind, err)
	}
	var adv net.Addr = ln.Addr()
	if advertise != "" {
		a, err := net.ResolveTCPAddr("tcp", advertise)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("store: raft advertise address %q: %w", advertise, err)
		}
		adv = a
	}
	if tcp, ok := adv.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		ln.Close()
		return nil, fmt.Errorf("store: raft address %s is not routable; give a concrete IP to advertise", adv)
	}
	return &authLayer{ln: ln, advertise: adv, secret: secret, tls: tlsConf}, nil
}

func (l *authLayer) Accept() (net.Conn, error) {
	c, err := l.ln.Accept()
	if err != nil {
		return nil, err
	}
	if l.tls != nil {
		c = tls.Server(c, l.tls)
	}
	// The handshake runs on the connection's first Read, in the transport's
	// per-connection goroutine, so a slow peer never stalls Accept.
	return &serverConn{Conn: c, secret: l.secret}, nil
}

func (l *authLayer) Close() error   { return l.ln.Close() }
func (l *authLayer) Addr() net.Addr { return l.advertise }

func (l *authLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	c, err := d.Dial("tcp", string(address))
	if err != nil {
		return nil, err
	}
	if l.tls != nil {
		conf := l.tls.Clone()
		if conf.ServerName == "" {
			host, _, _ := net.SplitHostPort(string(address))
			conf.ServerName = host
		}
		c = tls.Client(c, conf)
	}
	if err := clientHandshake(c, l.secret); err != nil {
		c.Close()
		return nil, fmt.Errorf("store: raft dial %s: %w", address, err)
	}
	return c, nil
}

func mac(secret []byte, label string, nonce []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(label))
	h.Write(nonce)
	return h.Sum(nil)
}

func clientHandshake(c net.Conn, secret []byte) error {
	c.SetDeadline(time.Now().Add(handshakeTimeout))
	defer c.SetDeadline(time.Time{})
	hello := make([]byte, len(raftMagic)+32)
	if _, err := io.ReadFull(c, hello); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	if !hmac.Equal(hello[:len(raftMagic)], raftMagic) {
		return errors.New("handshake: peer is not an authok raft endpoint")
	}
	nonceC := make([]byte, 32)
	if _, err := rand.Read(nonceC); err != nil {
		return err
	}
	if _, err := c.Write(append(mac(secret, "client", hello[len(raftMagic):]), nonceC...)); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	proof := make([]byte, 32)
	if _, err := io.ReadFull(c, proof); err != nil {
		return fmt.Errorf("handshake: %w (wrong cluster secret?)", ErrClusterAuth)
	}
	if !hmac.Equal(proof, mac(secret, "server", nonceC)) {
		return ErrClusterAuth
	}
	return nil
}

type serverConn struct {
	net.Conn
	secret []byte
	once   sync.Once
	err    error
}

func (c *serverConn) Read(p []byte) (int, error) {
	c.once.Do(c.authenticate)
	if c.err != nil {
		return 0, c.err
	}
	return c.Conn.Read(p)
}

func (c *serverConn) Write(p []byte) (int, error) {
	c.once.Do(c.authenticate)
	if c.err != nil {
		return 0, c.err
	}
	return c.Conn.Write(p)
}

// authenticate runs the handshake once. Its failure is never a bare io.EOF
// (a peer that hangs up mid-handshake): readers must not take a refused
// peer for a clean end of stream.
func (c *serverConn) authenticate() {
	if err := c.handshake(); err != nil {
		c.Conn.Close()
		if !errors.Is(err, ErrClusterAuth) {
			err = fmt.Errorf("%w: %w", ErrClusterAuth, err)
		}
		c.err = err
	}
}

func (c *serverConn) handshake() error {
	c.Conn.SetDeadline(time.Now().Add(handshakeTimeout))
	defer c.Conn.SetDeadline(time.Time{})
	nonceS := make([]byte, 32)
	if _, err := rand.Read(nonceS); err != nil {
		return err
	}
	if _, err := c.Conn.Write(append(append([]byte(nil), raftMagic...), nonceS...)); err != nil {
		return err
	}
	reply := make([]byte, 64)
	if _, err := io.ReadFull(c.Conn, reply); err != nil {
		return err
	}
	if !hmac.Equal(reply[:32], mac(c.secret, "client", nonceS)) {
		c.Conn.Close()
		return ErrClusterAuth
	}
	_, err := c.Conn.Write(mac(c.secret, "server", reply[32:]))
	return err
}
