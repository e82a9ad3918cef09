// Package traefiktest runs the dailytoken Traefik plugin the way Traefik
// runs it: loaded by the Yaegi interpreter from a GOPATH copy of the module,
// configured through CreateConfig and Traefik's mapstructure options, and
// driven with real HTTP requests.
package traefiktest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mitchellh/mapstructure"

	"github.com/dailytoken/dailytoken/internal/casetable"
	"github.com/dailytoken/dailytoken/test/yaegiharness"
	"github.com/dailytoken/dailytoken/traefikplugin"
)

// moduleRoot is the root of the dailytoken module, the plugin's module.
var moduleRoot = filepath.Join("..", "..")

// loadPlugin loads the plugin into a new interpreter, as Traefik does once
// at start-up, and fails the test if Traefik would fail to load it.
func loadPlugin(tb testing.TB) *yaegiharness.Plugin {
	tb.Helper()
	plugin, err := yaegiharness.LoadPlugin(tb, moduleRoot)
	if err != nil {
		tb.Fatalf("load plugin: %v", err)
	}
	return plugin
}

// middlewareFactory builds one middleware from dynamic configuration, either
// under Yaegi or compiled.
type middlewareFactory func(ctx context.Context, options map[string]any, next http.Handler, name string) (http.Handler, error)

func interpretedFactory(plugin *yaegiharness.Plugin) middlewareFactory {
	return plugin.NewMiddleware
}

// compiledFactory builds the middleware from the compiled plugin package,
// decoding options with the same mapstructure options as the harness.
func compiledFactory(ctx context.Context, options map[string]any, next http.Handler, name string) (http.Handler, error) {
	config, err := decodeCompiled(options)
	if err != nil {
		return nil, err
	}
	return traefikplugin.New(ctx, next, config, name)
}

func decodeCompiled(options map[string]any) (*traefikplugin.Config, error) {
	config := traefikplugin.CreateConfig()
	if len(options) == 0 {
		return config, nil
	}
	decoder, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		DecodeHook:       mapstructure.StringToSliceHookFunc(","),
		WeaklyTypedInput: true,
		Result:           config,
	})
	if err != nil {
		return nil, err
	}
	if err := decoder.Decode(options); err != nil {
		return nil, err
	}
	return config, nil
}

// traefikOptions translates a neutral case configuration into the plugin's
// dynamic configuration, in the shape the file provider gives for YAML:
// lists as []any, nested maps as map[string]any.
func traefikOptions(c casetable.Config) map[string]any {
	options := map[string]any{}
	setString := func(key, value string) {
		if value != "" {
			options[key] = value
		}
	}
	setBool := func(key string, value bool) {
		if value {
			options[key] = true
		}
	}
	setList := func(key string, values []string) {
		if len(values) == 0 {
			return
		}
		list := make([]any, len(values))
		for i, value := range values {
			list[i] = value
		}
		options[key] = list
	}

	setString("mode", c.Mode)
	setList("keys", c.Keys)
	setList("sources", c.Sources)
	setString("leeway", c.Leeway)
	setString("maxLifetime", c.MaxLifetime)
	setBool("allowMissingExp", c.AllowMissingExp)
	setString("room", c.Room)
	setBool("allowRoomless", c.AllowRoomless)
	setString("domainId", c.DomainID)
	setBool("requireOwner", c.RequireOwner)
	setList("requirePermissions", c.RequirePermissions)
	setBool("stripToken", c.StripToken)
	setString("headerPrefix", c.HeaderPrefix)
	setBool("allowPreflight", c.AllowPreflight)
	if c.MaxTokenSize != 0 {
		options["maxTokenSize"] = c.MaxTokenSize
	}
	setString("realm", c.Realm)
	if len(c.Claims) > 0 {
		options["claims"] = c.Claims
	}
	setString("lifetime", c.Lifetime)
	setBool("notBefore", c.NotBefore)
	setString("target", c.Target)
	return options
}

// recordingUpstream is the next handler of a middleware: it records each
// request it receives and responds 200.
type recordingUpstream struct {
	mu       sync.Mutex
	requests []*casetable.UpstreamRequest
}

func (u *recordingUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.requests = append(u.requests, &casetable.UpstreamRequest{Header: r.Header.Clone(), RawQuery: r.URL.RawQuery})
	u.mu.Unlock()

	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "upstream reached")
}

// last returns the last recorded request, or nil.
func (u *recordingUpstream) last() *casetable.UpstreamRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.requests) == 0 {
		return nil
	}
	return u.requests[len(u.requests)-1]
}

// serve starts an HTTP server in front of handler for the rest of the test.
func serve(tb testing.TB, handler http.Handler) *httptest.Server {
	tb.Helper()
	server := httptest.NewServer(handler)
	tb.Cleanup(server.Close)
	return server
}

// send sends request to server over HTTP and returns the response.
func send(tb testing.TB, server *httptest.Server, request casetable.Request) (*http.Response, []byte) {
	tb.Helper()
	httpRequest, err := http.NewRequest(request.Method, server.URL+request.Target, nil)
	if err != nil {
		tb.Fatalf("build request %s %.80s: %v", request.Method, request.Target, err)
	}
	for name, values := range request.Header {
		// Keys are copied as written, so a lower-case name is sent as such.
		httpRequest.Header[name] = append([]string(nil), values...)
	}

	response, err := server.Client().Do(httpRequest)
	if err != nil {
		tb.Fatalf("send %s %.80s: %v", request.Method, request.Target, err)
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	if err != nil {
		tb.Fatalf("read answer to %s %.80s: %v", request.Method, request.Target, err)
	}
	return response, body
}

// runCase builds the case's middleware with factory, sends its request
// through a real server and checks the response and the upstream request. It
// returns the minted token, if any.
func runCase(t *testing.T, factory middlewareFactory, c casetable.Case) string {
	t.Helper()
	upstream := &recordingUpstream{}
	handler, err := factory(context.Background(), traefikOptions(c.Config), upstream, "case@file")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	server := serve(t, handler)

	request := c.Request(time.Now())
	response, body := send(t, server, request)
	minted, problems := c.Check(request, casetable.Observation{
		Status:   response.StatusCode,
		Header:   response.Header,
		Body:     body,
		Upstream: upstream.last(),
	})
	for _, problem := range problems {
		t.Error(problem)
	}
	return minted
}

// stdoutTB is a testing.TB whose Log calls are also kept, so a test can read
// what the interpreted plugin printed: the harness sends the plugin's
// standard output to the test log.
type stdoutTB struct {
	testing.TB

	mu  *sync.Mutex
	out *bytes.Buffer
}

func newStdoutTB(tb testing.TB) stdoutTB {
	return stdoutTB{TB: tb, mu: &sync.Mutex{}, out: &bytes.Buffer{}}
}

func (s stdoutTB) Log(args ...any) {
	s.mu.Lock()
	fmt.Fprintln(s.out, args...)
	s.mu.Unlock()
	s.TB.Log(args...)
}

func (s stdoutTB) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// waitForGoroutines lets finished goroutines exit and returns the number
// left once it is at most want, or after a bounded number of rounds.
func waitForGoroutines(want int) int {
	count := runtime.NumGoroutine()
	for round := 0; round < 100 && count > want; round++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		count = runtime.NumGoroutine()
	}
	return count
}

// mustContain fails the test unless s contains every part.
func mustContain(t *testing.T, what, s string, parts ...string) {
	t.Helper()
	for _, part := range parts {
		if !strings.Contains(s, part) {
			t.Errorf("%s = %q, expected it to contain %q", what, s, part)
		}
	}
}
