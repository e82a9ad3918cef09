package caddymodule

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/dailytoken/dailytoken/internal/casetable"
	"github.com/dailytoken/dailytoken/tokencore"
)

func init() {
	caddy.RegisterModule(errorBody{})
}

// errorBody writes the error of a rejected request as the JSON body
// {"error": reason, "info": description}, the body the shared cases expect
// and the Traefik plugin writes. daily_token itself returns the error to
// Caddy and writes no body, so the tests put this handler in the server's
// error routes; it shows the reason of the error that daily_token returned.
type errorBody struct{}

// CaddyModule returns the Caddy module information.
func (errorBody) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.daily_token_test_error_body",
		New: func() caddy.Module { return new(errorBody) },
	}
}

// ServeHTTP writes the body for the request's error.
func (errorBody) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	err, _ := r.Context().Value(caddyhttp.ErrorCtxKey).(error)
	status := http.StatusInternalServerError
	if handlerErr, ok := err.(caddyhttp.HandlerError); ok {
		status = handlerErr.StatusCode
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, writeErr := w.Write(tokencore.ErrorBody(err))
	return writeErr
}

// caseHandler translates a shared case's route configuration into the JSON
// of the daily_token handler.
func caseHandler(c casetable.Config) map[string]any {
	handler := map[string]any{"handler": "daily_token", "mode": c.Mode, "keys": c.Keys}
	set := func(name string, value any, isSet bool) {
		if isSet {
			handler[name] = value
		}
	}
	set("sources", c.Sources, len(c.Sources) > 0)
	set("leeway", c.Leeway, c.Leeway != "")
	set("max_lifetime", c.MaxLifetime, c.MaxLifetime != "")
	set("allow_missing_exp", true, c.AllowMissingExp)
	set("room", c.Room, c.Room != "")
	set("allow_roomless", true, c.AllowRoomless)
	set("domain_id", c.DomainID, c.DomainID != "")
	set("require_owner", true, c.RequireOwner)
	set("require_permissions", c.RequirePermissions, len(c.RequirePermissions) > 0)
	set("strip_token", true, c.StripToken)
	set("header_prefix", c.HeaderPrefix, c.HeaderPrefix != "")
	set("allow_preflight", true, c.AllowPreflight)
	set("max_token_size", c.MaxTokenSize, c.MaxTokenSize != 0)
	set("realm", c.Realm, c.Realm != "")
	set("claims", c.Claims, len(c.Claims) > 0)
	set("lifetime", c.Lifetime, c.Lifetime != "")
	set("not_before", true, c.NotBefore)
	set("target", c.Target, c.Target != "")
	return handler
}

// caseConfig returns a JSON config with one route: the case's handler in
// front of up, and errorBody for rejected requests. The header size limit
// is raised from Caddy's 16 KB to 1 MB, so oversized tokens reach the
// handler instead of being rejected by Go's HTTP server with 431.
func caseConfig(t *testing.T, c casetable.Config, up *upstream) string {
	config := map[string]any{
		"admin": map[string]any{"listen": fmt.Sprintf("localhost:%d", adminPort), "config": map[string]any{"persist": false}},
		"apps": map[string]any{"http": map[string]any{"servers": map[string]any{"srv0": map[string]any{
			"listen":           []string{fmt.Sprintf("127.0.0.1:%d", sitePort)},
			"max_header_bytes": 1 << 20,
			"automatic_https":  map[string]any{"disable": true},
			"routes": []any{map[string]any{"handle": []any{
				caseHandler(c),
				map[string]any{"handler": "reverse_proxy", "upstreams": []any{map[string]any{"dial": up.addr()}}},
			}}},
			"errors": map[string]any{"routes": []any{map[string]any{"handle": []any{
				map[string]any{"handler": "daily_token_test_error_body"},
			}}}},
		}}}},
	}
	data, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// sendCase sends a case's request to the site and returns what the client
// and the upstream saw.
func sendCase(t *testing.T, request casetable.Request, up *upstream) casetable.Observation {
	t.Helper()
	req, err := http.NewRequest(request.Method, siteURL+request.Target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, values := range request.Header {
		req.Header[name] = append([]string(nil), values...)
	}
	before := up.count()
	resp := send(t, req)

	observation := casetable.Observation{Status: resp.status, Header: resp.header, Body: []byte(resp.body)}
	if up.count() > before {
		received := up.last(t)
		observation.Upstream = &casetable.UpstreamRequest{Header: received.Header, RawQuery: received.URL.RawQuery}
	}
	return observation
}

// TestSharedCases runs the case table that both adapters share through a
// real Caddy server.
func TestSharedCases(t *testing.T) {
	up := newUpstream(t)
	loaded := ""
	for _, c := range casetable.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			config := caseConfig(t, c.Config, up)
			if config != loaded {
				loadJSON(t, config)
				loaded = config
			}
			request := c.Request(time.Now())
			observation := sendCase(t, request, up)
			_, problems := c.Check(request, observation)
			for _, problem := range problems {
				t.Error(strings.TrimSpace(problem))
			}
		})
	}
}
