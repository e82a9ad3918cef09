package traefiktest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dailytoken/dailytoken/internal/casetable"
)

// TestMaxLifetimeUnderYaegi checks the default maximum lifetime of a day,
// a configured one, and "off", on tokens that live a week.
func TestMaxLifetimeUnderYaegi(t *testing.T) {
	plugin := loadPlugin(t)
	now := time.Now()
	week := casetable.Sign(casetable.Key, casetable.HS256Header, casetable.With(casetable.ValidClaims(now), map[string]any{"exp": now.Add(7 * 24 * time.Hour).Unix()}))
	hour := casetable.ValidToken(now)

	cases := []struct {
		name        string
		maxLifetime string
		token       string
		want        int
	}{
		{"default accepts an hour", "", hour, http.StatusOK},
		{"default rejects a week", "", week, http.StatusUnauthorized},
		{"configured limit rejects an hour", "30m", hour, http.StatusUnauthorized},
		{"off accepts a week", "off", week, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			options := map[string]any{"mode": "validate", "keys": casetable.Key}
			if tc.maxLifetime != "" {
				options["maxLifetime"] = tc.maxLifetime
			}
			handler, err := plugin.NewMiddleware(context.Background(), options, &recordingUpstream{}, "lifetime@file")
			if err != nil {
				t.Fatal(err)
			}
			request := httptest.NewRequest(http.MethodGet, "/", nil)
			request.Header.Set("Authorization", "Bearer "+tc.token)
			recorder := httptest.NewRecorder()
			handler.ServeHTTP(recorder, request)
			if recorder.Code != tc.want {
				t.Errorf("status = %d, expected %d; body %s", recorder.Code, tc.want, recorder.Body)
			}
		})
	}
}
