package abi

import "fmt"

// Trigger is a trigger's number in ABI v1, passed as on_trigger's first
// argument. Numbers are assigned once and never reused.
type Trigger int32

// The triggers of API.md D.1.
const (
	PostLogin            Trigger = 1
	CredentialsExchange  Trigger = 2
	PreUserRegistration  Trigger = 3
	PostUserRegistration Trigger = 4
	PostChangePassword   Trigger = 5
	SendPhoneMessage     Trigger = 6
	maxTrigger                   = SendPhoneMessage
)

var triggerIDs = map[Trigger]string{
	PostLogin:            "post-login",
	CredentialsExchange:  "credentials-exchange",
	PreUserRegistration:  "pre-user-registration",
	PostUserRegistration: "post-user-registration",
	PostChangePassword:   "post-change-password",
	SendPhoneMessage:     "send-phone-message",
}

// triggerAliases are Authok's names for the same triggers (API.md D.1).
var triggerAliases = map[string]Trigger{
	"m2m":           CredentialsExchange,
	"post-register": PostUserRegistration,
}

// ID is the trigger's canonical id ("credentials-exchange").
func (t Trigger) ID() string {
	if id, ok := triggerIDs[t]; ok {
		return id
	}
	return fmt.Sprintf("trigger(%d)", int32(t))
}

func (t Trigger) String() string { return t.ID() }

// Valid reports whether t is a trigger of ABI v1.
func (t Trigger) Valid() bool { return t >= PostLogin && t <= maxTrigger }

// ParseTrigger maps a canonical trigger id or an Authok alias to its number.
func ParseTrigger(id string) (Trigger, error) {
	for t, name := range triggerIDs {
		if name == id {
			return t, nil
		}
	}
	if t, ok := triggerAliases[id]; ok {
		return t, nil
	}
	return 0, fmt.Errorf("abi: unknown trigger %q", id)
}
