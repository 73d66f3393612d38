package proxy

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unsafe"

	"github.com/valyala/fasthttp"
)

func TestConfigValidate(t *testing.T) {
	h := http.NotFoundHandler()
	tests := []struct {
		name    string
		cfg     Config
		wantErr []string // empty: valid
	}{
		{name: "in-process", cfg: Config{Handler: h}},
		{name: "one URL", cfg: Config{URLs: []string{"http://10.0.0.1:8080"}}},
		{name: "several URLs, default port", cfg: Config{URLs: []string{"http://a", "http://b:81/"}}},
		{name: "https", cfg: Config{URLs: []string{"https://ctl.internal"}}},
		{name: "neither", cfg: Config{}, wantErr: []string{"no control plane"}},
		{name: "both", cfg: Config{Handler: h, URLs: []string{"http://a:1"}}, wantErr: []string{"not both"}},
		{name: "every bad URL reported", cfg: Config{URLs: []string{"a:1", "http://u:p@a:1", "http://a:1/x", "http://a:1?q", "%zz"}},
			wantErr: []string{`"a:1"`, "credentials", `"http://a:1/x"`, `"http://a:1?q"`, `"%zz"`}},
		{name: "mixed schemes", cfg: Config{URLs: []string{"http://a:1", "https://b:1"}}, wantErr: []string{"differs"}},
		{name: "negative timeout", cfg: Config{Handler: h, Timeout: -1}, wantErr: []string{"negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate: nil error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestTargets(t *testing.T) {
	addrs, scheme, err := Config{URLs: []string{"http://a", "http://b:81/", "http://[::1]:82"}}.targets()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(addrs, ","); got != "a:80,b:81,[::1]:82" || scheme != "http" {
		t.Fatalf("targets = %q %q", got, scheme)
	}
}

// readRequest parses raw into a RequestCtx as the server would.
func readRequest(t *testing.T, raw string, remote string) *fasthttp.RequestCtx {
	t.Helper()
	var ctx fasthttp.RequestCtx
	var req fasthttp.Request
	if err := req.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		t.Fatalf("read request: %v", err)
	}
	addr, err := net.ResolveTCPAddr("tcp", remote)
	if err != nil {
		t.Fatal(err)
	}
	ctx.Init(&req, addr, nil)
	return &ctx
}

func TestPrepare(t *testing.T) {
	const head = "GET /x?y=1 HTTP/1.1\r\nHost: acme.example\r\n"
	tests := []struct {
		name   string
		trust  bool
		remote string
		extra  string            // more header lines
		want   map[string]string // header -> value ("" = absent)
	}{
		{
			name: "untrusted: forwarding headers replaced", remote: "203.0.113.9:5000",
			extra: "X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\nForwarded: for=1.2.3.4\r\nX-Real-Ip: 1.2.3.4\r\n",
			want: map[string]string{
				"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "acme.example",
				"Forwarded": "", "X-Real-Ip": "", "Host": "acme.example",
			},
		},
		{
			name: "trusted: appended and kept", trust: true, remote: "10.0.0.2:5000",
			extra: "X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-For: 5.6.7.8\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: login.acme.example\r\n",
			want: map[string]string{
				"X-Forwarded-For": "1.2.3.4, 5.6.7.8, 10.0.0.2", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "login.acme.example",
			},
		},
		{
			name: "trusted without prior headers", trust: true, remote: "10.0.0.2:5000",
			want: map[string]string{"X-Forwarded-For": "10.0.0.2", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "acme.example"},
		},
		{
			name: "IPv6 and IPv4-mapped peers", remote: "[::ffff:192.0.2.1]:1",
			want: map[string]string{"X-Forwarded-For": "192.0.2.1"},
		},
		{
			name: "hop-by-hop, and what Connection names, but never Host", remote: "[2001:db8::1]:1",
			extra: "Connection: keep-alive, X-A, Host, x-b\r\nX-A: 1\r\nX-B: 2\r\nX-C: 3\r\nKeep-Alive: 5\r\nProxy-Authorization: x\r\nTe: trailers\r\nUpgrade: websocket\r\nProxy-Connection: keep-alive\r\n",
			want: map[string]string{
				"X-A": "", "X-B": "", "X-C": "3", "Keep-Alive": "", "Proxy-Authorization": "", "Te": "", "Upgrade": "",
				"Proxy-Connection": "", "Connection": "", "Host": "acme.example", "X-Forwarded-For": "2001:db8::1",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := readRequest(t, head+tt.extra+"\r\n", tt.remote)
			p := &Proxy{trust: tt.trust}
			p.prepare(ctx)
			for k, want := range tt.want {
				if got := string(ctx.Request.Header.Peek(k)); got != want {
					t.Errorf("%s = %q, want %q\n%s", k, got, want, ctx.Request.Header.String())
				}
			}
		})
	}
}

func TestRemoveHopByHopFromResponse(t *testing.T) {
	var resp fasthttp.Response
	raw := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close, X-Private\r\nX-Private: 1\r\nKeep-Alive: timeout=5\r\nX-Kept: 1\r\n\r\nok"
	if err := resp.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		t.Fatal(err)
	}
	removeHopByHop(&resp.Header)
	for k, want := range map[string]string{"X-Private": "", "Keep-Alive": "", "X-Kept": "1"} {
		if got := string(resp.Header.Peek(k)); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if resp.ConnectionClose() {
		t.Error("the control plane's Connection: close would close the client's connection")
	}
}

func TestIsTimeout(t *testing.T) {
	dialTimeout := fmt.Errorf("wrapped: %w", &fasthttp.ErrDialWithUpstream{Upstream: "a:1"})
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "request timeout", err: fasthttp.ErrTimeout, want: true},
		{name: "read timeout", err: &net.OpError{Op: "read", Err: timeoutErr{}}, want: true},
		{name: "dial failure is unreachable, not slow", err: dialTimeout, want: false},
		{name: "connection refused", err: errors.New("connection refused"), want: false},
		{name: "closed", err: fasthttp.ErrConnectionClosed, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isTimeout(tt.err); got != tt.want {
				t.Fatalf("isTimeout(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestDetachRequestOwnsItsStrings(t *testing.T) {
	// The adaptor's strings alias fasthttp's buffer, which is reused once
	// the handler returns; unsafe.String reproduces that here.
	buf := []byte("PATCH/api/v1/users/authok%7C1?fields=a,bacme.exampleHTTP/1.1X-Idabc")
	alias := unsafe.String(&buf[0], len(buf))
	r := &http.Request{
		Method:     alias[0:5],
		RequestURI: alias[5:40],
		Host:       alias[40:52],
		Proto:      alias[52:60],
		Header:     http.Header{alias[60:64]: {alias[64:67]}, "Host": {alias[40:52]}},
	}
	var err error
	if r.URL, err = url.ParseRequestURI(r.RequestURI); err != nil {
		t.Fatal(err)
	}
	d := detachRequest(r)
	for i := range buf { // fasthttp reads the next request into the buffer
		buf[i] = '#'
	}
	if r.Method != "#####" {
		t.Fatalf("test is broken: the original request does not alias the buffer (%q)", r.Method)
	}
	got := fmt.Sprintf("%s %s %s %s %s %s %v", d.Method, d.RequestURI, d.Host, d.Proto, d.URL.Path, d.URL.RawQuery, map[string][]string(d.Header))
	want := "PATCH /api/v1/users/authok%7C1?fields=a,b acme.example HTTP/1.1 /api/v1/users/authok|1 fields=a,b map[X-Id:[abc]]"
	if got != want {
		t.Fatalf("detached request:\n got %s\nwant %s", got, want)
	}
}
