// Command send-phone-message is an Action for the send-phone-message
// trigger, written with the Go SDK. Actions have no network in this
// version, so it cannot hand the message to an SMS provider: it checks
// the message (voice calls are refused as the action's error) and logs
// it with the recipient's number masked and the code left out.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o send-phone-message.wasm .
package main

import (
	"errors"
	"strings"

	"github.com/authok-edge/authok/actions-runtime/sdk"
)

func init() {
	sdk.Handle(sdk.SendPhoneMessage, func(ev *sdk.Event, _ *sdk.API) error {
		m := ev.MessageOptions
		if m.MessageType != "sms" {
			return errors.New("only sms messages are supported, not " + m.MessageType)
		}
		sdk.Logf("%s sms to %s (%s)", m.Action, mask(m.Recipient), m.Language)
		return nil
	})
}

// mask keeps the first three and the last two characters of a number.
func mask(n string) string {
	if len(n) <= 5 {
		return strings.Repeat("*", len(n))
	}
	return n[:3] + strings.Repeat("*", len(n)-5) + n[len(n)-2:]
}

func main() {}
