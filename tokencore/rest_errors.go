package tokencore

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RESTError is a failed call to Daily's REST API. Err is the *Error an
// adapter responds with; the other fields are for logs and
// metrics. AsError and StatusOf return Err, also under Yaegi; compiled code
// can use errors.Is(err, ErrUnavailable) too, through Unwrap. No field
// contains the token or the API key.
type RESTError struct {
	// Err is the kind-specific error: ErrUnavailable, ErrRateLimited,
	// ErrRejectedByDailyAPI or, for minting, ErrInvalidRequestValue.
	Err *Error

	// Endpoint is EndpointIntrospect or EndpointMint.
	Endpoint string

	// StatusCode is the API's HTTP status, or 0 when no response arrived.
	StatusCode int

	// APIError is the "error" field of Daily's error body, such as
	// "invalid-request-error"; empty when the body had none.
	APIError string

	// Info is the "info" field of Daily's error body with the token and the
	// key removed, shortened to a few words.
	Info string

	// Timeout is true when the call got no response within the timeout.
	Timeout bool

	// RetryAfter is the back-off after a 429 response, also set in Err.
	RetryAfter time.Duration
}

// Error returns the description of Err.
func (e *RESTError) Error() string {
	return e.Err.Description
}

// Unwrap returns Err.
func (e *RESTError) Unwrap() error {
	return e.Err
}

// KeyRejected reports whether Daily's REST API rejected the configured API
// key, a configuration fault of this server that no client can fix.
func (e *RESTError) KeyRejected() bool {
	return e.StatusCode == http.StatusUnauthorized && e.APIError == apiErrorAuthentication ||
		e.StatusCode == http.StatusBadRequest && e.APIError == apiErrorAuthHeader
}

// AsRESTError returns the *RESTError in err's chain. Like AsError, it walks
// the chain with type assertions. Under Yaegi v0.16.1 it finds a *RESTError
// only when err is one: there, a wrapper, even fmt.Errorf with %w, hides it.
func AsRESTError(err error) (*RESTError, bool) {
	for err != nil {
		if e, ok := err.(*RESTError); ok {
			return e, true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return nil, false
		}
		err = u.Unwrap()
	}
	return nil, false
}

// ScrubSecrets returns text with every occurrence of each non-empty secret
// replaced by "[redacted]". It is for text this package does not write
// itself, such as transport errors and Daily's error bodies, which may quote
// a request URL that carries a token.
func ScrubSecrets(text string, secrets ...string) string {
	for _, secret := range secrets {
		if secret != "" && strings.Contains(text, secret) {
			text = strings.ReplaceAll(text, secret, "[redacted]")
		}
	}
	return text
}

// responseError maps a response other than 200 to a *RESTError.
//
// The rules, which favour rejecting a request over passing it:
//   - 429: ErrRateLimited, and a back-off window opens.
//   - 401 authentication-error or 400 authorization-header-error: Daily
//     rejected this server's API key, so no token can be checked or minted.
//     That is ErrUnavailable (503), a fault of the server's configuration,
//     not of the client's token, and KeyRejected reports it for the log.
//   - 400, 401, 403 or 404 to an introspection: the token is invalid, not
//     for this domain, or expired; ErrRejectedByDailyAPI (401).
//   - 400 invalid-request-error to a minting call: Daily rejected the
//     properties, which come from the route's template and the request;
//     ErrInvalidRequestValue (400).
//   - anything else, 5xx included: ErrUnavailable (503).
func (c *RESTClient) responseError(endpoint string, response *restResponse, token string) *RESTError {
	restErr := &RESTError{Endpoint: endpoint, StatusCode: response.status}
	var body map[string]json.RawMessage
	if json.Unmarshal(response.body, &body) == nil {
		var s string
		if json.Unmarshal(body["error"], &s) == nil {
			restErr.APIError = truncate(ScrubSecrets(s, token, c.key), 40)
		}
		if json.Unmarshal(body["info"], &s) == nil {
			restErr.Info = truncate(ScrubSecrets(s, token, c.key), maxAPIInfoLength)
		}
	}
	described := describeStatus(response.status, restErr.APIError)

	switch {
	case response.status == http.StatusTooManyRequests:
		wait := c.startBackoff(response.header)
		restErr.RetryAfter = wait
		restErr.Err = errorf(ErrRateLimited, "Daily's REST API (%s) returned %s: retry in %s", endpoint, described, wait)
		restErr.Err.RetryAfter = wait

	case restErr.KeyRejected():
		restErr.Err = errorf(ErrUnavailable, "Daily's REST API (%s) rejected this server's API key with %s: check the configured API key", endpoint, described)

	case endpoint == EndpointIntrospect && isTokenRejection(response.status):
		if restErr.Info != "" {
			restErr.Err = errorf(ErrRejectedByDailyAPI, "Daily's REST API rejected the token with %s: %s", described, restErr.Info)
		} else {
			restErr.Err = errorf(ErrRejectedByDailyAPI, "Daily's REST API rejected the token with %s", described)
		}

	case endpoint == EndpointMint && response.status == http.StatusBadRequest && restErr.APIError == apiErrorInvalidRequest:
		restErr.Err = errorf(ErrInvalidRequestValue, "Daily's REST API rejected the token properties: %s", restErr.Info)

	default:
		restErr.Err = errorf(ErrUnavailable, "Daily's REST API (%s) returned %s", endpoint, described)
	}
	return restErr
}

func isTokenRejection(status int) bool {
	switch status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return true
	}
	return false
}

// describeStatus returns the status with Daily's error type, such as
// "404 invalid-request-error", or with the status text when the body named
// no error type, such as "503 Service Unavailable".
func describeStatus(status int, apiError string) string {
	text := http.StatusText(status)
	if apiError != "" {
		text = apiError
	}
	if text == "" {
		return strconv.Itoa(status)
	}
	return strconv.Itoa(status) + " " + text
}
