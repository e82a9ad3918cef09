package tokencore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultRESTBaseURL is the base URL of Daily's REST API.
const DefaultRESTBaseURL = "https://api.daily.co/v1"

// DefaultRESTTimeout bounds each call to Daily's REST API unless configured.
// A validating route waits for the call, so the timeout is the longest delay
// the API can add to a request before the request is rejected with 503.
const DefaultRESTTimeout = 3 * time.Second

// DefaultRESTMaxBackoff caps the back-off after a 429 response unless
// configured. Daily counts its rate limit over windows of 1 s and 5 s, so a
// minute is long enough for any window and short enough to recover quickly.
const DefaultRESTMaxBackoff = time.Minute

// restFirstBackoff is the back-off after a 429 response without a usable
// Retry-After header. It doubles with every further 429 response in a row, as
// Daily advises, up to the configured maximum.
const restFirstBackoff = time.Second

// maxRESTResponseSize bounds the body read from Daily's REST API. A meeting
// token's properties or an error body fit in a few kilobytes.
const maxRESTResponseSize = 64 << 10

// maxAPIInfoLength bounds how much of Daily's "info" text goes into errors.
const maxAPIInfoLength = 160

// Endpoints of Daily's REST API, as they appear in errors and logs. The token
// is never part of them.
const (
	EndpointIntrospect = "GET /meeting-tokens/{token}"
	EndpointMint       = "POST /meeting-tokens"
)

// Error types in the "error" field of Daily's error bodies that this package
// distinguishes.
const (
	apiErrorAuthentication = "authentication-error"
	apiErrorAuthHeader     = "authorization-header-error"
	apiErrorInvalidRequest = "invalid-request-error"
)

// defaultRESTHTTPClient is used unless RESTConfig.HTTPClient is set. It
// shares http.DefaultTransport, so every RESTClient reuses one connection
// pool and none starts goroutines of its own, and it does not follow
// redirects: a redirect would carry the token in the URL to another location.
var defaultRESTHTTPClient = &http.Client{CheckRedirect: rejectRedirect}

func rejectRedirect(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}

// RESTConfig configures a RESTClient.
type RESTConfig struct {
	// APIKey is the Daily REST API key, sent as "Authorization: Bearer <key>".
	// Required.
	APIKey string

	// BaseURL is the API's base URL. Empty means DefaultRESTBaseURL. It must
	// be an absolute http or https URL without query or fragment. Plain http
	// sends the key and the tokens unencrypted: use it only on loopback, such
	// as for a mock of the API in tests.
	BaseURL string

	// Timeout bounds each call, connection set-up and reading of the response
	// included. Zero means DefaultRESTTimeout.
	Timeout time.Duration

	// MaxBackoff caps the back-off after a 429 response, whether it comes from
	// the Retry-After header or from doubling. Zero means
	// DefaultRESTMaxBackoff.
	MaxBackoff time.Duration

	// HTTPClient sends the calls. Nil means a client on
	// http.DefaultTransport that does not follow redirects. Its own Timeout,
	// if any, applies in addition to Timeout.
	HTTPClient *http.Client

	// Now returns the current time for the back-off and for the caches of
	// the Introspector and the RESTSigner built on this client. Nil means
	// time.Now.
	Now func() time.Time
}

// RESTClient calls Daily's REST API for the Introspector and the RESTSigner.
// It applies a timeout to each call, maps every failure to an *Error in a
// *RESTError, and after a 429 response makes no call until the back-off window
// has passed. A RESTClient is safe for concurrent use and starts no
// goroutines.
type RESTClient struct {
	baseURL       string
	authorization string // "Bearer <key>"
	key           string
	timeout       time.Duration
	maxBackoff    time.Duration
	httpClient    *http.Client
	now           func() time.Time

	mu           sync.Mutex
	backoffUntil time.Time
	rateLimited  int // 429 responses in a row
}

// NewRESTClient checks cfg and returns a RESTClient. Errors name the setting
// at fault in the words of RESTConfig and never contain the key.
func NewRESTClient(cfg RESTConfig) (*RESTClient, error) {
	c := &RESTClient{
		key:        cfg.APIKey,
		timeout:    cfg.Timeout,
		maxBackoff: cfg.MaxBackoff,
		httpClient: cfg.HTTPClient,
		now:        cfg.Now,
	}

	// key
	if cfg.APIKey == "" {
		return nil, errors.New("API key is empty")
	}
	for i := 0; i < len(cfg.APIKey); i++ {
		if cfg.APIKey[i] <= ' ' || cfg.APIKey[i] >= 0x7f {
			return nil, fmt.Errorf("API key has a space, control or non-ASCII character at byte %d, and an HTTP header cannot carry it", i+1)
		}
	}
	c.authorization = "Bearer " + cfg.APIKey

	// base URL
	baseURL, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	c.baseURL = baseURL

	// timeouts and defaults
	if c.timeout < 0 {
		return nil, fmt.Errorf("timeout %s is negative", c.timeout)
	}
	if c.timeout == 0 {
		c.timeout = DefaultRESTTimeout
	}
	if c.maxBackoff < 0 {
		return nil, fmt.Errorf("maximum back-off %s is negative", c.maxBackoff)
	}
	if c.maxBackoff == 0 {
		c.maxBackoff = DefaultRESTMaxBackoff
	}
	if c.maxBackoff < time.Second {
		return nil, fmt.Errorf("maximum back-off %s is less than 1s, the unit of Retry-After", c.maxBackoff)
	}
	if c.httpClient == nil {
		c.httpClient = defaultRESTHTTPClient
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

func parseBaseURL(raw string) (string, error) {
	if raw == "" {
		return DefaultRESTBaseURL, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("base URL %q is not a URL: %v", raw, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", fmt.Errorf("base URL %q: scheme must be https or http", raw)
	}
	if u.Host == "" {
		return "", fmt.Errorf("base URL %q has no host", raw)
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		return "", fmt.Errorf("base URL %q uses http with a host other than loopback: use https, because each call carries the API key and a token", raw)
	}
	if u.User != nil {
		return "", fmt.Errorf("base URL %q must not contain user information: the API key is sent in the Authorization header", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return "", fmt.Errorf("base URL %q must not have a query or fragment", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// isLoopbackHost reports whether host is localhost or a loopback IP address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// BaseURL returns the base URL calls go to, without a trailing slash.
func (c *RESTClient) BaseURL() string {
	return c.baseURL
}

// Timeout returns the bound on each call.
func (c *RESTClient) Timeout() time.Duration {
	return c.timeout
}

// restResponse is a response of Daily's REST API, body read in full.
type restResponse struct {
	status int
	header http.Header
	body   []byte
}

// send makes one call: it returns ErrRateLimited during a back-off window,
// applies the timeout, and reads the response. sent reports whether a request went out.
// The token, if any, is scrubbed from every error text; the key never
// appears in one.
func (c *RESTClient) send(ctx context.Context, endpoint, method, path string, body []byte, token string) (response *restResponse, sent bool, err error) {
	if err := c.checkBackoff(endpoint); err != nil {
		return nil, false, err
	}

	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, reader)
	if err != nil {
		return nil, false, c.transportError(ctx, endpoint, err, token)
	}
	req.Header.Set("Authorization", c.authorization)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := c.httpClient.Do(req)
	if err != nil {
		return nil, true, c.transportError(ctx, endpoint, err, token)
	}
	defer resp.Body.Close()

	data, err := io.ReadAll(io.LimitReader(resp.Body, maxRESTResponseSize+1))
	if err != nil {
		return nil, true, c.transportError(ctx, endpoint, err, token)
	}
	if len(data) > maxRESTResponseSize {
		return nil, true, &RESTError{
			Err:        errorf(ErrUnavailable, "Daily's REST API (%s) returned %d with a body over %d bytes", endpoint, resp.StatusCode, maxRESTResponseSize),
			Endpoint:   endpoint,
			StatusCode: resp.StatusCode,
		}
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		c.endBackoff()
	}
	return &restResponse{status: resp.StatusCode, header: resp.Header, body: data}, true, nil
}

// transportError describes a call that got no complete response. The HTTP
// client's errors are *url.Error values whose text contains the request URL,
// and with it the token, so only the inner error is kept, scrubbed again in
// case it quotes the URL too.
func (c *RESTClient) transportError(ctx context.Context, endpoint string, err error, token string) *RESTError {
	if urlErr, ok := err.(*url.Error); ok {
		err = urlErr.Err
	}
	timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded) || isTimeout(err)

	restErr := &RESTError{Endpoint: endpoint, Timeout: timedOut}
	switch {
	case timedOut:
		restErr.Err = errorf(ErrUnavailable, "Daily's REST API (%s) did not respond within %s", endpoint, c.timeout)
	case errors.Is(ctx.Err(), context.Canceled):
		restErr.Err = errorf(ErrUnavailable, "the call to Daily's REST API (%s) was canceled", endpoint)
	default:
		detail := ScrubSecrets(err.Error(), token, c.key)
		restErr.Err = errorf(ErrUnavailable, "Daily's REST API (%s) is unreachable: %s", endpoint, truncate(detail, maxAPIInfoLength))
	}
	return restErr
}

func isTimeout(err error) bool {
	t, ok := err.(interface{ Timeout() bool })
	return ok && t.Timeout()
}

// checkBackoff returns ErrRateLimited with the remaining wait while a back-off
// window is open.
func (c *RESTClient) checkBackoff(endpoint string) error {
	c.mu.Lock()
	until := c.backoffUntil
	c.mu.Unlock()

	remaining := until.Sub(c.now())
	if remaining <= 0 {
		return nil
	}
	wait := ceilSeconds(remaining)
	restErr := &RESTError{
		Err:        errorf(ErrRateLimited, "Daily's REST API is rate-limiting this proxy: no call to %s for %s more", endpoint, wait),
		Endpoint:   endpoint,
		RetryAfter: wait,
	}
	restErr.Err.RetryAfter = wait
	return restErr
}

// startBackoff opens a back-off window after a 429 response and returns its
// length. The wait is the Retry-After header (seconds or an HTTP date) when
// it is present, or else 1 s doubled for every earlier 429 response in a row.
// It is at least 1 s and at most the configured maximum. 429 responses to calls
// that were already in flight when the window opened extend the window but
// do not count as another response in a row.
func (c *RESTClient) startBackoff(header http.Header) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()

	now := c.now()
	if !now.Before(c.backoffUntil) {
		c.rateLimited++
	}

	wait, ok := parseRetryAfter(header.Get("Retry-After"), now)
	if !ok {
		wait = restFirstBackoff
		for i := 1; i < c.rateLimited && wait < c.maxBackoff; i++ {
			wait *= 2
		}
	}
	if wait < time.Second {
		wait = time.Second
	}
	if wait > c.maxBackoff {
		wait = c.maxBackoff
	}
	wait = ceilSeconds(wait)

	if until := now.Add(wait); until.After(c.backoffUntil) {
		c.backoffUntil = until
	}
	return wait
}

// endBackoff resets the count of 429 responses in a row after any other
// response.
func (c *RESTClient) endBackoff() {
	c.mu.Lock()
	c.rateLimited = 0
	c.mu.Unlock()
}

// parseRetryAfter reads a Retry-After value (RFC 9110 section 10.2.3):
// whole seconds, or an HTTP date. ok is false when the value is absent or
// unreadable.
func parseRetryAfter(value string, now time.Time) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	seconds := 0
	digits := true
	for i := 0; i < len(value); i++ {
		if value[i] < '0' || value[i] > '9' {
			digits = false
			break
		}
		if seconds < 1e6 {
			seconds = seconds*10 + int(value[i]-'0')
		}
	}
	if digits {
		return time.Duration(seconds) * time.Second, true
	}
	date, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	return date.Sub(now), true
}

// ceilSeconds rounds d up to whole seconds, the unit of Retry-After.
func ceilSeconds(d time.Duration) time.Duration {
	rounded := d.Truncate(time.Second)
	if rounded < d {
		rounded += time.Second
	}
	return rounded
}

// introspect calls GET /meeting-tokens/{token} and returns the token's
// properties. ignoreNbf=true makes Daily skip the nbf check, because the
// Validator's Policy checks nbf with its leeway, as for local validation.
func (c *RESTClient) introspect(ctx context.Context, token string) (properties map[string]json.RawMessage, sent bool, err error) {
	path := "/meeting-tokens/" + url.PathEscape(token) + "?ignoreNbf=true"
	response, sent, err := c.send(ctx, EndpointIntrospect, http.MethodGet, path, nil, token)
	if err != nil {
		return nil, sent, err
	}
	if response.status != http.StatusOK {
		return nil, sent, c.responseError(EndpointIntrospect, response, token)
	}

	if err := json.Unmarshal(response.body, &properties); err != nil || properties == nil {
		return nil, sent, &RESTError{
			Err:        errorf(ErrUnavailable, "Daily's REST API (%s) returned 200 with a body that is not a JSON object", EndpointIntrospect),
			Endpoint:   EndpointIntrospect,
			StatusCode: response.status,
		}
	}
	return properties, sent, nil
}

// mint calls POST /meeting-tokens with properties and returns the token.
func (c *RESTClient) mint(ctx context.Context, properties map[string]any) (token string, sent bool, err error) {
	body, err := json.Marshal(map[string]any{"properties": properties})
	if err != nil {
		return "", false, fmt.Errorf("encoding token properties: %v", err)
	}
	response, sent, err := c.send(ctx, EndpointMint, http.MethodPost, "/meeting-tokens", body, "")
	if err != nil {
		return "", sent, err
	}
	if response.status != http.StatusOK {
		return "", sent, c.responseError(EndpointMint, response, "")
	}

	var fields map[string]json.RawMessage
	if err := json.Unmarshal(response.body, &fields); err == nil {
		var s string
		if json.Unmarshal(fields["token"], &s) == nil && checkJWSShape(s, maxRESTResponseSize) == nil {
			token = s
		}
	}
	if token == "" {
		return "", sent, &RESTError{
			Err:        errorf(ErrUnavailable, "Daily's REST API (%s) returned 200 without a token in the form of a compact JWS", EndpointMint),
			Endpoint:   EndpointMint,
			StatusCode: response.status,
		}
	}
	return token, sent, nil
}
