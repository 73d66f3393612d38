package loadgen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ActionTrigger is the trigger the client-credentials scenario binds its
// action to.
const ActionTrigger = "credentials-exchange"

// ActionFixture is an action the client-credentials scenario deploys and
// binds (API.md C.9) so that every token it asks for runs it. The
// bindings the tenant had before are kept, ahead of the bench's, and
// restored by Delete.
type ActionFixture struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Runtime string `json:"runtime"`
	File    string `json:"file"`
	SHA256  string `json:"sha256"`
	Claim   string `json:"claim"`
	// DeployToReadyMs is the time from the bindings PATCH's answer to the
	// first token, at the first edge URL, that carries Claim.
	DeployToReadyMs float64 `json:"deploy_to_ready_ms"`
	// FirstTokenMs is that first token request's own latency: the first
	// invocation of the version on that node.
	FirstTokenMs float64 `json:"first_token_ms"`

	previous []string // binding ids bound before, in order
}

// readAction reads --action: a .wasm module or JavaScript source.
func readAction(path string) (runtime string, body map[string]any, sum string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, "", fmt.Errorf("--action: %w", err)
	}
	s := sha256.Sum256(data)
	sum = hex.EncodeToString(s[:])
	switch strings.ToLower(filepath.Ext(path)) {
	case ".wasm":
		return "wasm", map[string]any{"runtime": "wasm", "module": base64.StdEncoding.EncodeToString(data)}, sum, nil
	case ".js":
		return "node18", map[string]any{"runtime": "node18", "code": string(data)}, sum, nil
	}
	return "", nil, "", fmt.Errorf("--action %s: want a .js or .wasm file", path)
}

// CreateAction creates an action from path, deploys it and binds it last
// on the credentials-exchange trigger. On failure it removes what it made.
func CreateAction(ctx context.Context, m *Mgmt, path, claim string) (*ActionFixture, error) {
	runtime, body, sum, err := readAction(path)
	if err != nil {
		return nil, err
	}
	a := &ActionFixture{Name: "bench-" + randomHex(6), Runtime: runtime, File: path, SHA256: sum, Claim: claim}
	body["name"] = a.Name
	body["supported_triggers"] = []map[string]string{{"id": ActionTrigger, "version": "v3"}}
	var created struct {
		ID string `json:"id"`
	}
	if err := m.Call(ctx, http.MethodPost, "/actions/actions", body, http.StatusCreated, &created); err != nil {
		return nil, err
	}
	if a.ID = created.ID; a.ID == "" {
		return nil, errors.New("loadgen: POST /actions/actions: answer without id")
	}
	if err := m.Call(ctx, http.MethodPost, "/actions/actions/"+url.PathEscape(a.ID)+"/deploy", nil, http.StatusOK, nil); err != nil {
		return nil, errors.Join(err, a.Delete(ctx, m))
	}
	var bound struct {
		Bindings []struct {
			ID string `json:"id"`
		} `json:"bindings"`
	}
	if err := m.Call(ctx, http.MethodGet, bindingsPath, nil, http.StatusOK, &bound); err != nil {
		return nil, errors.Join(err, a.Delete(ctx, m))
	}
	refs := make([]map[string]any, 0, len(bound.Bindings)+1)
	for _, b := range bound.Bindings {
		a.previous = append(a.previous, b.ID)
		refs = append(refs, bindingRef("binding_id", b.ID))
	}
	refs = append(refs, bindingRef("action_id", a.ID))
	if err := m.Call(ctx, http.MethodPatch, bindingsPath, map[string]any{"bindings": refs}, http.StatusOK, nil); err != nil {
		return nil, errors.Join(err, a.Delete(ctx, m))
	}
	return a, nil
}

var bindingsPath = "/actions/triggers/" + ActionTrigger + "/bindings"

func bindingRef(typ, value string) map[string]any {
	return map[string]any{"ref": map[string]string{"type": typ, "value": value}}
}

// Delete restores the trigger's previous bindings and deletes the action.
func (a *ActionFixture) Delete(ctx context.Context, m *Mgmt) error {
	refs := make([]map[string]any, 0, len(a.previous))
	for _, id := range a.previous {
		refs = append(refs, bindingRef("binding_id", id))
	}
	errs := []error{m.Call(ctx, http.MethodPatch, bindingsPath, map[string]any{"bindings": refs}, http.StatusOK, nil)}
	if a.ID != "" {
		errs = append(errs, m.Call(ctx, http.MethodDelete, "/actions/actions/"+url.PathEscape(a.ID), nil, http.StatusNoContent, nil))
	}
	return errors.Join(errs...)
}

// WaitReady asks base for tokens until one carries the action's claim
// (at most timeout) and records how long that took and what the first
// such request cost.
func (a *ActionFixture) WaitReady(ctx context.Context, base *url.URL, t Target, since time.Time, timeout time.Duration) error {
	client := &http.Client{Timeout: 10 * time.Second}
	endpoint := strings.TrimRight(base.String(), "/") + t.Path
	deadline := time.Now().Add(timeout)
	for {
		req, err := http.NewRequestWithContext(ctx, t.Method, endpoint, bytes.NewReader(t.Body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", t.ContentType)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("loadgen: waiting for the action: %w", err)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		took := time.Since(start)
		if err != nil {
			return fmt.Errorf("loadgen: waiting for the action: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("loadgen: waiting for the action: %s: %s", resp.Status, bytes.TrimSpace(data))
		}
		if ok, err := tokenHasClaim(data, a.Claim); err != nil {
			return fmt.Errorf("loadgen: waiting for the action: %w", err)
		} else if ok {
			a.DeployToReadyMs = float64(time.Since(since).Microseconds()) / 1000
			a.FirstTokenMs = float64(took.Microseconds()) / 1000
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("loadgen: no token carried the action's claim %q within %s", a.Claim, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// tokenHasClaim reports whether a token answer's access token carries
// claim (the payload is decoded, not verified: the server's tests do that).
func tokenHasClaim(body []byte, claim string) (bool, error) {
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil {
		return false, fmt.Errorf("token answer %q: %w", truncate(body, 200), err)
	}
	parts := strings.Split(tok.AccessToken, ".")
	if len(parts) != 3 {
		return false, fmt.Errorf("token answer without a JWT access_token: %q", truncate(body, 200))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return false, fmt.Errorf("access token payload: %w", err)
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(raw, &claims); err != nil {
		return false, fmt.Errorf("access token payload: %w", err)
	}
	_, ok := claims[claim]
	return ok, nil
}
