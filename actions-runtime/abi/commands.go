package abi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Command is one typed, validated command of a module's result (API.md
// D.3). The concrete types are SetCustomClaim, SetMetadata, AccessDenied,
// AddScope, RemoveScope and RequireMultifactor.
type Command interface {
	// Type is the command's wire type ("SetCustomClaim").
	Type() string
}

// Token names the token a claim or scope command changes.
type Token string

// Tokens a command may target.
const (
	AccessToken Token = "accessToken"
	IDToken     Token = "idToken"
)

// MetadataTarget names the metadata a SetMetadata command merges into.
type MetadataTarget string

// Metadata targets: user_metadata and app_metadata.
const (
	UserMetadata MetadataTarget = "user"
	AppMetadata  MetadataTarget = "application"
)

// SetCustomClaim adds Name: Value to the target token
// (api.accessToken.setCustomClaim, api.idToken.setCustomClaim).
type SetCustomClaim struct {
	Target Token
	Name   string
	Value  json.RawMessage
}

// SetMetadata merges Key: Value into the user's user_metadata or
// app_metadata (api.user.setUserMetadata, api.user.setAppMetadata).
type SetMetadata struct {
	Target MetadataTarget
	Key    string
	Value  json.RawMessage
}

// AccessDenied aborts the flow; Reason becomes the error_description
// (api.access.deny).
type AccessDenied struct{ Reason string }

// AddScope adds Scope to the access token's scope
// (api.accessToken.addScope).
type AddScope struct{ Scope string }

// RemoveScope removes Scope from the access token's scope
// (api.accessToken.removeScope).
type RemoveScope struct{ Scope string }

// RequireMultifactor forces an MFA step (api.multifactor.enable).
type RequireMultifactor struct {
	Provider string
	Options  json.RawMessage
}

// Type implements Command.
func (SetCustomClaim) Type() string { return "SetCustomClaim" }

// Type implements Command.
func (SetMetadata) Type() string { return "SetMetadata" }

// Type implements Command.
func (AccessDenied) Type() string { return "AccessDenied" }

// Type implements Command.
func (AddScope) Type() string { return "AddScope" }

// Type implements Command.
func (RemoveScope) Type() string { return "RemoveScope" }

// Type implements Command.
func (RequireMultifactor) Type() string { return "RequireMultifactor" }

// ModuleError is an error the action itself reported (a thrown exception
// in JavaScript, an error returned by a Go SDK handler).
type ModuleError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
	Stack   string `json:"stack,omitempty"`
}

// Result is a decoded module result: the commands in the order the action
// issued them, and the errors it reported.
type Result struct {
	Commands []Command
	Errors   []ModuleError
}

// ErrInvalidResult is wrapped by every error Decode returns.
var ErrInvalidResult = errors.New("invalid action result")

// ErrRestrictedClaim is wrapped (with ErrInvalidResult) when an action sets
// a claim the platform owns.
var ErrRestrictedClaim = errors.New("restricted claim")

// RestrictedClaims are the claims no action may set, in any letter case:
// the registered JWT claims, the OpenID Connect claims the server computes,
// and those the platform derives from the grant.
var RestrictedClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true,
	"azp": true, "scope": true, "scp": true, "client_id": true, "gty": true, "permissions": true,
	"auth_time": true, "nonce": true, "at_hash": true, "c_hash": true, "s_hash": true,
	"acr": true, "amr": true, "sid": true, "cnf": true, "act": true, "may_act": true,
	"org_id": true, "org_name": true, "tenant": true, "typ": true, "kid": true, "alg": true,
}

// allowed lists, per trigger, the commands (and targets) it honours.
var allowed = map[Trigger]map[string]bool{
	CredentialsExchange: {"SetCustomClaim:accessToken": true, "AccessDenied": true, "AddScope": true, "RemoveScope": true},
	PostLogin: {"SetCustomClaim:accessToken": true, "SetCustomClaim:idToken": true,
		"SetMetadata:user": true, "SetMetadata:application": true, "AccessDenied": true,
		"AddScope": true, "RemoveScope": true, "RequireMultifactor": true},
	PreUserRegistration: {"SetMetadata:user": true, "SetMetadata:application": true, "AccessDenied": true},
}

type wireResult struct {
	Commands []wireCommand `json:"commands"`
	Errors   []ModuleError `json:"errors"`
}

type wireCommand struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

type wireTargeted struct {
	Target   string          `json:"target"`
	Name     string          `json:"name"`
	Key      string          `json:"key"`
	Scope    string          `json:"scope"`
	Value    json.RawMessage `json:"value"`
	Provider string          `json:"provider"`
	Options  json.RawMessage `json:"options"`
}

// Decode parses a module's result for trigger t and validates every
// command: known type, allowed for t, names and sizes within the limits,
// no restricted claim. An empty input is an empty result. Every error
// wraps ErrInvalidResult and names the offending command by index.
func Decode(t Trigger, data []byte) (Result, error) {
	if !t.Valid() {
		return Result{}, fmt.Errorf("%w: unknown trigger %d", ErrInvalidResult, int32(t))
	}
	if len(data) == 0 {
		return Result{}, nil
	}
	if len(data) > MaxResultBytes {
		return Result{}, fmt.Errorf("%w: %d bytes, the limit is %d", ErrInvalidResult, len(data), MaxResultBytes)
	}
	var w wireResult
	if err := strictUnmarshal(data, &w); err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrInvalidResult, err)
	}
	if len(w.Commands) > MaxCommands {
		return Result{}, fmt.Errorf("%w: %d commands, the limit is %d", ErrInvalidResult, len(w.Commands), MaxCommands)
	}
	if len(w.Errors) > MaxErrors {
		return Result{}, fmt.Errorf("%w: %d errors, the limit is %d", ErrInvalidResult, len(w.Errors), MaxErrors)
	}
	for i, e := range w.Errors {
		if len(e.Name) > 256 || len(e.Message) > 1024 || len(e.Stack) > 4096 ||
			!utf8.ValidString(e.Name) || !utf8.ValidString(e.Message) || !utf8.ValidString(e.Stack) {
			return Result{}, fmt.Errorf("%w: errors[%d] is too long or not UTF-8", ErrInvalidResult, i)
		}
	}
	res := Result{Errors: w.Errors}
	for i, wc := range w.Commands {
		c, err := decodeCommand(wc)
		if err != nil {
			return Result{}, fmt.Errorf("%w: commands[%d] (%s): %w", ErrInvalidResult, i, wc.Type, err)
		}
		if !allowed[t][allowKey(c)] {
			return Result{}, fmt.Errorf("%w: commands[%d]: %s is not available in the %s trigger", ErrInvalidResult, i, allowKey(c), t.ID())
		}
		res.Commands = append(res.Commands, c)
	}
	return res, nil
}

func allowKey(c Command) string {
	switch c := c.(type) {
	case SetCustomClaim:
		return c.Type() + ":" + string(c.Target)
	case SetMetadata:
		return c.Type() + ":" + string(c.Target)
	}
	return c.Type()
}

func decodeCommand(wc wireCommand) (Command, error) {
	if wc.Type == "AccessDenied" {
		var reason string
		if err := json.Unmarshal(wc.Data, &reason); err != nil {
			return nil, errors.New("data must be the reason, a string")
		}
		if len(reason) > MaxReasonBytes || !utf8.ValidString(reason) {
			return nil, fmt.Errorf("the reason must be UTF-8 of at most %d bytes", MaxReasonBytes)
		}
		return AccessDenied{Reason: reason}, nil
	}
	switch wc.Type {
	case "SetCustomClaim", "SetMetadata", "AddScope", "RemoveScope", "RequireMultifactor":
	default:
		return nil, fmt.Errorf("unknown command type %q", wc.Type)
	}
	var d wireTargeted
	if len(wc.Data) == 0 {
		return nil, errors.New("data is missing")
	}
	if err := strictUnmarshal(wc.Data, &d); err != nil {
		return nil, fmt.Errorf("data: %v", err)
	}
	switch wc.Type {
	case "SetCustomClaim":
		if d.Target != string(AccessToken) && d.Target != string(IDToken) {
			return nil, fmt.Errorf("target %q is neither accessToken nor idToken", d.Target)
		}
		if err := checkName("name", d.Name); err != nil {
			return nil, err
		}
		if RestrictedClaims[strings.ToLower(d.Name)] {
			return nil, fmt.Errorf("%w: %q is set by the platform", ErrRestrictedClaim, d.Name)
		}
		v, err := checkValue(d.Value)
		if err != nil {
			return nil, err
		}
		return SetCustomClaim{Target: Token(d.Target), Name: d.Name, Value: v}, nil
	case "SetMetadata":
		if d.Target != string(UserMetadata) && d.Target != string(AppMetadata) {
			return nil, fmt.Errorf("target %q is neither user nor application", d.Target)
		}
		if err := checkName("key", d.Key); err != nil {
			return nil, err
		}
		v, err := checkValue(d.Value)
		if err != nil {
			return nil, err
		}
		return SetMetadata{Target: MetadataTarget(d.Target), Key: d.Key, Value: v}, nil
	case "AddScope", "RemoveScope":
		if d.Target != "" && d.Target != string(AccessToken) {
			return nil, fmt.Errorf("target %q: scopes belong to the accessToken", d.Target)
		}
		if err := checkScope(d.Scope); err != nil {
			return nil, err
		}
		if wc.Type == "AddScope" {
			return AddScope{Scope: d.Scope}, nil
		}
		return RemoveScope{Scope: d.Scope}, nil
	case "RequireMultifactor":
		if err := checkName("provider", d.Provider); err != nil {
			return nil, err
		}
		var opts json.RawMessage
		if len(d.Options) > 0 {
			var err error
			if opts, err = checkValue(d.Options); err != nil {
				return nil, err
			}
		}
		return RequireMultifactor{Provider: d.Provider, Options: opts}, nil
	}
	return nil, fmt.Errorf("unknown command type %q", wc.Type)
}

func checkName(field, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%s is empty", field)
	case len(s) > MaxClaimNameBytes:
		return fmt.Errorf("%s is %d bytes, the limit is %d", field, len(s), MaxClaimNameBytes)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not UTF-8", field)
	}
	return nil
}

func checkValue(v json.RawMessage) (json.RawMessage, error) {
	if len(v) == 0 {
		return nil, errors.New("value is missing")
	}
	if len(v) > MaxValueBytes {
		return nil, fmt.Errorf("value is %d bytes, the limit is %d", len(v), MaxValueBytes)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, v); err != nil {
		return nil, fmt.Errorf("value: %v", err)
	}
	return compact.Bytes(), nil
}

// checkScope applies RFC 6749 section 3.3's scope-token grammar.
func checkScope(s string) error {
	if s == "" || len(s) > MaxClaimNameBytes {
		return fmt.Errorf("scope must be 1 to %d bytes", MaxClaimNameBytes)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
			return fmt.Errorf("scope %q has a character RFC 6749 does not allow", s)
		}
	}
	return nil
}

// strictUnmarshal decodes exactly one JSON value into v, refusing unknown
// fields and trailing data.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	if _, err := dec.Token(); err == nil {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
