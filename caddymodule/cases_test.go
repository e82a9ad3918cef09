package caddymodule

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/dailytoken/dailytoken/internal/casetable"
)

// Failures reported against other JWT middleware, each turned into the
// behaviour this module must show.

func TestCasePreflightNeedsOption(t *testing.T) {
	up := newUpstream(t)
	loadCaddyfile(t, fmt.Sprintf(`http://:%d {
	handle /default/* {
		daily_token {
			keys %[2]s
		}
		reverse_proxy %[3]s
	}
	handle /preflight/* {
		daily_token {
			keys %[2]s
			allow_preflight
		}
		reverse_proxy %[3]s
	}
}
`, sitePort, testKey, up.addr()))

	preflight := []string{"Origin: http://app.localhost", "Access-Control-Request-Method: POST", "X-Daily-Is-Owner: true"}
	resp := send(t, newRequest(t, http.MethodOptions, "/default/x", preflight...))
	if resp.status != http.StatusUnauthorized {
		t.Errorf("default: preflight status = %d, expected 401", resp.status)
	}
	if up.count() != 0 {
		t.Fatalf("default: the upstream received the preflight")
	}

	resp = send(t, newRequest(t, http.MethodOptions, "/preflight/x", preflight...))
	if resp.status != http.StatusOK {
		t.Fatalf("allow_preflight: preflight status = %d, expected 200 from the upstream", resp.status)
	}
	if value := up.last(t).Header.Get("X-Daily-Is-Owner"); value != "" {
		t.Errorf("allow_preflight: upstream X-Daily-Is-Owner = %q, expected the client's value removed", value)
	}

	// an OPTIONS request that is not a preflight still needs a token
	resp = send(t, newRequest(t, http.MethodOptions, "/preflight/x"))
	if resp.status != http.StatusUnauthorized {
		t.Errorf("allow_preflight: plain OPTIONS status = %d, expected 401", resp.status)
	}
}

func TestCaseForeignAlgorithmsRejected(t *testing.T) {
	up := newUpstream(t)
	loadCaddyfile(t, validateSite(up, ""))

	claims := roomClaims("hello")
	valid := roomToken("hello")
	noneToken := casetable.Sign(testKey, `{"alg":"none","typ":"JWT"}`, claims)
	tests := []struct {
		name  string
		token string
	}{
		{"none with empty signature", noneToken[:strings.LastIndex(noneToken, ".")+1]},
		{"none with the HS256 signature", casetable.Sign(testKey, `{"alg":"none","typ":"JWT"}`, claims)},
		{"HS512 header", casetable.Sign(testKey, `{"alg":"HS512","typ":"JWT"}`, claims)},
		{"RS256 header", casetable.Sign(testKey, `{"alg":"RS256","typ":"JWT"}`, claims)},
		{"RS256 header, HS256 signature bytes", swapHeader(valid, `{"alg":"RS256","typ":"JWT"}`)},
		{"none header, HS256 signature bytes", swapHeader(valid, `{"alg":"none"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(t, "/rooms/hello/", bearer(tt.token))
			if resp.status != http.StatusUnauthorized {
				t.Errorf("status = %d, expected 401", resp.status)
			}
		})
	}
	if up.count() != 0 {
		t.Errorf("the upstream received %d requests, expected none", up.count())
	}
}

// swapHeader replaces the header segment of token and keeps its signature.
func swapHeader(token, header string) string {
	rest := token[strings.Index(token, "."):]
	return base64.RawURLEncoding.EncodeToString([]byte(header)) + rest
}

func TestCaseBasicAndBearerTogether(t *testing.T) {
	up := newUpstream(t)
	loadCaddyfile(t, validateSite(up, ""))

	valid := roomToken("hello")
	resp := get(t, "/rooms/hello/", "Authorization: Basic YWxpY2U6ZGVtbw==", bearer(valid))
	if resp.status != http.StatusOK {
		t.Errorf("Basic then Bearer: status = %d, expected 200", resp.status)
	}

	other := casetable.Sign(testKey, casetable.HS256Header, casetable.With(roomClaims("hello"), map[string]any{"ud": "user-2"}))
	resp = get(t, "/rooms/hello/", bearer(valid), bearer(other))
	if resp.status != http.StatusUnauthorized {
		t.Errorf("two different Bearer tokens: status = %d, expected 401", resp.status)
	}
	if challenge := resp.header.Get("WWW-Authenticate"); !strings.Contains(challenge, `error="invalid_request"`) {
		t.Errorf("two different Bearer tokens: WWW-Authenticate = %q, expected invalid_request", challenge)
	}

	// a token in the query that differs from the header is as ambiguous
	resp = get(t, "/rooms/hello/?t="+other, bearer(valid))
	if resp.status != http.StatusUnauthorized {
		t.Errorf("header and query differ: status = %d, expected 401", resp.status)
	}
}

func TestCaseClientClaimHeadersRemoved(t *testing.T) {
	up := newUpstream(t)
	loadCaddyfile(t, validateSite(up, ""))

	forged := []string{"X-Daily-Room: hello", "X-Daily-Is-Owner: true", "X-Daily-User-Id: admin", "X_Daily_Is_Owner: true", "x-daily-extra: 1"}

	// without a token, or with a token for another room, nothing reaches the upstream
	if resp := get(t, "/rooms/hello/", forged...); resp.status != http.StatusUnauthorized {
		t.Errorf("forged headers without a token: status = %d, expected 401", resp.status)
	}
	if resp := get(t, "/rooms/hello/", append(forged, bearer(roomToken("other")))...); resp.status != http.StatusForbidden {
		t.Errorf("forged headers with another room's token: status = %d, expected 403", resp.status)
	}
	if up.count() != 0 {
		t.Fatalf("the upstream received %d rejected requests", up.count())
	}

	// with a valid token the upstream receives only verified values
	if resp := get(t, "/rooms/hello/", append(forged, bearer(roomToken("hello")))...); resp.status != http.StatusOK {
		t.Fatalf("forged headers with a valid token: status = %d, expected 200", resp.status)
	}
	got := up.last(t).Header
	for name, values := range got {
		normalized := strings.ReplaceAll(strings.ToLower(name), "_", "-")
		if !strings.HasPrefix(normalized, "x-daily-") {
			continue
		}
		for _, value := range values {
			if value == "admin" || (normalized == "x-daily-is-owner" && value != "false") || normalized == "x-daily-extra" {
				t.Errorf("upstream header %s: %q came from the client", name, value)
			}
		}
	}
	if value := got.Get("X-Daily-User-Id"); value != "user-1" {
		t.Errorf("X-Daily-User-Id = %q, expected user-1 from the token", value)
	}
	if values := got.Values("X-Daily-Is-Owner"); len(values) != 1 || values[0] != "false" {
		t.Errorf("X-Daily-Is-Owner = %q, expected only false from the token", values)
	}
}

func TestCaseStripTokenEverywhere(t *testing.T) {
	up := newUpstream(t)
	loadCaddyfile(t, validateSite(up, "sources bearer query:t cookie:daily_token header:X-Meeting-Token\n\t\t\tstrip_token"))

	token := roomToken("hello")
	tests := []struct {
		name    string
		path    string
		headers []string
	}{
		{"query", "/rooms/hello/?a=1&t=" + token + "&b=%2F2", []string{"Cookie: theme=dark; lang=en"}},
		{"cookie", "/rooms/hello/?a=1&b=%2F2", []string{"Cookie: theme=dark; daily_token=" + token + "; lang=en"}},
		{"header", "/rooms/hello/?a=1&b=%2F2", []string{"X-Meeting-Token: " + token, "Cookie: theme=dark; lang=en"}},
		{"bearer", "/rooms/hello/?a=1&b=%2F2", []string{bearer(token), "Cookie: theme=dark; lang=en"}},
		{"all at once", "/rooms/hello/?a=1&t=" + token + "&b=%2F2", []string{bearer(token), "X-Meeting-Token: " + token, "Cookie: theme=dark; daily_token=" + token + "; lang=en"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(t, tt.path, tt.headers...)
			if resp.status != http.StatusOK {
				t.Fatalf("status = %d, expected 200; WWW-Authenticate %q", resp.status, resp.header.Get("WWW-Authenticate"))
			}
			got := up.last(t)
			if got.URL.RawQuery != "a=1&b=%2F2" {
				t.Errorf("upstream query = %q, expected a=1&b=%%2F2 unchanged", got.URL.RawQuery)
			}
			if value := got.Header.Get("Cookie"); value != "theme=dark; lang=en" {
				t.Errorf("upstream Cookie = %q, expected theme=dark; lang=en", value)
			}
			for _, name := range []string{"Authorization", "X-Meeting-Token"} {
				if value := got.Header.Get(name); value != "" {
					t.Errorf("upstream %s = %q, expected the token removed", name, value)
				}
			}
			if value := got.Header.Get("X-Daily-Room"); value != "hello" {
				t.Errorf("X-Daily-Room = %q, expected hello", value)
			}
		})
	}
}

func TestCaseBearerSpellings(t *testing.T) {
	up := newUpstream(t)
	loadCaddyfile(t, validateSite(up, ""))

	token := roomToken("hello")
	tests := []struct {
		name   string
		value  string
		status int
	}{
		{"lower-case scheme", "bearer " + token, 200},
		{"several spaces", "Bearer   " + token, 200},
		{"colon instead of space", "Bearer:" + token, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(t, http.MethodGet, "/rooms/hello/")
			req.Header["authorization"] = []string{tt.value} // sent as written, in lower case
			resp := send(t, req)
			if resp.status != tt.status {
				t.Errorf("status = %d, expected %d", resp.status, tt.status)
			}
		})
	}
}

func TestCaseFutureTimes(t *testing.T) {
	up := newUpstream(t)
	loadCaddyfile(t, validateSite(up, ""))

	now := time.Now().Unix()
	notBefore := casetable.Sign(testKey, casetable.HS256Header, casetable.With(roomClaims("hello"), map[string]any{"nbf": now + 10}))
	if resp := get(t, "/rooms/hello/", bearer(notBefore)); resp.status != http.StatusOK {
		t.Errorf("nbf 10s ahead within the default leeway: status = %d, expected 200", resp.status)
	}
	issuedLater := casetable.Sign(testKey, casetable.HS256Header, casetable.With(roomClaims("hello"), map[string]any{"iat": now + 600, "exp": now + 1200}))
	if resp := get(t, "/rooms/hello/", bearer(issuedLater)); resp.status != http.StatusUnauthorized {
		t.Errorf("iat 10m ahead: status = %d, expected 401", resp.status)
	}
	notYet := casetable.Sign(testKey, casetable.HS256Header, casetable.With(roomClaims("hello"), map[string]any{"nbf": now + 120}))
	if resp := get(t, "/rooms/hello/", bearer(notYet)); resp.status != http.StatusUnauthorized {
		t.Errorf("nbf 2m ahead: status = %d, expected 401", resp.status)
	}
}

func TestCaseExpiredToken(t *testing.T) {
	up := newUpstream(t)
	loadCaddyfile(t, validateSite(up, ""))

	now := time.Now().Unix()
	expired := casetable.Sign(testKey, casetable.HS256Header, casetable.With(roomClaims("hello"), map[string]any{"iat": now - 7200, "exp": now - 3600}))
	resp := get(t, "/rooms/hello/?t="+expired)
	if resp.status != http.StatusUnauthorized {
		t.Errorf("status = %d, expected 401", resp.status)
	}
	if challenge := resp.header.Get("WWW-Authenticate"); !strings.Contains(challenge, "expired at") {
		t.Errorf("WWW-Authenticate = %q, expected a description with the expiry", challenge)
	}
}

func TestCaseKeySizes(t *testing.T) {
	for _, size := range []int{1, 17, 64, 200} {
		t.Run(fmt.Sprintf("%d bytes", size), func(t *testing.T) {
			key := strings.Repeat("k", size-1) + "z"
			// a variable per size, because Caddy skips loading a config
			// whose text has not changed, and would keep the previous key
			variable := fmt.Sprintf("DAILY_TEST_KEY_%d", size)
			t.Setenv(variable, key)
			up := newUpstream(t)
			loadCaddyfile(t, fmt.Sprintf(`http://:%d {
	daily_token {
		keys {env.%s}
	}
	reverse_proxy %s
}
`, sitePort, variable, up.addr()))

			token := casetable.Sign(key, casetable.HS256Header, roomClaims("hello"))
			if resp := get(t, "/", bearer(token)); resp.status != http.StatusOK {
				t.Errorf("status = %d, expected 200", resp.status)
			}
			other := casetable.Sign(key+"x", casetable.HS256Header, roomClaims("hello"))
			if resp := get(t, "/", bearer(other)); resp.status != http.StatusUnauthorized {
				t.Errorf("token of a longer key: status = %d, expected 401", resp.status)
			}
		})
	}
}

func TestCaseEmptyKeyFailsLoad(t *testing.T) {
	t.Setenv("DAILY_EMPTY_KEY", "")
	tests := []struct {
		name     string
		keys     string
		expected string
	}{
		{"empty string", `""`, "keys[0]: resolves to an empty key"},
		{"empty variable", "{env.DAILY_EMPTY_KEY}", "keys[0]: resolves to an empty key: placeholder {env.DAILY_EMPTY_KEY}"},
		{"unset variable, second key", "first-key {env.DAILY_UNSET_KEY_FOR_TEST}", "keys[1]: resolves to an empty key"},
		{"unknown placeholder", "{nv.DAILY_API_KEY}", "keys[0]: resolves to an empty key: placeholder {nv.DAILY_API_KEY}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertLoadError(t, fmt.Sprintf(`http://:%d {
	daily_token {
		keys %s
	}
	respond "reached"
}
`, sitePort, tt.keys), tt.expected)
		})
	}
}

func TestCaseOversizedTokens(t *testing.T) {
	huge := "Authorization: Bearer " + strings.Repeat("a", 100*1024)
	long := "/rooms/hello/?t=" + strings.Repeat("b", 64*1024)

	// Caddy's default header limit, 16 KB, stops both before daily_token
	up := newUpstream(t)
	loadCaddyfile(t, validateSite(up, ""))
	if resp := get(t, "/rooms/hello/", huge); resp.status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("default limit, 100 KB Authorization header: status = %d, expected 431", resp.status)
	}
	if resp := get(t, long); resp.status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("default limit, 64 KB token in ?t=: status = %d, expected 431", resp.status)
	}

	// with a 1 MB limit they reach daily_token, which rejects them by size
	loadCaddyfileWith(t, "\tservers {\n\t\tmax_header_size 1MB\n\t}\n", validateSite(up, ""))
	for name, resp := range map[string]response{
		"100 KB Authorization header": get(t, "/rooms/hello/", huge),
		"64 KB token in ?t=":          get(t, long),
	} {
		if resp.status != http.StatusUnauthorized {
			t.Errorf("%s: status = %d, expected 401", name, resp.status)
		}
		if challenge := resp.header.Get("WWW-Authenticate"); !strings.Contains(challenge, "over the limit of 4096") &&
			!strings.Contains(challenge, "over the token limit of 4096") {
			t.Errorf("%s: WWW-Authenticate = %q, expected the size limit", name, challenge)
		}
	}
	if up.count() != 0 {
		t.Errorf("the upstream received an oversized token")
	}

	// the server is still serving
	if resp := get(t, "/rooms/hello/", bearer(roomToken("hello"))); resp.status != http.StatusOK {
		t.Errorf("after oversized tokens: status = %d, expected 200", resp.status)
	}
}

func TestCaseDomainIDMismatch(t *testing.T) {
	up := newUpstream(t)
	const domainID = "25df5057-ef0d-4d97-bde6-0cf287276cbb"
	loadCaddyfile(t, validateSite(up, "domain_id "+domainID))

	token := casetable.Sign(testKey, casetable.HS256Header, casetable.With(roomClaims("hello"), map[string]any{"d": "mydomain"}))
	resp := get(t, "/rooms/hello/", bearer(token))
	if resp.status != http.StatusUnauthorized {
		t.Errorf("status = %d, expected 401", resp.status)
	}
	challenge := resp.header.Get("WWW-Authenticate")
	if !strings.Contains(challenge, "domain id") || !strings.Contains(challenge, domainID) || !strings.Contains(challenge, "mydomain") {
		t.Errorf("WWW-Authenticate = %q, expected a description naming both domain ids", challenge)
	}

	matching := casetable.Sign(testKey, casetable.HS256Header, casetable.With(roomClaims("hello"), map[string]any{"d": domainID}))
	if resp := get(t, "/rooms/hello/", bearer(matching)); resp.status != http.StatusOK {
		t.Errorf("matching domain id: status = %d, expected 200", resp.status)
	}
}

func TestCaseReloadsLeaveNoGoroutines(t *testing.T) {
	// respond rather than reverse_proxy: Caddy's proxy transports keep idle
	// connections to the upstream open after a reload, which would hide
	// what this module does
	config := func(generation int) string {
		var routes strings.Builder
		for i := 0; i < 50; i++ {
			fmt.Fprintf(&routes, `	handle /r%d/* {
		daily_token {
			keys %s
			room {path.1}
		}
		respond "route %d"
	}
`, i, testKey, i)
		}
		return fmt.Sprintf("http://:%d {\n%s\trespond \"generation %d\"\n}\n", sitePort, routes.String(), generation)
	}

	loadCaddyfile(t, config(0))
	get(t, "/r1/hello/", bearer(roomToken("hello")))
	client.CloseIdleConnections()
	baseline := settledGoroutines(0)

	for generation := 1; generation <= 20; generation++ {
		loadCaddyfile(t, config(generation))
		if resp := get(t, "/r7/hello/", bearer(roomToken("hello"))); resp.status != http.StatusOK {
			t.Fatalf("generation %d: status = %d, expected 200", generation, resp.status)
		}
	}
	if resp := get(t, "/", bearer(roomToken("hello"))); resp.body != "generation 20" {
		t.Fatalf("body = %q, expected the last config to serve", resp.body)
	}
	client.CloseIdleConnections()

	if count := settledGoroutines(baseline); count > baseline {
		t.Errorf("goroutines after 20 reloads of 50 routes = %d, expected at most the baseline %d", count, baseline)
		pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
	}
}

// settledGoroutines waits up to five seconds for the goroutine count to
// reach target, because servers of replaced configs stop in the background,
// and returns the last count. A target of 0 waits for the count to stop
// changing instead.
func settledGoroutines(target int) int {
	count := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		next := runtime.NumGoroutine()
		if target > 0 && next <= target {
			return next
		}
		if target == 0 && next == count {
			return next
		}
		count = next
	}
	return count
}
