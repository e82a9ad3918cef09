package coreyaegi

// This file is compiled into the test and also evaluated, without its
// package clause, by the Yaegi interpreter, so both run the same flows over
// tokencore. It keeps to what Yaegi v0.16.1 runs: no generics, no loop
// variable captured by a closure, results as plain values in a map.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/dailytoken/dailytoken/tokencore"
)

// FlowKey is the HMAC key of every flow.
const FlowKey = "yaegi-core-key-5b7e21"

// describeError records err as an adapter sees it: status, reason, code,
// and the same through a wrapping error.
func describeError(result map[string]any, err error) {
	if err == nil {
		result["status"] = 200
		return
	}
	result["status"] = tokencore.StatusOf(err)
	result["error"] = err.Error()

	e, ok := tokencore.AsError(err)
	result["asError"] = ok
	if ok {
		result["reason"] = e.Reason
		result["code"] = e.Code
		result["kind"] = e.Kind().Reason
		var kind error = e.Kind()
		result["errorsIsKind"] = errors.Is(err, kind)
	}

	wrapped := fmt.Errorf("daily_token: %w", err)
	if w, ok := tokencore.AsError(wrapped); ok {
		result["wrappedReason"] = w.Reason
	}
	result["wrappedStatus"] = tokencore.StatusOf(wrapped)
	result["challenge"] = tokencore.Challenge("daily", wrapped)
	result["body"] = string(tokencore.ErrorBody(wrapped))
}

// describeClaims records every field of c that a flow checks.
func describeClaims(result map[string]any, c *tokencore.Claims) {
	result["room"] = c.RoomName
	result["domain"] = c.DomainID
	result["userID"] = c.UserID
	result["userName"] = c.UserName
	result["ownerSet"] = c.IsOwner != nil
	result["owner"] = c.IsOwner != nil && *c.IsOwner
	result["exp"] = c.Exp.Unix()
	result["nbf"] = c.Nbf.Unix()
	result["iat"] = c.Iat.Unix()

	var extra []string
	for name := range c.Extra {
		extra = append(extra, name+"="+string(c.Extra[name]))
	}
	sort.Strings(extra)
	result["extra"] = fmt.Sprint(extra)

	payload, err := c.Payload()
	if err != nil {
		result["payloadError"] = err.Error()
	}
	result["payload"] = string(payload)

	properties, err := json.Marshal(c.Properties())
	if err != nil {
		result["propertiesError"] = err.Error()
	}
	result["properties"] = string(properties)
}

// VerifyToken verifies token with a Codec, decodes its claims and applies
// the default policy at nowUnix.
func VerifyToken(token string, nowUnix int64) map[string]any {
	result := map[string]any{}
	codec, err := tokencore.NewCodec([][]byte{[]byte(FlowKey)}, 0)
	if err != nil {
		result["setupError"] = err.Error()
		return result
	}

	payload, err := codec.Verify(token)
	if err != nil {
		describeError(result, err)
		return result
	}
	claims, err := tokencore.DecodeClaims(payload)
	if err != nil {
		describeError(result, err)
		return result
	}
	policy := tokencore.Policy{Leeway: tokencore.DefaultLeeway}
	err = policy.Check(claims, time.Unix(nowUnix, 0), "")
	describeError(result, err)
	describeClaims(result, claims)
	return result
}

// DecodePayload decodes payload as claims.
func DecodePayload(payload string) map[string]any {
	result := map[string]any{}
	claims, err := tokencore.DecodeClaims([]byte(payload))
	describeError(result, err)
	if err == nil {
		describeClaims(result, claims)
	}
	return result
}

// Extract takes the token from r with every kind of source.
func Extract(r *http.Request) map[string]any {
	result := map[string]any{}
	extractor, err := tokencore.NewExtractor([]string{"bearer", "query:t", "cookie:tok", "header:X-Tok"}, 0)
	if err != nil {
		result["setupError"] = err.Error()
		return result
	}

	x, err := extractor.Extract(r)
	describeError(result, err)
	if err != nil {
		return result
	}
	result["token"] = x.Token
	var sources []string
	for _, source := range x.Sources {
		sources = append(sources, source.String())
	}
	result["sources"] = fmt.Sprint(sources)

	extractor.Strip(r, x)
	describeRequest(result, r)
	return result
}

// describeRequest records what an upstream would receive.
func describeRequest(result map[string]any, r *http.Request) {
	result["query"] = r.URL.RawQuery
	result["requestURI"] = r.RequestURI
	result["authorization"] = fmt.Sprint(r.Header.Values("Authorization"))
	result["cookie"] = fmt.Sprint(r.Header.Values("Cookie"))

	var names []string
	for name := range r.Header {
		names = append(names, name+"="+fmt.Sprint(r.Header[name]))
	}
	sort.Strings(names)
	result["headers"] = fmt.Sprint(names)
}

// Authorize runs a Validator that expects the room from the path, accepts
// the token from the Authorization header, query t and cookie tok, and
// strips it, at nowUnix.
func Authorize(r *http.Request, nowUnix int64) map[string]any {
	result := map[string]any{}
	v, err := tokencore.NewValidator(tokencore.ValidatorConfig{
		Keys:       [][]byte{[]byte(FlowKey)},
		Sources:    []string{"bearer", "query:t", "cookie:tok"},
		Room:       "{path.1}",
		StripToken: true,
		Policy:     tokencore.Policy{MaxLifetime: 2 * time.Hour},
		Now:        func() time.Time { return time.Unix(nowUnix, 0) },
	})
	if err != nil {
		result["setupError"] = err.Error()
		return result
	}

	authorized, err := v.Authorize(r, nil)
	describeError(result, err)
	if authorized != nil {
		result["fingerprint"] = authorized.Fingerprint
		if authorized.Claims != nil {
			describeClaims(result, authorized.Claims)
		}
	}
	describeRequest(result, r)
	return result
}

// MintAndVerify mints a token for r from a template with fixed values and
// request values at nowUnix, injects it into r's query, and validates r.
func MintAndVerify(r *http.Request, nowUnix int64) map[string]any {
	result := map[string]any{}
	now := func() time.Time { return time.Unix(nowUnix, 0) }
	m, err := tokencore.NewMinter(tokencore.MinterConfig{
		Keys: [][]byte{[]byte(FlowKey)},
		Claims: map[string]any{
			"room_name":           "{path.1}",
			"user_id":             "{header.X-User-Id}",
			"user_name":           "{header.X-User-Name}",
			"is_owner":            "{header.X-Owner}",
			"eject_after_elapsed": "600",
			"lang":                "de",
			"permissions":         map[string]any{"hasPresence": true, "canSend": []any{"video", "customVideo"}},
		},
		Lifetime:     20 * time.Minute,
		SetNotBefore: true,
		Target:       "query:t",
		Now:          now,
	})
	if err != nil {
		result["setupError"] = err.Error()
		return result
	}

	token, minted, err := m.Mint(r, nil)
	if err != nil {
		describeError(result, err)
		return result
	}
	result["token"] = token
	result["mintedPayload"] = mustPayload(minted)
	m.Inject(r, token)
	result["injectedQuery"] = r.URL.RawQuery

	v, err := tokencore.NewValidator(tokencore.ValidatorConfig{
		Keys:    [][]byte{[]byte(FlowKey)},
		Sources: []string{"query:t"},
		Room:    "{path.1}",
		Policy:  tokencore.Policy{RequireOwner: true},
		Now:     now,
	})
	if err != nil {
		result["setupError"] = err.Error()
		return result
	}
	authorized, err := v.Authorize(r, nil)
	describeError(result, err)
	if err == nil {
		describeClaims(result, authorized.Claims)
		result["claimsHeader"] = r.Header.Get("X-Daily-Claims")
	}
	return result
}

func mustPayload(c *tokencore.Claims) string {
	payload, err := c.Payload()
	if err != nil {
		return "error: " + err.Error()
	}
	return string(payload)
}
