package apierror_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/authok-edge/authok/control/internal/apierror"
)

type wireBody struct {
	StatusCode       int    `json:"statusCode"`
	Error            string `json:"error"`
	Message          string `json:"message"`
	ErrorCode        string `json:"errorCode"`
	ErrorDescription string `json:"error_description"`
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		want       wireBody
	}{
		{
			name:       "api error",
			err:        apierror.New(http.StatusNotFound, "inexistent_user", "The user does not exist."),
			wantStatus: http.StatusNotFound,
			want:       wireBody{404, "Not Found", "The user does not exist.", "inexistent_user", "The user does not exist."},
		},
		{
			name:       "wrapped api error",
			err:        fmt.Errorf("users: get: %w", apierror.New(http.StatusConflict, "conflict", "The user already exists.")),
			wantStatus: http.StatusConflict,
			want:       wireBody{409, "Conflict", "The user already exists.", "conflict", "The user already exists."},
		},
		{
			name:       "internal error hides its text",
			err:        errors.New("pebble: disk on fire at /var/lib/authok"),
			wantStatus: http.StatusInternalServerError,
			want:       wireBody{500, "Internal Server Error", "Internal Server Error", apierror.CodeInternal, "Internal Server Error"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			apierror.Write(rec, tt.err)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Fatalf("Content-Type = %q", ct)
			}
			var got wireBody
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if got != tt.want {
				t.Fatalf("body = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestErrorIs(t *testing.T) {
	e := apierror.New(http.StatusNotFound, apierror.CodeNotFound, "Not Found")
	if !errors.Is(fmt.Errorf("wrap: %w", e), e) {
		t.Fatal("errors.Is does not find the *Error in a wrapped chain")
	}
}
