package traefiktest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dailytoken/dailytoken/internal/casetable"
	"github.com/dailytoken/dailytoken/test/yaegiharness"
)

// Run with:
//
//	cd test && go test ./traefiktest -run '^$' -bench ValidatedRequest -benchmem -count 6 > bench.txt
//	benchstat -col /impl bench.txt
//
// Each sub-benchmark validates the same kind of token: HS256 with room,
// domain id, user id, user name, iat and exp. tokens=same sends one token on
// every request, as a client does. tokens=distinct cycles through more
// tokens than the core's decoded-payload cache holds, so every request
// decodes its payload. golang-jwt-interpreted is jwt.ParseWithClaims with
// jwt.MapClaims, run by Yaegi from golang-jwt's source: it checks the
// signature and exp only, with no extraction, policy or claim headers.

// benchmarkOptions is the validating middleware of the benchmark.
var benchmarkOptions = map[string]any{
	"mode": "validate",
	"keys": casetable.Key,
	"room": "{path.1}",
}

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the middleware and not a recorder.
type discardWriter struct {
	header http.Header
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

var okHandler = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

// benchmarkTokens returns n valid tokens that differ in their user id.
func benchmarkTokens(n int) []string {
	now := time.Now()
	tokens := make([]string, n)
	for i := range tokens {
		claims := casetable.With(casetable.ValidClaims(now), map[string]any{"ud": fmt.Sprintf("user-%d", i)})
		tokens[i] = casetable.Sign(casetable.Key, casetable.HS256Header, claims)
	}
	return tokens
}

// benchmarkHandler sends one validated request per iteration through
// handler, cycling through tokens. The request's headers are reset every
// time, because the middleware sets the claim headers on it.
func benchmarkHandler(b *testing.B, handler http.Handler, tokens []string) {
	request := httptest.NewRequest(http.MethodGet, "/rooms/"+casetable.Room, nil)
	headers := make([]http.Header, len(tokens))
	for i, token := range tokens {
		headers[i] = http.Header{"Authorization": {"Bearer " + token}}
	}
	writer := &discardWriter{header: http.Header{}}

	// check once that the request passes
	checked := &statusWriter{discardWriter: discardWriter{header: http.Header{}}}
	request.Header = headers[0].Clone()
	handler.ServeHTTP(checked, request)
	if checked.status != 0 && checked.status != http.StatusOK {
		b.Fatalf("status = %d, expected 200", checked.status)
	}

	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		request.Header = headers[i%len(headers)].Clone()
		handler.ServeHTTP(writer, request)
	}
}

type statusWriter struct {
	discardWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) { w.status = status }

// jwtModuleDir returns the module cache directory of golang-jwt/jwt/v5.
func jwtModuleDir(b *testing.B) string {
	output, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/golang-jwt/jwt/v5").Output()
	if err != nil {
		b.Fatalf("go list golang-jwt: %v", err)
	}
	return strings.TrimSpace(string(output))
}

// interpretedGolangJWT loads golang-jwt/jwt/v5 from the module cache into a
// Yaegi interpreter set up as Traefik sets one up, and returns a function
// that parses a token with jwt.MapClaims in it.
func interpretedGolangJWT(b *testing.B) func(token string, key []byte) error {
	interpreter := yaegiharness.NewInterpreter(b, jwtModuleDir(b))
	yaegiharness.Eval(b, interpreter, `import "github.com/golang-jwt/jwt/v5"`)
	yaegiharness.Eval(b, interpreter, `
func parseMapClaims(token string, key []byte) error {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (interface{}, error) {
		return key, nil
	}, jwt.WithValidMethods([]string{"HS256"}))
	return err
}`)
	parse, ok := yaegiharness.Eval(b, interpreter, "parseMapClaims").Interface().(func(string, []byte) error)
	if !ok {
		b.Fatal("parseMapClaims has an unexpected type")
	}
	return parse
}

func BenchmarkValidatedRequest(b *testing.B) {
	plugin := loadPlugin(b)
	interpreted, err := plugin.NewMiddleware(context.Background(), benchmarkOptions, okHandler, "bench@file")
	if err != nil {
		b.Fatal(err)
	}
	compiled, err := compiledFactory(context.Background(), benchmarkOptions, okHandler, "bench@file")
	if err != nil {
		b.Fatal(err)
	}
	parseInterpreted := interpretedGolangJWT(b)
	same := benchmarkTokens(1)
	distinct := benchmarkTokens(10000)

	b.Run("impl=plugin-interpreted/tokens=same", func(b *testing.B) {
		benchmarkHandler(b, interpreted, same)
	})
	b.Run("impl=plugin-compiled/tokens=same", func(b *testing.B) {
		benchmarkHandler(b, compiled, same)
	})
	b.Run("impl=plugin-interpreted/tokens=distinct", func(b *testing.B) {
		benchmarkHandler(b, interpreted, distinct)
	})
	b.Run("impl=plugin-compiled/tokens=distinct", func(b *testing.B) {
		benchmarkHandler(b, compiled, distinct)
	})
	b.Run("impl=golang-jwt-interpreted/tokens=same", func(b *testing.B) {
		key := []byte(casetable.Key)
		if err := parseInterpreted(same[0], key); err != nil {
			b.Fatalf("interpreted golang-jwt rejects the token: %v", err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := parseInterpreted(same[0], key); err != nil {
				b.Fatal(err)
			}
		}
	})
}
