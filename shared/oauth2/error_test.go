package oauth2

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestErrorBody(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  *Error
		want string
	}{
		{"code only", ErrServerError, `{"error":"server_error"}`},
		{"description", ErrInvalidRequest.With("grant_type is required"), `{"error":"invalid_request","error_description":"grant_type is required"}`},
		{"formatted", ErrInvalidTarget.Withf("no API with identifier %q", "https://x/"), `{"error":"invalid_target","error_description":"no API with identifier \"https://x/\""}`},
		{"uri", ErrInvalidScope.With("d").WithURI("https://docs.test/scope?a=1&b=<2>"), `{"error":"invalid_scope","error_description":"d","error_uri":"https://docs.test/scope?a=1&b=<2>"}`},
		{"uri without description", ErrAccessDenied.WithURI("https://d/"), `{"error":"access_denied","error_uri":"https://d/"}`},
		// The debug text is for the tenant's log only.
		{"debug stays out", ErrInvalidClient.With("client authentication failed").WithDebug("client secret does not match"),
			`{"error":"invalid_client","error_description":"client authentication failed"}`},
		{"escaping", ErrInvalidRequest.With("a \"b\" \\ \n\t\x01 é \xff \u2028 <&>"),
			`{"error":"invalid_request","error_description":"a \"b\" \\ \n\t\u0001 é \ufffd \u2028 <&>"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(tc.err.AppendJSON([]byte("prefix:")))
			if got != "prefix:"+tc.want {
				t.Fatalf("got  %s\nwant prefix:%s", got, tc.want)
			}
			var m map[string]string
			if err := json.Unmarshal([]byte(tc.want), &m); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			if m["error"] != tc.err.Code() || m["error_description"] != strings.ToValidUTF8(tc.err.Description(), "\ufffd") || m["error_uri"] != tc.err.URI() {
				t.Fatalf("decoded %v from %+v", m, tc.err)
			}
		})
	}
}

func TestBuildersReturnCopies(t *testing.T) {
	before := *ErrInvalidRequest
	e := ErrInvalidRequest.With("one").WithDebug("why").WithURI("u").WithStatus(413).WithChallenge("Basic")
	if *ErrInvalidRequest != before {
		t.Fatalf("the shared value changed: %+v", *ErrInvalidRequest)
	}
	if e.Code() != "invalid_request" || e.Description() != "one" || e.Debug() != "why" || e.URI() != "u" || e.Status() != 413 || e.Challenge() != "Basic" {
		t.Fatalf("built %+v", *e)
	}
	f := e.With("two")
	if e.Description() != "one" || f.Description() != "two" || f.Debug() != "why" || f.Status() != 413 {
		t.Fatalf("With changed its receiver or lost fields: %+v %+v", *e, *f)
	}
}

func TestErrorsIsMatchesTheCode(t *testing.T) {
	denied := ErrAccessDenied.With("no client grant")
	wrapped := fmt.Errorf("grant: %w", denied)
	if !errors.Is(wrapped, ErrAccessDenied) {
		t.Error("a described access_denied is not ErrAccessDenied")
	}
	if errors.Is(wrapped, ErrInvalidClient) {
		t.Error("access_denied is invalid_client")
	}
	if errors.Is(denied, errors.New("access_denied: no client grant")) {
		t.Error("matched an error of another type")
	}
	var e *Error
	if !errors.As(wrapped, &e) || e.Description() != "no client grant" {
		t.Errorf("errors.As: %v", e)
	}
	if got := denied.Error(); got != "access_denied: no client grant" {
		t.Errorf("Error() = %q", got)
	}
}

func TestLogDescription(t *testing.T) {
	if got := ErrInvalidClient.With("generic").LogDescription(); got != "generic" {
		t.Errorf("without debug: %q", got)
	}
	if got := ErrInvalidClient.With("generic").WithDebug("precise").LogDescription(); got != "precise" {
		t.Errorf("with debug: %q", got)
	}
}

// The statuses of API.md B.4 (and F.1: access_denied is 400).
func TestStatuses(t *testing.T) {
	for e, want := range map[*Error]int{
		ErrInvalidRequest: 400, ErrInvalidClient: 401, ErrInvalidGrant: 400, ErrUnauthorizedClient: 400,
		ErrUnsupportedGrantType: 400, ErrUnsupportedResponseType: 400, ErrInvalidScope: 400, ErrInvalidTarget: 400,
		ErrAccessDenied: 400, ErrMFARequired: 403, ErrAuthorizationPending: 400, ErrSlowDown: 400,
		ErrExpiredToken: 400, ErrTooManyAttempts: 429, ErrServerError: 500, ErrTemporarilyUnavailable: 503,
	} {
		if e.Status() != want {
			t.Errorf("%s: %d, want %d", e.Code(), e.Status(), want)
		}
		if http.StatusText(e.Status()) == "" {
			t.Errorf("%s: status %d", e.Code(), e.Status())
		}
		if !ValidScopeToken(e.Code()) { // codes are NQSCHAR without space
			t.Errorf("code %q", e.Code())
		}
	}
}

func TestAppendJSONDoesNotAllocate(t *testing.T) {
	e := ErrInvalidScope.With("none of the requested scopes is granted").WithURI("https://d/")
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { buf = e.AppendJSON(buf[:0]) }); n != 0 {
		t.Fatalf("%.0f allocations", n)
	}
}
