// Package coreyaegi runs the main paths of tokencore inside the Yaegi
// interpreter, set up as Traefik sets it up for a plugin (GOPATH copy,
// stdlib.Symbols only), and compares every result with the compiled core.
package coreyaegi

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/dailytoken/dailytoken/test/yaegiharness"
	"github.com/dailytoken/dailytoken/tokencore"
)

// now is the clock of every flow: 2023-11-14T22:13:20Z.
const now int64 = 1700000000

// flowSource returns flows_test.go without its package clause, for Eval.
func flowSource(t *testing.T) string {
	t.Helper()
	source, err := os.ReadFile("flows_test.go")
	if err != nil {
		t.Fatalf("reading the flows: %v", err)
	}
	text := string(source)
	clause := "package coreyaegi\n"
	if !strings.HasPrefix(text, clause) {
		t.Fatalf("flows_test.go: expected it to start with %q", clause)
	}
	return strings.TrimPrefix(text, clause)
}

// interpreted loads tokencore and the flows into a Yaegi interpreter and
// returns a function that calls an interpreted flow by name.
func interpreted(t *testing.T) func(name string, args ...any) map[string]any {
	t.Helper()
	i := yaegiharness.NewInterpreter(t, "../..")
	yaegiharness.Eval(t, i, flowSource(t))

	return func(name string, args ...any) map[string]any {
		t.Helper()
		fn := yaegiharness.Eval(t, i, name)
		in := make([]reflect.Value, len(args))
		for n, arg := range args {
			in[n] = reflect.ValueOf(arg)
		}
		returned := fn.Call(in)[0].Interface()
		result, ok := returned.(map[string]any)
		if !ok {
			t.Fatalf("interpreted %s: expected map[string]any, got %T", name, returned)
		}
		return result
	}
}

// yaegiDifferences are the results on which Yaegi v0.16.1 differs from the
// compiled core, with the value Yaegi gives. The compiled errors.Is does not
// see the Is method of the interpreted *tokencore.Error, so under Yaegi an
// error's kind is found with AsError and Kind, never with errors.Is.
var yaegiDifferences = map[string]any{
	"errorsIsKind": false,
}

// compareResults fails the test for every key on which the interpreted and
// the compiled flow disagree, except the known differences.
func compareResults(t *testing.T, interpretedResult, compiledResult map[string]any) {
	t.Helper()
	keys := map[string]bool{}
	for key := range interpretedResult {
		keys[key] = true
	}
	for key := range compiledResult {
		keys[key] = true
	}
	var sorted []string
	for key := range keys {
		sorted = append(sorted, key)
	}
	sort.Strings(sorted)

	for _, key := range sorted {
		got, want := interpretedResult[key], compiledResult[key]
		if known, ok := yaegiDifferences[key]; ok {
			want = known
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: compiled core gave %v (%T), Yaegi gave %v (%T)", key, want, want, got, got)
		}
	}
	if setup, ok := compiledResult["setupError"]; ok {
		t.Fatalf("compiled set-up failed: %v", setup)
	}
}

// expect fails the test unless result[key] is value.
func expect(t *testing.T, result map[string]any, key string, value any) {
	t.Helper()
	if got := result[key]; !reflect.DeepEqual(got, value) {
		t.Errorf("%s: expected %v (%T), got %v (%T)", key, value, value, got, got)
	}
}

func sign(t *testing.T, payload string) string {
	t.Helper()
	codec, err := tokencore.NewCodec([][]byte{[]byte(FlowKey)}, 0)
	if err != nil {
		t.Fatalf("NewCodec: %v", err)
	}
	return codec.Sign([]byte(payload))
}

func TestCoreUnderYaegi(t *testing.T) {
	run := interpreted(t)

	valid := sign(t, `{"r":"standup","d":"25df5057-ef0d-4d97-bde6-0cf287276cbb","u":"Zoë","ud":"user-42","o":true,`+
		`"exp":1700003600,"iat":1699999990,"nbf":1699999990,"otcd":1,"p":{"hp":true,"cs":"v,a","cr":{"b":true}}}`)

	t.Run("verify", func(t *testing.T) {
		segments := strings.Split(valid, ".")
		tamperedPayload := segments[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"r":"standup","o":true,"exp":1900000000}`)) + "." + segments[2]
		cases := []struct {
			name   string
			token  string
			reason string // empty for a valid token
		}{
			{"valid", valid, ""},
			{"expired", sign(t, `{"r":"standup","exp":1699990000}`), "expired"},
			{"no exp", sign(t, `{"r":"standup"}`), "missing_expiry"},
			{"not yet valid", sign(t, `{"r":"standup","exp":1700003600,"nbf":1700000600}`), "not_yet_valid"},
			{"tampered payload", tamperedPayload, "invalid_signature"},
			{"tampered signature", valid[:len(valid)-3] + "AAA", "invalid_signature"},
			{"alg none", "eyJhbGciOiJub25lIn0." + segments[1] + ".", "unsupported_algorithm"},
			{"two segments", segments[0] + "." + segments[1], "malformed_token"},
			{"wrongly typed owner", sign(t, `{"r":"standup","o":"true","exp":1700003600}`), "invalid_claim"},
			{"wrongly typed exp", sign(t, `{"r":"standup","exp":"1700003600"}`), "invalid_claim"},
			{"wrongly typed permissions", sign(t, `{"r":"standup","exp":1700003600,"p":{"cs":"v,x"}}`), "invalid_claim"},
			{"too large", sign(t, `{"r":"`+strings.Repeat("x", 4000)+`","exp":1700003600}`), "token_too_large"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				compiled := VerifyToken(tc.token, now)
				compareResults(t, run("VerifyToken", tc.token, now), compiled)
				if tc.reason == "" {
					expect(t, compiled, "status", 200)
					expect(t, compiled, "room", "standup")
					expect(t, compiled, "owner", true)
					expect(t, compiled, "extra", "[otcd=1]")
					return
				}
				expect(t, compiled, "status", 401)
				expect(t, compiled, "reason", tc.reason)
				expect(t, compiled, "wrappedReason", tc.reason)
				expect(t, compiled, "errorsIsKind", true)
			})
		}
	})

	t.Run("decode", func(t *testing.T) {
		payloads := []string{
			`{"nbf":1548721569,"exp":1864081538,"r":"hello","o":true,"ss":true,"er":"local","d":"25df5057-ef0d-4d97-bde6-0cf287276cbb","iat":1548721831}`,
			`{"r":"a","exp":1548721569.5,"eje":600,"sro":{"layout":{"preset":"default"}},"uil":"pt-BR","p":{"ca":"participants,streaming","cs":true}}`,
			`{"u":"a\"b\\c\u00e9\n","r":"x"}`,
			`{"r":5}`, `{"eje":-1}`, `{"exp":1e20}`, `{"d":""}`, `{"p":{"cr":{}}}`, `[]`, `null`,
		}
		for _, payload := range payloads {
			compiled := DecodePayload(payload)
			compareResults(t, run("DecodePayload", payload), compiled)
		}
	})

	t.Run("extract", func(t *testing.T) {
		requests := []func() *http.Request{
			func() *http.Request {
				return request("/rooms/standup?a=1&t="+valid+"&b=%20", "Authorization: Basic dXNlcjpwYXNz", "Authorization: bearer   "+valid, "Cookie: s=1; tok ="+valid, "X-Tok: "+valid)
			},
			func() *http.Request {
				return request("/rooms/standup", "Authorization: Bearer "+valid, "Authorization: Bearer other")
			},
			func() *http.Request { return request("/rooms/standup", "Authorization: Bearer:"+valid) },
			func() *http.Request { return request("/rooms/standup?t=" + strings.Repeat("a", 64*1024)) },
			func() *http.Request {
				return request("/rooms/standup", "Authorization: Bearer "+strings.Repeat("a", 100*1024))
			},
		}
		wantStatus := []int{200, 401, 401, 401, 401}
		for n, newRequest := range requests {
			compiled := Extract(newRequest())
			compareResults(t, run("Extract", newRequest()), compiled)
			expect(t, compiled, "status", wantStatus[n])
		}
		first := Extract(requests[0]())
		expect(t, first, "query", "a=1&b=%20")
		expect(t, first, "cookie", "[s=1]")
		expect(t, first, "authorization", "[Basic dXNlcjpwYXNz]")
	})

	t.Run("authorize", func(t *testing.T) {
		cases := []struct {
			name   string
			build  func() *http.Request
			status int
			reason string
		}{
			{"bearer with forged claim headers", func() *http.Request {
				return request("/rooms/standup?keep=1", "Authorization: Bearer "+valid, "X-Daily-Is-Owner: false", "X_Daily_User_Id: admin")
			}, 200, ""},
			{"query token stripped", func() *http.Request { return request("/rooms/standup?t=" + valid + "&keep=1") }, 200, ""},
			{"cookie token stripped", func() *http.Request { return request("/rooms/standup", "Cookie: a=1; tok="+valid) }, 200, ""},
			{"other room", func() *http.Request { return request("/rooms/other", "Authorization: Bearer "+valid) }, 403, "room_mismatch"},
			{"no room in path", func() *http.Request { return request("/rooms", "Authorization: Bearer "+valid) }, 403, "room_unknown"},
			{"no token", func() *http.Request { return request("/rooms/standup", "X-Daily-Room: standup") }, 401, "missing_token"},
			{"different tokens", func() *http.Request {
				return request("/rooms/standup?t="+sign(t, `{"r":"standup","exp":1700003600}`), "Authorization: Bearer "+valid)
			}, 401, "ambiguous_token"},
			{"expired", func() *http.Request {
				return request("/rooms/standup", "Authorization: Bearer "+sign(t, `{"r":"standup","exp":1699990000}`))
			}, 401, "expired"},
			{"lifetime too long", func() *http.Request {
				return request("/rooms/standup", "Authorization: Bearer "+sign(t, `{"r":"standup","exp":1800000000}`))
			}, 401, "lifetime_too_long"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				compiled := Authorize(tc.build(), now)
				compareResults(t, run("Authorize", tc.build(), now), compiled)
				expect(t, compiled, "status", tc.status)
				if tc.reason != "" {
					expect(t, compiled, "reason", tc.reason)
				}
				// A rejected request goes nowhere, so only an accepted one is stripped.
				headers, _ := compiled["headers"].(string)
				if tc.status == 200 && strings.Contains(headers, valid) {
					t.Errorf("headers: expected the token stripped, got it in %s", headers)
				}
				if strings.Contains(headers, "admin") || strings.Contains(headers, "X-Daily-Is-Owner=[false]") {
					t.Errorf("headers: expected no client-sent claim header, got %s", headers)
				}
			})
		}
	})

	t.Run("mint then verify", func(t *testing.T) {
		build := func(owner string) *http.Request {
			return request("/rooms/standup?a=1&t=client", "X-User-Id: user-42", "X-User-Name: Zoë \"Host\"", "X-Owner: "+owner)
		}
		for _, owner := range []string{"true", "false", "yes"} {
			compiled := MintAndVerify(build(owner), now)
			compareResults(t, run("MintAndVerify", build(owner), now), compiled)
			switch owner {
			case "true":
				expect(t, compiled, "status", 200)
				expect(t, compiled, "room", "standup")
				expect(t, compiled, "userName", "Zoë \"Host\"")
			case "false":
				expect(t, compiled, "reason", "not_owner")
			default:
				expect(t, compiled, "reason", "invalid_request_value")
				expect(t, compiled, "status", 400)
			}
		}
	})
}

// request returns a GET request for target with headers given as "Name: value".
func request(target string, headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ": ")
		r.Header.Add(name, value)
	}
	return r
}
