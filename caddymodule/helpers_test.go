package caddymodule

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// The in-process Caddy that caddytest starts serves every integration test
// of this package, one config at a time, so these tests never run in
// parallel. Its ports are fixed, on loopback, and far from Caddy's defaults.
const (
	adminPort = 2419
	sitePort  = 9341
)

// testKey signs the tokens of the integration tests.
const testKey = "test-key-0123456789abcdef"

// globalOptions keep the test server on loopback, without HTTPS, and
// without writing its config to disk.
var globalOptions = globalOptionsWith("")

// globalOptionsWith returns globalOptions with more global options added.
func globalOptionsWith(extra string) string {
	return fmt.Sprintf(`{
	admin localhost:%d
	persist_config off
	auto_https off
	default_bind 127.0.0.1
%s}
`, adminPort, extra)
}

// siteURL is the base URL of the test site.
var siteURL = fmt.Sprintf("http://127.0.0.1:%d", sitePort)

// loadCaddyfile loads the global options and site into the test server.
func loadCaddyfile(t *testing.T, site string) {
	t.Helper()
	loadCaddyfileWith(t, "", site)
}

// loadCaddyfileWith loads the global options, extended by extra, and site
// into the test server.
func loadCaddyfileWith(t *testing.T, extra, site string) {
	t.Helper()
	tester := caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: adminPort})
	tester.InitServer(globalOptionsWith(extra)+site, "caddyfile")
	if t.Failed() {
		t.FailNow()
	}

	// connections kept alive belong to the previous config's server
	client.CloseIdleConnections()
}

// loadJSON loads a JSON config into the test server.
func loadJSON(t *testing.T, config string) {
	t.Helper()
	tester := caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: adminPort})
	tester.InitServer(config, "json")
	if t.Failed() {
		t.FailNow()
	}
	client.CloseIdleConnections()
}

// assertLoadError loads the global options and site into the test server
// and checks that the load fails with an error that contains expected.
// caddytest.AssertLoadError is not used because it always talks to the
// default admin port, and starts a second server there.
func assertLoadError(t *testing.T, site, expected string) {
	t.Helper()
	loadCaddyfile(t, fmt.Sprintf("http://:%d {\n\trespond \"running\"\n}\n", sitePort))

	url := fmt.Sprintf("http://localhost:%d/load", adminPort)
	resp, err := client.Post(url, "text/caddyfile", strings.NewReader(globalOptions+site))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: reading body: %v", url, err)
	}
	if resp.StatusCode == http.StatusOK {
		t.Fatalf("the config loaded, expected an error containing %q", expected)
	}
	if !strings.Contains(string(body), expected) {
		t.Errorf("load error = %s, expected it to contain %q", body, expected)
	}
}

// client sends the test requests. It keeps no cookies and follows no
// redirects, so every test gets the server's response unchanged.
var client = &http.Client{
	Timeout: 5 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// response is an HTTP response with its body read.
type response struct {
	status int
	header http.Header
	body   string
}

// send sends req, which has no body, and reads the response. A request
// sent just after a config load can meet a connection that the previous
// server closes while it shuts down, so send tries up to three times when
// no response arrived at all.
func send(t *testing.T, req *http.Request) response {
	t.Helper()
	var resp *http.Response
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		resp, err = client.Do(req)
		if err == nil {
			break
		}
		t.Logf("%s %.120s: attempt %d: %.200v", req.Method, req.URL, attempt, err)
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("%s %.120s: %.200v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %.120s: reading body: %v", req.Method, req.URL, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

// get sends a GET to path on the test site with the given headers, each
// "Name: value"; a name may repeat.
func get(t *testing.T, path string, headers ...string) response {
	t.Helper()
	return send(t, newRequest(t, http.MethodGet, path, headers...))
}

func newRequest(t *testing.T, method, path string, headers ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, siteURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, header := range headers {
		name, value, found := strings.Cut(header, ":")
		if !found {
			t.Fatalf("header %q has no colon", header)
		}
		req.Header.Add(name, strings.TrimSpace(value))
	}
	return req
}

// bearer returns an Authorization header line for token.
func bearer(token string) string {
	return "Authorization: Bearer " + token
}

// upstream is a loopback HTTP server that records the requests it gets.
type upstream struct {
	server   *httptest.Server
	mu       sync.Mutex
	requests []*http.Request
}

// newUpstream starts an upstream that responds with 200 "upstream".
func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.requests = append(u.requests, r.Clone(r.Context()))
		u.mu.Unlock()
		io.WriteString(w, "upstream")
	}))
	t.Cleanup(u.server.Close)
	return u
}

// addr returns host:port for reverse_proxy.
func (u *upstream) addr() string {
	return strings.TrimPrefix(u.server.URL, "http://")
}

// count returns the number of requests received.
func (u *upstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.requests)
}

// last returns the last request received and fails the test if there is none.
func (u *upstream) last(t *testing.T) *http.Request {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.requests) == 0 {
		t.Fatal("the upstream received no request")
	}
	return u.requests[len(u.requests)-1]
}

// signToken signs claims with key under the JOSE header, without the core,
// so the tests can also make tokens the core would never make.
func signToken(key, header string, claims map[string]any) string {
	payload, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	signingInput := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." +
		base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(signingInput))
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// hs256Header is the header of every Daily token.
const hs256Header = `{"alg":"HS256","typ":"JWT"}`

// roomClaims returns the claims of a token for room, valid for ten minutes.
func roomClaims(room string) map[string]any {
	now := time.Now().Unix()
	return map[string]any{"r": room, "ud": "user-1", "u": "Ann", "iat": now, "exp": now + 600}
}

// roomToken returns a token for room signed with testKey.
func roomToken(room string) string {
	return signToken(testKey, hs256Header, roomClaims(room))
}

// with returns a copy of claims with the changes applied; a nil value
// removes the claim.
func with(claims map[string]any, changes map[string]any) map[string]any {
	out := map[string]any{}
	for name, value := range claims {
		out[name] = value
	}
	for name, value := range changes {
		if value == nil {
			delete(out, name)
			continue
		}
		out[name] = value
	}
	return out
}

// claimHeaderNames lists the headers that daily_token sets upstream.
var claimHeaderNames = []string{
	"X-Daily-Room", "X-Daily-User-Id", "X-Daily-User-Name", "X-Daily-Is-Owner",
	"X-Daily-Domain-Id", "X-Daily-Exp", "X-Daily-Claims",
}
