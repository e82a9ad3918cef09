package caddymodule

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
	"github.com/dailytoken/dailytoken/internal/casetable"
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
	load(t, globalOptionsWith(extra)+site, "caddyfile")
}

// started is set once caddytest has started the in-process Caddy.
var started bool

// load loads config, of the adapter's type or "json", into the test server.
// caddytest starts the server with the first config. Later configs are
// posted to the admin endpoint directly: caddytest checks that the
// endpoint answers before every load, and starts a second server when it
// does not, which happens while Caddy replaces its admin endpoint after the
// previous load. Caddy's /load returns only after the previous config's
// server has shut down, which waits for open connections, so the client's
// connections are closed before and after.
func load(t *testing.T, config, configType string) {
	t.Helper()
	client.CloseIdleConnections()
	defer client.CloseIdleConnections()

	if !started {
		tester := caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{
			AdminPort:          adminPort,
			LoadRequestTimeout: 30 * time.Second,
		})
		tester.InitServer(config, configType)
		if t.Failed() {
			t.FailNow()
		}
		started = true
		return
	}

	status, body := postConfig(t, config, configType)
	if status != http.StatusOK {
		t.Fatalf("loading the config: %d %s", status, body)
	}
}

// postConfig posts config to the admin endpoint's /load and returns the
// status and body of the answer. It tries again while the endpoint refuses
// connections, as it does while Caddy replaces it.
func postConfig(t *testing.T, config, configType string) (int, string) {
	t.Helper()
	contentType := "text/" + configType
	if configType == "json" {
		contentType = "application/json"
	}
	url := fmt.Sprintf("http://localhost:%d/load", adminPort)

	var lastErr error
	for attempt := 1; attempt <= 20; attempt++ {
		resp, err := adminClient.Post(url, contentType, strings.NewReader(config))
		if err != nil {
			lastErr = err
			time.Sleep(50 * time.Millisecond)
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("POST %s: reading body: %v", url, err)
		}
		return resp.StatusCode, string(body)
	}
	t.Fatalf("POST %s: %v", url, lastErr)
	return 0, ""
}

// adminClient talks to the admin endpoint. It keeps no connection open,
// because Caddy replaces the endpoint's server on every load.
var adminClient = &http.Client{
	Timeout:   30 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true},
}

// loadJSON loads a JSON config into the test server.
func loadJSON(t *testing.T, config string) {
	t.Helper()
	load(t, config, "json")
}

// assertLoadError loads the global options and site into the test server
// and checks that the load fails with an error that contains expected.
// caddytest.AssertLoadError is not used because it always talks to the
// default admin port, and starts a second server there.
func assertLoadError(t *testing.T, site, expected string) {
	t.Helper()
	loadCaddyfile(t, fmt.Sprintf("http://:%d {\n\trespond \"running\"\n}\n", sitePort))

	status, body := postConfig(t, globalOptions+site, "caddyfile")
	if status == http.StatusOK {
		t.Fatalf("the config loaded, expected an error containing %q", expected)
	}
	if !strings.Contains(body, expected) {
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

// roomClaims returns the claims of a token for room, valid for ten minutes.
func roomClaims(room string) map[string]any {
	now := time.Now().Unix()
	return map[string]any{"r": room, "ud": "user-1", "u": "Ann", "iat": now, "exp": now + 600}
}

// roomToken returns a token for room signed with testKey.
func roomToken(room string) string {
	return casetable.Sign(testKey, casetable.HS256Header, roomClaims(room))
}

// claimHeaderNames lists the headers that daily_token sets upstream.
var claimHeaderNames = []string{
	"X-Daily-Room", "X-Daily-User-Id", "X-Daily-User-Name", "X-Daily-Is-Owner",
	"X-Daily-Domain-Id", "X-Daily-Exp", "X-Daily-Claims",
}
