// Package restyaegi runs the REST mode of tokencore (RESTClient,
// Introspector, RESTSigner) inside the Yaegi interpreter, set up as Traefik
// sets it up for a plugin, against the mock of Daily's REST API. The mock
// runs compiled; only tokencore is interpreted.
package restyaegi

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dailytoken/dailytoken/internal/dailymock"
	"github.com/dailytoken/dailytoken/test/yaegiharness"
	"github.com/dailytoken/dailytoken/tokencore"
)

const apiKey = "yaegi-mock-key-4c1d9e"

// interpretedSource is evaluated in the interpreter. Each function runs one
// flow and returns plain values, so the test reads them without reflection
// over interpreted types.
const interpretedSource = `
import (
	"context"
	"net/http"
	"time"

	"github.com/dailytoken/dailytoken/tokencore"
)

// outcome describes the result of one call.
func outcome(result map[string]any, prefix string, err error) {
	if err == nil {
		result[prefix+"status"] = 200
		return
	}
	result[prefix+"status"] = tokencore.StatusOf(err)
	result[prefix+"error"] = err.Error()
	if e, ok := tokencore.AsError(err); ok {
		result[prefix+"reason"] = e.Reason
		result[prefix+"retryAfter"] = e.RetryAfter
	}
	if e, ok := tokencore.AsRESTError(err); ok {
		result[prefix+"timeout"] = e.Timeout
		result[prefix+"keyRejected"] = e.KeyRejected()
		result[prefix+"apiStatus"] = e.StatusCode
	}
}

func newIntrospector(baseURL, key string, timeout time.Duration) (*tokencore.Introspector, error) {
	client, err := tokencore.NewRESTClient(tokencore.RESTConfig{APIKey: key, BaseURL: baseURL, Timeout: timeout})
	if err != nil {
		return nil, err
	}
	return tokencore.NewIntrospector(tokencore.IntrospectorConfig{Client: client})
}

// introspectTwice verifies token twice with one Introspector.
func introspectTwice(baseURL, key, token string, timeout time.Duration) map[string]any {
	result := map[string]any{}
	in, err := newIntrospector(baseURL, key, timeout)
	if err != nil {
		result["setupError"] = err.Error()
		return result
	}
	claims, _, err := in.VerifyToken(context.Background(), token)
	outcome(result, "first.", err)
	if claims != nil {
		result["room"] = claims.RoomName
		result["owner"] = claims.IsOwner != nil && *claims.IsOwner
		result["exp"] = claims.Exp.Unix()
	}
	_, _, err = in.VerifyToken(context.Background(), token)
	outcome(result, "second.", err)
	stats := in.Stats()
	result["calls"] = stats.Calls
	result["hits"] = stats.Hits
	return result
}

// authorize runs a Validator with an Introspector on r.
func authorize(baseURL, key string, r *http.Request) map[string]any {
	result := map[string]any{}
	in, err := newIntrospector(baseURL, key, 0)
	if err != nil {
		result["setupError"] = err.Error()
		return result
	}
	v, err := tokencore.NewValidator(tokencore.ValidatorConfig{
		Verifier: in,
		Room:     "{path.0}",
		Policy:   tokencore.Policy{RequireOwner: true},
	})
	if err != nil {
		result["setupError"] = err.Error()
		return result
	}
	_, err = v.Authorize(r, nil)
	outcome(result, "", err)
	return result
}

// mintTwice mints two tokens for the same claims through the REST API.
func mintTwice(baseURL, key string) map[string]any {
	result := map[string]any{}
	client, err := tokencore.NewRESTClient(tokencore.RESTConfig{APIKey: key, BaseURL: baseURL})
	if err != nil {
		result["setupError"] = err.Error()
		return result
	}
	signer, err := tokencore.NewRESTSigner(tokencore.RESTSignerConfig{Client: client})
	if err != nil {
		result["setupError"] = err.Error()
		return result
	}
	m, err := tokencore.NewMinter(tokencore.MinterConfig{
		Signer: signer,
		Claims: map[string]any{"room_name": "standup", "is_owner": true},
	})
	if err != nil {
		result["setupError"] = err.Error()
		return result
	}
	r, _ := http.NewRequest("GET", "http://127.0.0.1/join", nil)
	first, _, err := m.Mint(r, nil)
	outcome(result, "first.", err)
	second, _, err := m.Mint(r, nil)
	outcome(result, "second.", err)
	result["first"] = first
	result["second"] = second
	result["calls"] = signer.Stats().Calls
	return result
}
`

// interpreter loads tokencore into a fresh interpreter and evaluates
// interpretedSource.
func interpreter(t *testing.T) func(name string) reflect.Value {
	t.Helper()
	i := yaegiharness.NewInterpreter(t, "../..")
	yaegiharness.Eval(t, i, interpretedSource)
	return func(name string) reflect.Value {
		return yaegiharness.Eval(t, i, name)
	}
}

func call(t *testing.T, fn reflect.Value, args ...any) map[string]any {
	t.Helper()
	in := make([]reflect.Value, len(args))
	for n, arg := range args {
		in[n] = reflect.ValueOf(arg)
	}
	result, ok := fn.Call(in)[0].Interface().(map[string]any)
	if !ok {
		t.Fatalf("interpreted function returned %T, expected map[string]any", fn.Call(in)[0].Interface())
	}
	if setupError, ok := result["setupError"]; ok {
		t.Fatalf("interpreted set-up failed: %v", setupError)
	}
	return result
}

func want(t *testing.T, result map[string]any, key string, expected any) {
	t.Helper()
	if got := result[key]; !reflect.DeepEqual(got, expected) {
		t.Errorf("%s: expected %v (%T), got %v (%T)", key, expected, expected, got, got)
	}
}

func ownerClaims(room string, now time.Time) *tokencore.Claims {
	owner := true
	return &tokencore.Claims{RoomName: room, IsOwner: &owner, Iat: now, Exp: now.Add(time.Hour)}
}

func TestYaegiIntrospectorCachesValidToken(t *testing.T) {
	run := interpreter(t)
	mock := dailymock.New(t, apiKey)
	now := time.Now().Truncate(time.Second)
	token := mock.Token(ownerClaims("standup", now))

	result := call(t, run("introspectTwice"), mock.URL, apiKey, token, time.Duration(0))
	want(t, result, "first.status", 200)
	want(t, result, "second.status", 200)
	want(t, result, "room", "standup")
	want(t, result, "owner", true)
	want(t, result, "exp", now.Add(time.Hour).Unix())
	want(t, result, "calls", int64(1))
	want(t, result, "hits", int64(1))
	if got := mock.Count(dailymock.EndpointIntrospect); got != 1 {
		t.Errorf("calls to the mock: expected 1, got %d", got)
	}
}

func TestYaegiIntrospectorRejectsForeignToken(t *testing.T) {
	run := interpreter(t)
	mock := dailymock.New(t, apiKey)
	foreign := dailymock.New(t, "another-domain-key").Token(ownerClaims("standup", time.Now()))

	result := call(t, run("introspectTwice"), mock.URL, apiKey, foreign, time.Duration(0))
	want(t, result, "first.status", 401)
	want(t, result, "first.reason", "rejected_by_api")
	want(t, result, "first.apiStatus", 404)
	want(t, result, "second.status", 401)
	want(t, result, "calls", int64(1))
}

func TestYaegiIntrospectorWrongKeyIs503(t *testing.T) {
	run := interpreter(t)
	mock := dailymock.New(t, apiKey)
	mock.SetEchoSecrets(true)
	token := mock.Token(ownerClaims("standup", time.Now()))

	result := call(t, run("introspectTwice"), mock.URL, "wrong-key-1234", token, time.Duration(0))
	want(t, result, "first.status", 503)
	want(t, result, "first.keyRejected", true)
	want(t, result, "calls", int64(2))
	for _, key := range []string{"first.error", "second.error"} {
		text, _ := result[key].(string)
		if strings.Contains(text, "wrong-key-1234") || strings.Contains(text, token) {
			t.Errorf("%s %q: expected no key or token in it", key, text)
		}
	}
}

func TestYaegiIntrospectorRateLimited(t *testing.T) {
	run := interpreter(t)
	mock := dailymock.New(t, apiKey)
	mock.SetFault(dailymock.RateLimit)
	mock.SetRetryAfter("30")
	token := mock.Token(ownerClaims("standup", time.Now()))

	result := call(t, run("introspectTwice"), mock.URL, apiKey, token, time.Duration(0))
	want(t, result, "first.status", 503)
	want(t, result, "first.reason", "api_rate_limited")
	want(t, result, "first.retryAfter", 30*time.Second)
	want(t, result, "second.reason", "api_rate_limited")
	if got := mock.Count(dailymock.EndpointIntrospect); got != 1 {
		t.Errorf("calls to the mock: expected 1, the second rejected during the back-off, got %d", got)
	}
}

func TestYaegiIntrospectorStallTimesOut(t *testing.T) {
	run := interpreter(t)
	mock := dailymock.New(t, apiKey)
	mock.SetFault(dailymock.Stall)
	token := mock.Token(ownerClaims("standup", time.Now()))

	result := call(t, run("introspectTwice"), mock.URL, apiKey, token, 200*time.Millisecond)
	want(t, result, "first.status", 503)
	want(t, result, "first.timeout", true)
}

func TestYaegiIntrospectorServerDown(t *testing.T) {
	run := interpreter(t)
	mock := dailymock.New(t, apiKey)
	token := mock.Token(ownerClaims("standup", time.Now()))
	mock.Down()

	result := call(t, run("introspectTwice"), mock.URL, apiKey, token, time.Duration(0))
	want(t, result, "first.status", 503)
	want(t, result, "first.reason", "api_unavailable")
	want(t, result, "first.timeout", false)
}

func TestYaegiValidatorWithIntrospector(t *testing.T) {
	run := interpreter(t)
	mock := dailymock.New(t, apiKey)
	token := mock.Token(ownerClaims("standup", time.Now()))

	cases := []struct {
		path   string
		status int
	}{
		{"/standup/join", 200},
		{"/retro/join", 403},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(http.MethodGet, tc.path, nil)
		r.Header.Set("Authorization", "Bearer "+token)
		r.Header.Set("X-Daily-Room", "forged")
		result := call(t, run("authorize"), mock.URL, apiKey, r)
		want(t, result, "status", tc.status)
		if tc.status == 200 {
			if got := r.Header.Get("X-Daily-Room"); got != "standup" {
				t.Errorf("X-Daily-Room: expected standup, got %q", got)
			}
		}
	}
}

func TestYaegiRESTSignerReusesToken(t *testing.T) {
	run := interpreter(t)
	mock := dailymock.New(t, apiKey)

	result := call(t, run("mintTwice"), mock.URL, apiKey)
	want(t, result, "first.status", 200)
	want(t, result, "second.status", 200)
	want(t, result, "calls", int64(1))
	first, _ := result["first"].(string)
	if first == "" || result["second"] != first {
		t.Errorf("tokens: expected the same token twice, got two different or empty ones")
	}

	codec, err := tokencore.NewCodec([][]byte{[]byte(apiKey)}, 0)
	if err != nil {
		t.Fatalf("NewCodec: %v", err)
	}
	claims, _, err := tokencore.NewLocalVerifier(codec).VerifyToken(t.Context(), first)
	if err != nil {
		t.Fatalf("minted token does not verify: %v", err)
	}
	if claims.RoomName != "standup" || claims.IsOwner == nil || !*claims.IsOwner {
		t.Errorf("claims: expected room standup and owner, got room %q owner %v", claims.RoomName, claims.IsOwner)
	}
}
