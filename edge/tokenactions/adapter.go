package tokenactions

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/actions-runtime/executor"
	"github.com/authok-edge/authok/edge/token"
	"github.com/authok-edge/authok/shared/jsonenc"
	"github.com/authok-edge/authok/shared/oauth2"
)

// Adapter implements token.Actions on an executor.
type Adapter struct {
	x *executor.Executor
}

var _ token.Actions = (*Adapter)(nil)

// New returns the adapter of x.
func New(x *executor.Executor) *Adapter { return &Adapter{x: x} }

// CredentialsExchange implements token.Actions.
func (a *Adapter) CredentialsExchange(ctx context.Context, ev *token.ExchangeEvent) ([]token.Command, error) {
	if !a.x.Bound(ev.Tenant, abi.CredentialsExchange) {
		return nil, nil
	}
	cmds, err := a.x.Run(ctx, ev.Tenant, abi.CredentialsExchange, exchangeEvent{ev})
	if err != nil {
		return nil, err
	}
	out := make([]token.Command, 0, len(cmds))
	for _, c := range cmds {
		tc, err := toTokenCommand(c)
		if err != nil {
			return nil, err
		}
		out = append(out, tc)
	}
	return out, nil
}

// toTokenCommand maps a command abi.Decode allowed for
// credentials-exchange to the token endpoint's.
func toTokenCommand(c executor.Command) (token.Command, error) {
	switch v := c.Command.(type) {
	case abi.SetCustomClaim:
		if v.Target == abi.AccessToken {
			return token.Command{Type: token.CommandSetCustomClaim, Action: c.Action, Name: v.Name, Value: v.Value}, nil
		}
	case abi.AccessDenied:
		return token.Command{Type: token.CommandAccessDenied, Action: c.Action, Reason: v.Reason}, nil
	case abi.AddScope:
		return token.Command{Type: token.CommandAddScope, Action: c.Action, Name: v.Scope}, nil
	case abi.RemoveScope:
		return token.Command{Type: token.CommandRemoveScope, Action: c.Action, Name: v.Scope}, nil
	}
	return token.Command{}, fmt.Errorf("action %q: command %s is not available in credentials-exchange", c.Action, c.Command.Type())
}

// exchangeEvent writes the credentials-exchange event (API.md D.2).
type exchangeEvent struct{ ev *token.ExchangeEvent }

// AppendEvent implements executor.Event: accessToken.scope and
// customClaims reflect the commands of the earlier actions.
func (x exchangeEvent) AppendEvent(dst, secrets []byte, prior []executor.Command) []byte {
	ev := x.ev
	dst = append(dst, `{"secrets":`...)
	dst = append(dst, secrets...)
	dst = append(dst, `,"tenant":{"id":`...)
	dst = jsonenc.AppendString(dst, ev.Tenant)
	dst = append(dst, `},"client":{"client_id":`...)
	dst = jsonenc.AppendString(dst, ev.Client.ID)
	dst = append(dst, `,"name":`...)
	dst = jsonenc.AppendString(dst, ev.Client.Name)
	dst = append(dst, `,"metadata":{`...)
	first := true
	for k, v := range ev.Client.Metadata {
		dst = member(dst, &first, k)
		dst = jsonenc.AppendString(dst, v)
	}
	dst = append(dst, `}},"resource_server":{"identifier":`...)
	dst = jsonenc.AppendString(dst, ev.ResourceServer)
	dst = append(dst, `},"request":{"ip":`...)
	ip := ""
	if ev.Request.IP.IsValid() {
		ip = ev.Request.IP.String()
	}
	dst = jsonenc.AppendString(dst, ip)
	dst = append(dst, `,"method":`...)
	dst = jsonenc.AppendString(dst, ev.Request.Method)
	dst = append(dst, `,"hostname":`...)
	dst = jsonenc.AppendString(dst, ev.Request.Hostname)
	dst = append(dst, `,"user_agent":`...)
	dst = jsonenc.AppendString(dst, ev.Request.UserAgent)
	dst = append(dst, `,"language":`...)
	dst = jsonenc.AppendString(dst, ev.Request.Language)
	dst = append(dst, `,"body":{`...)
	first = true
	for k, v := range ev.Request.Params() {
		dst = member(dst, &first, string(k))
		dst = jsonenc.AppendString(dst, v)
	}
	dst = append(dst, `}},"transaction":{"requested_scopes":`...)
	dst = appendScopes(dst, string(ev.RequestedScope))
	scope := ev.Scope
	for _, c := range prior {
		switch v := c.Command.(type) {
		case abi.AddScope:
			scope = oauth2.AddScope(scope, v.Scope)
		case abi.RemoveScope:
			scope = oauth2.RemoveScope(scope, v.Scope)
		}
	}
	dst = append(dst, `},"accessToken":{"scope":`...)
	dst = appendScopes(dst, scope)
	dst = append(dst, `,"customClaims":`...)
	dst = appendClaims(dst, ev.CustomClaims, prior)
	return append(dst, `}}`...)
}

// member appends a separator and "key":.
func member(dst []byte, first *bool, key string) []byte {
	if !*first {
		dst = append(dst, ',')
	}
	*first = false
	dst = jsonenc.AppendString(dst, key)
	return append(dst, ':')
}

func appendScopes(dst []byte, scope string) []byte {
	dst = append(dst, '[')
	first := true
	for _, s := range strings.Fields(scope) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = jsonenc.AppendString(dst, s)
	}
	return append(dst, ']')
}

// appendClaims appends the custom claims so far: the grant's, then those
// earlier actions set (a later value of a name wins).
func appendClaims(dst []byte, base map[string]any, prior []executor.Command) []byte {
	set := map[string]json.RawMessage{}
	var order []string
	for _, c := range prior {
		if v, ok := c.Command.(abi.SetCustomClaim); ok && v.Target == abi.AccessToken {
			if _, seen := set[v.Name]; !seen {
				order = append(order, v.Name)
			}
			set[v.Name] = v.Value
		}
	}
	dst = append(dst, '{')
	first := true
	for k, v := range base {
		if _, later := set[k]; later {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			continue // the dispatcher refuses such a claim before signing
		}
		dst = member(dst, &first, k)
		dst = append(dst, b...)
	}
	for _, k := range order {
		dst = member(dst, &first, k)
		dst = append(dst, set[k]...)
	}
	return append(dst, '}')
}
