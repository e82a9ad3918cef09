package tokencore

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustValidator(t testing.TB, cfg ValidatorConfig) *Validator {
	t.Helper()
	if cfg.Keys == nil && cfg.Verifier == nil {
		cfg.Keys = [][]byte{testKey}
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testNow }
	}
	v, err := NewValidator(cfg)
	if err != nil {
		t.Fatalf("NewValidator: unexpected error: %v", err)
	}
	return v
}

// tokenFor signs a payload built from claims given as JSON members, with exp
// an hour after testNow unless the members set one.
func tokenFor(members string) string {
	if !strings.Contains(members, `"exp"`) {
		if members != "" {
			members += ","
		}
		members += `"exp":1700003600`
	}
	return signPayload(testKey, "{"+members+"}")
}

// clientClaimHeaders are forged claim headers a client sends.
var clientClaimHeaders = []string{
	"X-Daily-Room: forged-room",
	"X-Daily-Is-Owner: true",
	"X-Daily-User-Name: admin",
	"X_Daily_User_Id: admin",
	"X-Daily-Claims: {\"o\":true}",
}

// claimHeadersOf returns r's headers under the default prefix, normalized.
func claimHeadersOf(r *http.Request) map[string][]string {
	out := map[string][]string{}
	for name, values := range r.Header {
		if strings.HasPrefix(normalizeHeaderName(name), "x-daily-") {
			out[name] = values
		}
	}
	return out
}

func TestValidatorAuthorizeValidToken(t *testing.T) {
	v := mustValidator(t, ValidatorConfig{Room: "{path.1}"})
	token := tokenFor(`"r":"standup","d":"` + testDomainID + `","ud":"user-42","iat":1700000000`)
	r := newRequest("/rooms/standup?x=1", append([]string{"Authorization: Bearer " + token}, clientClaimHeaders...)...)

	result, err := v.Authorize(r, nil)
	if err != nil {
		t.Fatalf("Authorize: unexpected error: %v", err)
	}
	if result.Claims == nil || result.Claims.RoomName != "standup" || result.Claims.UserID != "user-42" {
		t.Errorf("Result.Claims: expected room standup and user user-42, got %+v", result.Claims)
	}
	if result.Fingerprint != Fingerprint(token) {
		t.Errorf("Result.Fingerprint: expected %s, got %s", Fingerprint(token), result.Fingerprint)
	}
	if result.Preflight {
		t.Error("Result.Preflight: expected false, got true")
	}

	// Only verified values reach the upstream: the token has no user name
	// and no owner flag, so the forged ones are gone and not replaced.
	want := map[string][]string{
		"X-Daily-Room":      {"standup"},
		"X-Daily-Domain-Id": {testDomainID},
		"X-Daily-User-Id":   {"user-42"},
		"X-Daily-Is-Owner":  {"false"},
		"X-Daily-Exp":       {"1700003600"},
		"X-Daily-Claims":    {`{"r":"standup","d":"` + testDomainID + `","ud":"user-42","iat":1700000000,"exp":1700003600}`},
	}
	if got := claimHeadersOf(r); !reflect.DeepEqual(got, want) {
		t.Errorf("claim headers:\nexpected %v\n     got %v", want, got)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+token {
		t.Error("Authorization: expected the token kept without StripToken, got it changed")
	}
}

func TestValidatorAuthorizeRejected(t *testing.T) {
	v := mustValidator(t, ValidatorConfig{Room: "{path.1}", Policy: Policy{DomainID: testDomainID, RequireOwner: true}})
	valid := `"r":"standup","d":"` + testDomainID + `","o":true`
	tampered := tokenFor(valid)
	tampered = tampered[:len(tampered)-2] + "AA"

	cases := []struct {
		name  string
		auth  string
		path  string
		want  *Error
		print bool // whether the result carries a fingerprint
	}{
		{"no token", "", "/rooms/standup", ErrMissingToken, false},
		{"malformed", "Bearer not-a-token", "/rooms/standup", ErrMalformedToken, true},
		{"tampered signature", "Bearer " + tampered, "/rooms/standup", ErrInvalidSignature, true},
		{"wrong key", "Bearer " + signPayload([]byte("other"), "{"+valid+`,"exp":1700003600}`), "/rooms/standup", ErrInvalidSignature, true},
		{"alg none", "Bearer " + signRaw(testKey, `{"alg":"none"}`, "{"+valid+"}"), "/rooms/standup", ErrUnsupportedAlg, true},
		{"expired", "Bearer " + tokenFor(valid+`,"exp":1699990000`), "/rooms/standup", ErrExpired, true},
		{"no exp", "Bearer " + signPayload(testKey, "{"+valid+"}"), "/rooms/standup", ErrMissingExpiry, true},
		{"claim of wrong type", "Bearer " + tokenFor(valid+`,"ud":42`), "/rooms/standup", ErrInvalidClaim, true},
		{"domain name in d", "Bearer " + tokenFor(`"r":"standup","d":"mydomain","o":true`), "/rooms/standup", ErrDomainMismatch, true},
		{"other room", "Bearer " + tokenFor(valid), "/rooms/other", ErrRoomMismatch, true},
		{"roomless token", "Bearer " + tokenFor(`"d":"`+testDomainID+`","o":true`), "/rooms/standup", ErrRoomNotScoped, true},
		{"no room in path", "Bearer " + tokenFor(valid), "/rooms", ErrRoomUnknown, true},
		{"not owner", "Bearer " + tokenFor(`"r":"standup","d":"`+testDomainID+`"`), "/rooms/standup", ErrNotOwner, true},
		{"Bearer with colon", "Bearer:" + tokenFor(valid), "/rooms/standup", ErrMissingToken, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			headers := append([]string(nil), clientClaimHeaders...)
			if tc.auth != "" {
				headers = append(headers, "Authorization: "+tc.auth)
			}
			r := newRequest(tc.path, headers...)

			result, err := v.Authorize(r, nil)
			wantKind(t, err, tc.want)
			if result != nil && result.Claims != nil {
				t.Errorf("Result.Claims: expected none for a rejected request, got %+v", result.Claims)
			}
			if tc.print && (result == nil || len(result.Fingerprint) != 12) {
				t.Errorf("Result.Fingerprint: expected a 12-character fingerprint, got %+v", result)
			}
			if got := claimHeadersOf(r); len(got) != 0 {
				t.Errorf("claim headers: expected none on a rejected request, got %v", got)
			}
		})
	}
}

func TestValidatorDefaultLeeway(t *testing.T) {
	v := mustValidator(t, ValidatorConfig{})

	r := newRequest("/", "Authorization: Bearer "+tokenFor(`"r":"a","nbf":1700000010`))
	if _, err := v.Authorize(r, nil); err != nil {
		t.Errorf("Authorize with nbf 10s in the future: expected acceptance, got %v", err)
	}

	r = newRequest("/", "Authorization: Bearer "+tokenFor(`"r":"a","iat":1700000600`))
	_, err := v.Authorize(r, nil)
	wantKind(t, err, ErrIssuedInFuture)

	r = newRequest("/", "Authorization: Bearer "+tokenFor(`"r":"a","exp":1699999980`))
	if _, err := v.Authorize(r, nil); err != nil {
		t.Errorf("Authorize 20s after exp: expected acceptance within the default leeway, got %v", err)
	}
}

func TestValidatorNegativeLeewayMeansNone(t *testing.T) {
	v := mustValidator(t, ValidatorConfig{Policy: Policy{Leeway: -1}})
	r := newRequest("/", "Authorization: Bearer "+tokenFor(`"r":"a","nbf":1700000001`))

	_, err := v.Authorize(r, nil)
	wantKind(t, err, ErrNotYetValid)
}

func TestValidatorAllowPreflight(t *testing.T) {
	preflight := func() *http.Request {
		r := newRequest("/rooms/a", append([]string{"Origin: https://app.example", "Access-Control-Request-Method: GET"}, clientClaimHeaders...)...)
		r.Method = http.MethodOptions
		return r
	}

	v := mustValidator(t, ValidatorConfig{AllowPreflight: true})
	r := preflight()
	result, err := v.Authorize(r, nil)
	if err != nil {
		t.Fatalf("Authorize of a preflight with AllowPreflight: unexpected error: %v", err)
	}
	if !result.Preflight || result.Claims != nil {
		t.Errorf("Result: expected Preflight true and no claims, got %+v", result)
	}
	if got := claimHeadersOf(r); len(got) != 0 {
		t.Errorf("claim headers: expected the client's removed from a preflight, got %v", got)
	}

	// Off by default: a preflight needs a token like any request.
	_, err = mustValidator(t, ValidatorConfig{}).Authorize(preflight(), nil)
	wantKind(t, err, ErrMissingToken)

	// An OPTIONS request that is not a preflight needs a token.
	r = preflight()
	r.Header.Del("Access-Control-Request-Method")
	_, err = v.Authorize(r, nil)
	wantKind(t, err, ErrMissingToken)
}

func TestIsPreflight(t *testing.T) {
	cases := []struct {
		name    string
		method  string
		headers []string
		want    bool
	}{
		{"preflight", http.MethodOptions, []string{"Origin: https://a", "Access-Control-Request-Method: POST"}, true},
		{"no origin", http.MethodOptions, []string{"Access-Control-Request-Method: POST"}, false},
		{"no request method", http.MethodOptions, []string{"Origin: https://a"}, false},
		{"GET with both", http.MethodGet, []string{"Origin: https://a", "Access-Control-Request-Method: POST"}, false},
	}
	for _, tc := range cases {
		r := newRequest("/", tc.headers...)
		r.Method = tc.method
		if got := IsPreflight(r); got != tc.want {
			t.Errorf("IsPreflight(%s): expected %v, got %v", tc.name, tc.want, got)
		}
	}
}

func TestValidatorStripToken(t *testing.T) {
	token := tokenFor(`"r":"a"`)
	request := func() *http.Request {
		return newRequest("/rooms/a?t="+token+"&keep=1", "Authorization: Bearer "+token, "Cookie: session=abc; tok="+token)
	}
	sources := []string{"bearer", "query:t", "cookie:tok"}

	v := mustValidator(t, ValidatorConfig{Sources: sources, StripToken: true})
	r := request()
	if _, err := v.Authorize(r, nil); err != nil {
		t.Fatalf("Authorize with StripToken: unexpected error: %v", err)
	}
	assertNoTokenLeft(t, r, token)
	if r.URL.RawQuery != "keep=1" {
		t.Errorf("query: expected keep=1, got %q", r.URL.RawQuery)
	}
	if got := r.Header.Get("Cookie"); got != "session=abc" {
		t.Errorf("Cookie: expected session=abc, got %q", got)
	}

	r = request()
	if _, err := mustValidator(t, ValidatorConfig{Sources: sources}).Authorize(r, nil); err != nil {
		t.Fatalf("Authorize without StripToken: unexpected error: %v", err)
	}
	if !strings.Contains(r.URL.RawQuery, token) || r.Header.Get("Authorization") == "" {
		t.Error("request: expected the token kept without StripToken, got it removed")
	}
}

func TestValidatorStripNotOnRejection(t *testing.T) {
	token := tokenFor(`"r":"a","exp":1600000000`)
	r := newRequest("/?t="+token, "Authorization: Bearer "+token)

	_, err := mustValidator(t, ValidatorConfig{StripToken: true}).Authorize(r, nil)
	wantKind(t, err, ErrExpired)
	if !strings.Contains(r.URL.RawQuery, token) {
		t.Error("query: expected the request untouched on rejection, got the token stripped")
	}
}

func TestValidatorRoomSources(t *testing.T) {
	token := tokenFor(`"r":"standup"`)
	cases := []struct {
		room    string
		target  string
		headers []string
		want    *Error
	}{
		{"standup", "/", nil, nil},
		{"other", "/", nil, ErrRoomMismatch},
		{"{header.X-Room}", "/", []string{"X-Room: standup"}, nil},
		{"{header.X-Room}", "/", nil, ErrRoomUnknown},
		{"{header.X-Room}", "/", []string{"X-Room: "}, ErrRoomUnknown},
		{"{query.room}", "/?room=standup", nil, nil},
		{"{query.room}", "/?room=standup&room=other", nil, ErrRoomUnknown},
		// A room header under the claim prefix is the client's and is removed first.
		{"{header.X-Daily-Room}", "/", []string{"X-Daily-Room: standup"}, ErrRoomUnknown},
	}
	for _, tc := range cases {
		v := mustValidator(t, ValidatorConfig{Room: tc.room})
		r := newRequest(tc.target, append([]string{"Authorization: Bearer " + token}, tc.headers...)...)
		_, err := v.Authorize(r, nil)
		if tc.want == nil {
			if err != nil {
				t.Errorf("room %s for %s: expected acceptance, got %v", tc.room, tc.target, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("room %s for %s: expected %s, got nil", tc.room, tc.target, tc.want.Reason)
			continue
		}
		wantKind(t, err, tc.want)
	}
}

func TestValidatorDomainIDNamedInRejection(t *testing.T) {
	v := mustValidator(t, ValidatorConfig{Policy: Policy{DomainID: testDomainID}})
	r := newRequest("/", "Authorization: Bearer "+tokenFor(`"r":"a","d":"mydomain"`))

	_, err := v.Authorize(r, nil)
	e := wantKind(t, err, ErrDomainMismatch)
	if e.Status != http.StatusUnauthorized {
		t.Errorf("status: expected 401, got %d", e.Status)
	}
	wantDescription(t, err, testDomainID)
	if challenge := Challenge("", err); !strings.Contains(challenge, testDomainID) {
		t.Errorf("Challenge: expected the domain id in the description, got %s", challenge)
	}
}

func TestValidatorMaxTokenSize(t *testing.T) {
	token := tokenFor(`"r":"a","x":"` + strings.Repeat("p", 300) + `"`)

	v := mustValidator(t, ValidatorConfig{MaxTokenSize: len(token)})
	if _, err := v.Authorize(newRequest("/", "Authorization: Bearer "+token), nil); err != nil {
		t.Errorf("Authorize at the configured limit: unexpected error: %v", err)
	}

	v = mustValidator(t, ValidatorConfig{MaxTokenSize: len(token) - 1})
	_, err := v.Authorize(newRequest("/?t="+token), nil)
	wantKind(t, err, ErrTokenTooLarge)
}

func TestNewValidatorRejectsBadConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  ValidatorConfig
		want string
	}{
		{"no keys", ValidatorConfig{}, "no key configured"},
		{"empty key", ValidatorConfig{Keys: [][]byte{testKey, {}}}, "key 2 of 2 is empty"},
		{"negative size limit", ValidatorConfig{Keys: [][]byte{testKey}, MaxTokenSize: -1}, "negative"},
		{"unknown source", ValidatorConfig{Keys: [][]byte{testKey}, Sources: []string{"form:t"}}, `token source "form:t"`},
		{"bad room placeholder", ValidatorConfig{Keys: [][]byte{testKey}, Room: "{path.x}"}, "room:"},
		{"unknown room placeholder", ValidatorConfig{Keys: [][]byte{testKey}, Room: "{http.request.host}"}, "unknown placeholder"},
		{"bad header prefix", ValidatorConfig{Keys: [][]byte{testKey}, HeaderPrefix: "X Daily"}, "claim header prefix"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewValidator(tc.cfg)
			if err == nil {
				t.Fatalf("NewValidator: expected error %q, got %+v", tc.want, v)
			}
			wantDescription(t, err, tc.want)
		})
	}
}

// fixedVerifier is a TokenVerifier that returns set claims or an error.
type fixedVerifier struct {
	claims *Claims
	err    error
	tokens []string
}

func (f *fixedVerifier) VerifyToken(_ context.Context, token string) (*Claims, []byte, error) {
	f.tokens = append(f.tokens, token)
	if f.err != nil {
		return nil, nil, f.err
	}
	return f.claims, nil, nil
}

func TestValidatorCustomVerifier(t *testing.T) {
	verifier := &fixedVerifier{claims: &Claims{RoomName: "a", Exp: testNow.Add(time.Minute), IsOwner: boolPtr(true)}}
	v := mustValidator(t, ValidatorConfig{Verifier: verifier})
	r := newRequest("/", "Authorization: Bearer opaque")

	if _, err := v.Authorize(r, nil); err != nil {
		t.Fatalf("Authorize: unexpected error: %v", err)
	}
	if !reflect.DeepEqual(verifier.tokens, []string{"opaque"}) {
		t.Errorf("verifier: expected one call with the token, got %q", verifier.tokens)
	}
	// Without a payload from the verifier, the Claims header is encoded from the claims.
	if got, want := r.Header.Get("X-Daily-Claims"), `{"exp":1700000060,"o":true,"r":"a"}`; got != want {
		t.Errorf("X-Daily-Claims: expected %s, got %s", want, got)
	}

	failure := errorf(ErrRejectedByDailyAPI, "Daily's REST API answered 404 for the token")
	v = mustValidator(t, ValidatorConfig{Verifier: &fixedVerifier{err: failure}})
	result, err := v.Authorize(newRequest("/", "Authorization: Bearer opaque"), nil)
	wantKind(t, err, ErrRejectedByDailyAPI)
	if result == nil || result.Fingerprint != Fingerprint("opaque") {
		t.Errorf("Result: expected the fingerprint of the rejected token, got %+v", result)
	}
}

func TestLocalVerifierCacheStillChecksSignature(t *testing.T) {
	codec := mustCodec(t, testKey)
	verifier := NewLocalVerifier(codec)
	payload := `{"r":"hello","exp":1700003600}`
	token := signPayload(testKey, payload)

	for i := 0; i < 2; i++ {
		claims, got, err := verifier.VerifyToken(context.Background(), token)
		if err != nil {
			t.Fatalf("VerifyToken call %d: unexpected error: %v", i+1, err)
		}
		if claims.RoomName != "hello" || string(got) != payload {
			t.Errorf("VerifyToken call %d: expected room hello and the payload, got %q and %s", i+1, claims.RoomName, got)
		}
	}

	// The same payload under another signature must still fail, although its claims are cached.
	forged := signPayload([]byte("attacker-key"), payload)
	_, _, err := verifier.VerifyToken(context.Background(), forged)
	wantKind(t, err, ErrInvalidSignature)

	alg := signRaw(testKey, `{"alg":"HS512"}`, payload)
	_, _, err = verifier.VerifyToken(context.Background(), alg)
	wantKind(t, err, ErrUnsupportedAlg)
}

func TestLocalVerifierCacheBounded(t *testing.T) {
	verifier := &LocalVerifier{Codec: mustCodec(t, testKey), CacheSize: 16}
	for i := 0; i < 200; i++ {
		token := signPayload(testKey, `{"r":"room-`+strings.Repeat("x", i)+`"}`)
		if _, _, err := verifier.VerifyToken(context.Background(), token); err != nil {
			t.Fatalf("VerifyToken %d: unexpected error: %v", i, err)
		}
	}
	verifier.mu.Lock()
	size := len(verifier.claims)
	verifier.mu.Unlock()
	if size > 16 {
		t.Errorf("cache size: expected at most 16 entries, got %d", size)
	}

	disabled := &LocalVerifier{Codec: mustCodec(t, testKey), CacheSize: -1}
	if _, _, err := disabled.VerifyToken(context.Background(), signPayload(testKey, `{"r":"a"}`)); err != nil {
		t.Fatalf("VerifyToken without a cache: unexpected error: %v", err)
	}
	if len(disabled.claims) != 0 {
		t.Errorf("cache size with CacheSize -1: expected 0, got %d", len(disabled.claims))
	}
}

func TestLocalVerifierWrongTypeNotCached(t *testing.T) {
	verifier := NewLocalVerifier(mustCodec(t, testKey))
	token := signPayload(testKey, `{"r":5}`)
	for i := 0; i < 2; i++ {
		_, _, err := verifier.VerifyToken(context.Background(), token)
		wantKind(t, err, ErrInvalidClaim)
	}
}

func TestFingerprint(t *testing.T) {
	token := tokenFor(`"r":"a"`)
	fp := Fingerprint(token)
	if len(fp) != 12 || strings.Trim(fp, "0123456789abcdef") != "" {
		t.Errorf("Fingerprint: expected 12 lower-case hex digits, got %q", fp)
	}
	if fp != Fingerprint(token) {
		t.Error("Fingerprint: expected the same value for the same token")
	}
	if fp == Fingerprint(token+"x") {
		t.Error("Fingerprint: expected different values for different tokens")
	}
	if strings.Contains(token, fp) {
		t.Errorf("Fingerprint: expected no part of the token, got %q", fp)
	}
}

func TestErrorBody(t *testing.T) {
	body := ErrorBody(errorf(ErrExpired, "token expired at 2023-11-14T22:00:00Z"))
	var decoded map[string]string
	if err := json.Unmarshal(body, &decoded); err != nil {
		t.Fatalf("ErrorBody: expected JSON, got %s", body)
	}
	want := map[string]string{"error": "expired", "info": "token expired at 2023-11-14T22:00:00Z"}
	if !reflect.DeepEqual(decoded, want) {
		t.Errorf("ErrorBody: expected %v, got %v", want, decoded)
	}

	body = ErrorBody(errors.New("dial tcp: secret detail"))
	if string(body) != `{"error":"server_error","info":"internal error"}` {
		t.Errorf("ErrorBody of a plain error: expected the generic body, got %s", body)
	}
}
