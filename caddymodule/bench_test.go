package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.uber.org/zap"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// The benchmarks call ServeHTTP directly, as Caddy's server does after
// routing, with a new request and replacer per iteration. The bare
// sub-benchmark measures that setup and the next handler alone, so the cost
// of daily_token is the difference.

var nextNoContent = caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
})

// provisionQuiet provisions h and drops its log output, as a production
// logger at the default INFO level drops the DEBUG rejections.
func provisionQuiet(b *testing.B, h *Handler) {
	if err := provision(b, h); err != nil {
		b.Fatal(err)
	}
	h.logger = zap.NewNop()
	if h.validation != nil {
		h.validation.logger = h.logger
	}
}

// benchRequest returns a request with a fresh replacer in its context.
func benchRequest(target, authorization string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	repl := caddy.NewReplacer()
	return req.WithContext(context.WithValue(req.Context(), caddy.ReplacerCtxKey, repl))
}

// BenchmarkHandler provisions every handler before the first
// sub-benchmark, so that provisioning logs do not split the result lines.
func BenchmarkHandler(b *testing.B) {
	validator := &Handler{Keys: []string{testKey}, ValidatorOptions: ValidatorOptions{Room: "{path.1}"}}
	provisionQuiet(b, validator)
	minter := &Handler{Mode: ModeMint, Keys: []string{testKey}, MinterOptions: MinterOptions{
		Claims: map[string]any{"room_name": "{path.1}", "user_id": "{http.request.header.X-User-Id}", "is_owner": false},
	}}
	provisionQuiet(b, minter)
	valid := "Bearer " + roomToken("hello")
	otherRoom := "Bearer " + roomToken("other")

	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req := benchRequest("/rooms/hello/", valid)
			if err := nextNoContent.ServeHTTP(httptest.NewRecorder(), req); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("validate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req := benchRequest("/rooms/hello/", valid)
			if err := validator.ServeHTTP(httptest.NewRecorder(), req, nextNoContent); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("validate-rejected", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req := benchRequest("/rooms/hello/", otherRoom)
			if err := validator.ServeHTTP(httptest.NewRecorder(), req, nextNoContent); err == nil {
				b.Fatal("the token for another room was accepted")
			}
		}
	})

	b.Run("mint", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req := benchRequest("/rooms/hello/", "")
			req.Header.Set("X-User-Id", "user-1")
			if err := minter.ServeHTTP(httptest.NewRecorder(), req, nextNoContent); err != nil {
				b.Fatal(err)
			}
		}
	})
}
