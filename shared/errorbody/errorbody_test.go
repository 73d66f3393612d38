package errorbody_test

import (
	"encoding/json"
	"testing"

	"github.com/authok-edge/authok/shared/errorbody"
)

func TestJSON(t *testing.T) {
	tests := []struct {
		name          string
		status        int
		code, message string
		want          string
	}{
		{"known status", 404, "inexistent_client", `No client with id "x".`,
			`{"statusCode":404,"error":"Not Found","message":"No client with id \"x\".","errorCode":"inexistent_client","error_description":"No client with id \"x\"."}`},
		{"unregistered status", 499, "client_closed", "gone",
			`{"statusCode":499,"error":"Status 499","message":"gone","errorCode":"client_closed","error_description":"gone"}`},
		{"no code", 500, "", "Internal Server Error",
			`{"statusCode":500,"error":"Internal Server Error","message":"Internal Server Error","error_description":"Internal Server Error"}`},
		{"markup is escaped", 400, "invalid_body", "<script>",
			`{"statusCode":400,"error":"Bad Request","message":"\u003cscript\u003e","errorCode":"invalid_body","error_description":"\u003cscript\u003e"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errorbody.JSON(tt.status, tt.code, tt.message)
			if string(got) != tt.want {
				t.Fatalf("JSON = %s\nwant   %s", got, tt.want)
			}
			var back errorbody.Body
			if err := json.Unmarshal(got, &back); err != nil || back != errorbody.New(tt.status, tt.code, tt.message) {
				t.Fatalf("round trip: %+v, %v", back, err)
			}
		})
	}
}
