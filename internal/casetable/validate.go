package casetable

import (
	"crypto/hmac"
	"crypto/sha512"
	"net/http"
	"strings"
	"time"
)

// validateCases returns the cases of validating routes. Unless a case sets
// another room, the route expects room Room from the second path segment.
func validateCases() []Case {
	var cases []Case
	cases = append(cases, outcomeCases()...)
	cases = append(cases, policyCases()...)
	cases = append(cases, algorithmCases()...)
	cases = append(cases, extractionCases()...)
	cases = append(cases, claimHeaderCases()...)
	cases = append(cases, stripCases()...)
	return cases
}

// outcomeCases are the basic outcomes: valid, tampered, expired, missing.
func outcomeCases() []Case {
	return []Case{
		{
			Name:   "valid bearer token",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				token := ValidToken(now)
				return withToken(get("/rooms/standup", bearer(token)), token)
			},
			Expect: Expect{Status: http.StatusOK, Upstream: true, Headers: withHeaders(validHeaders(), map[string]string{
				"Authorization": "Bearer {token}",
			})},
		},
		{
			Name:   "valid token in query t",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				token := ValidToken(now)
				return withToken(get("/rooms/standup?t="+token+"&lang=en", nil), token)
			},
			Expect: Expect{Status: http.StatusOK, Upstream: true, Headers: validHeaders(), RawQuery: stringPointer("t={token}&lang=en")},
		},
		{
			Name:   "tampered payload",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				return get("/rooms/standup", bearer(Tamper(ValidToken(now))))
			},
			Expect: rejected(http.StatusUnauthorized, "invalid_signature", "invalid_token"),
		},
		{
			Name:   "token signed with another key",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				return get("/rooms/standup", bearer(Sign(OtherKey, HS256Header, ValidClaims(now))))
			},
			Expect: rejected(http.StatusUnauthorized, "invalid_signature", "invalid_token"),
		},
		{
			Name:   "malformed token",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				return get("/rooms/standup", bearer("not-a-token"))
			},
			Expect: rejected(http.StatusUnauthorized, "malformed_token", "invalid_token"),
		},
		{
			Name:   "expired token",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				claims := With(ValidClaims(now), map[string]any{
					"iat": now.Add(-2 * time.Hour).Unix(),
					"exp": now.Add(-time.Hour).Unix(),
				})
				return get("/rooms/standup", bearer(Sign(Key, HS256Header, claims)))
			},
			Expect: rejected(http.StatusUnauthorized, "expired", "invalid_token"),
		},
		{
			Name:   "expired within leeway",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				claims := With(ValidClaims(now), map[string]any{
					"iat": now.Add(-time.Hour).Unix(),
					"exp": now.Add(-10 * time.Second).Unix(),
				})
				return get("/rooms/standup", bearer(Sign(Key, HS256Header, claims)))
			},
			Expect: Expect{Status: http.StatusOK, Upstream: true, Headers: validHeaders()},
		},
		{
			Name: "expired without leeway",
			Config: configWith(validateConfig(), func(c *Config) {
				c.Leeway = "0s"
			}),
			Request: func(now time.Time) Request {
				claims := With(ValidClaims(now), map[string]any{
					"iat": now.Add(-time.Hour).Unix(),
					"exp": now.Add(-10 * time.Second).Unix(),
				})
				return get("/rooms/standup", bearer(Sign(Key, HS256Header, claims)))
			},
			Expect: rejected(http.StatusUnauthorized, "expired", "invalid_token"),
		},
		{
			Name:   "missing token",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				return get("/rooms/standup", nil)
			},
			Expect: rejected(http.StatusUnauthorized, "missing_token", ""),
		},
		{
			Name: "missing token with realm",
			Config: configWith(validateConfig(), func(c *Config) {
				c.Realm = "meetings"
			}),
			Request: func(now time.Time) Request {
				return get("/rooms/standup", nil)
			},
			Expect: expectWith(rejected(http.StatusUnauthorized, "missing_token", ""), func(e *Expect) {
				e.ChallengeContains = `realm="meetings"`
			}),
		},
		{
			Name:   "nbf 10s ahead within leeway",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				claims := With(ValidClaims(now), map[string]any{"nbf": now.Add(10 * time.Second).Unix()})
				return get("/rooms/standup", bearer(Sign(Key, HS256Header, claims)))
			},
			Expect: Expect{Status: http.StatusOK, Upstream: true, Headers: validHeaders()},
		},
		{
			Name:   "iat 10 minutes ahead",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				claims := With(ValidClaims(now), map[string]any{"iat": now.Add(10 * time.Minute).Unix()})
				return get("/rooms/standup", bearer(Sign(Key, HS256Header, claims)))
			},
			Expect: rejected(http.StatusUnauthorized, "issued_in_future", "invalid_token"),
		},
	}
}

// policyCases are the route's demands: room, domain, owner, permissions,
// exp and lifetime.
func policyCases() []Case {
	return []Case{
		{
			Name:   "wrong room from path",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				return get("/rooms/retro", bearer(ValidToken(now)))
			},
			Expect: rejected(http.StatusForbidden, "room_mismatch", "insufficient_scope"),
		},
		{
			Name: "wrong fixed room",
			Config: configWith(validateConfig(), func(c *Config) {
				c.Room = "retro"
			}),
			Request: func(now time.Time) Request {
				return get("/any/path", bearer(ValidToken(now)))
			},
			Expect: rejected(http.StatusForbidden, "room_mismatch", "insufficient_scope"),
		},
		{
			Name: "room from header",
			Config: configWith(validateConfig(), func(c *Config) {
				c.Room = "{header.X-Room}"
			}),
			Request: func(now time.Time) Request {
				header := bearer(ValidToken(now))
				header.Set("X-Room", Room)
				return get("/any/path", header)
			},
			Expect: Expect{Status: http.StatusOK, Upstream: true, Headers: validHeaders()},
		},
		{
			Name:   "route room missing from path",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				return get("/rooms", bearer(ValidToken(now)))
			},
			Expect: rejected(http.StatusForbidden, "room_unknown", "insufficient_scope"),
		},
		{
			Name:   "roomless token on room route",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				claims := With(ValidClaims(now), map[string]any{"r": nil})
				return get("/rooms/standup", bearer(Sign(Key, HS256Header, claims)))
			},
			Expect: rejected(http.StatusForbidden, "room_not_scoped", "insufficient_scope"),
		},
		{
			Name: "roomless token allowed",
			Config: configWith(validateConfig(), func(c *Config) {
				c.AllowRoomless = true
			}),
			Request: func(now time.Time) Request {
				claims := With(ValidClaims(now), map[string]any{"r": nil})
				return get("/rooms/standup", bearer(Sign(Key, HS256Header, claims)))
			},
			Expect: Expect{
				Status:        http.StatusOK,
				Upstream:      true,
				Headers:       map[string]string{"X-Daily-User-Id": UserID},
				AbsentHeaders: []string{"X-Daily-Room"},
			},
		},
		{
			Name: "domain id mismatch",
			Config: configWith(validateConfig(), func(c *Config) {
				c.DomainID = DomainID
			}),
			Request: func(now time.Time) Request {
				claims := With(ValidClaims(now), map[string]any{"d": "mydomain"})
				return get("/rooms/standup", bearer(Sign(Key, HS256Header, claims)))
			},
			Expect: expectWith(rejected(http.StatusUnauthorized, "domain_mismatch", "invalid_token"), func(e *Expect) {
				e.InfoContains = DomainID
			}),
		},
		{
			Name: "domain id match",
			Config: configWith(validateConfig(), func(c *Config) {
				c.DomainID = DomainID
			}),
			Request: func(now time.Time) Request {
				return get("/rooms/standup", bearer(ValidToken(now)))
			},
			Expect: Expect{Status: http.StatusOK, Upstream: true, Headers: validHeaders()},
		},
		{
			Name: "not owner",
			Config: configWith(validateConfig(), func(c *Config) {
				c.RequireOwner = true
			}),
			Request: func(now time.Time) Request {
				return get("/rooms/standup", bearer(ValidToken(now)))
			},
			Expect: rejected(http.StatusForbidden, "not_owner", "insufficient_scope"),
		},
		{
			Name: "owner",
			Config: configWith(validateConfig(), func(c *Config) {
				c.RequireOwner = true
			}),
			Request: func(now time.Time) Request {
				claims := With(ValidClaims(now), map[string]any{"o": true})
				return get("/rooms/standup", bearer(Sign(Key, HS256Header, claims)))
			},
			Expect: Expect{Status: http.StatusOK, Upstream: true, Headers: withHeaders(validHeaders(), map[string]string{
				"X-Daily-Is-Owner": "true",
			})},
		},
		{
			Name: "permission missing",
			Config: configWith(validateConfig(), func(c *Config) {
				c.RequirePermissions = []string{"hasPresence", "canSend:screenVideo"}
			}),
			Request: func(now time.Time) Request {
				claims := With(ValidClaims(now), map[string]any{"p": map[string]any{"hp": true, "cs": "v,a"}})
				return get("/rooms/standup", bearer(Sign(Key, HS256Header, claims)))
			},
			Expect: rejected(http.StatusForbidden, "permission_missing", "insufficient_scope"),
		},
		{
			Name: "permission granted",
			Config: configWith(validateConfig(), func(c *Config) {
				c.RequirePermissions = []string{"hasPresence", "canSend:screenVideo"}
			}),
			Request: func(now time.Time) Request {
				claims := With(ValidClaims(now), map[string]any{"p": map[string]any{"hp": true, "cs": "v,sv"}})
				return get("/rooms/standup", bearer(Sign(Key, HS256Header, claims)))
			},
			Expect: Expect{Status: http.StatusOK, Upstream: true, Headers: validHeaders()},
		},
		{
			Name:   "missing exp",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				claims := With(ValidClaims(now), map[string]any{"exp": nil})
				return get("/rooms/standup", bearer(Sign(Key, HS256Header, claims)))
			},
			Expect: rejected(http.StatusUnauthorized, "missing_expiry", "invalid_token"),
		},
		{
			Name: "missing exp allowed",
			Config: configWith(validateConfig(), func(c *Config) {
				c.AllowMissingExp = true
			}),
			Request: func(now time.Time) Request {
				claims := With(ValidClaims(now), map[string]any{"exp": nil})
				return get("/rooms/standup", bearer(Sign(Key, HS256Header, claims)))
			},
			Expect: Expect{Status: http.StatusOK, Upstream: true, Headers: validHeaders(), AbsentHeaders: []string{"X-Daily-Exp"}},
		},
		{
			Name: "lifetime over maximum",
			Config: configWith(validateConfig(), func(c *Config) {
				c.MaxLifetime = "30m"
			}),
			Request: func(now time.Time) Request {
				return get("/rooms/standup", bearer(ValidToken(now)))
			},
			Expect: rejected(http.StatusUnauthorized, "lifetime_too_long", "invalid_token"),
		},
		{
			Name: "lifetime within maximum",
			Config: configWith(validateConfig(), func(c *Config) {
				c.MaxLifetime = "2h"
			}),
			Request: func(now time.Time) Request {
				return get("/rooms/standup", bearer(ValidToken(now)))
			},
			Expect: Expect{Status: http.StatusOK, Upstream: true, Headers: validHeaders()},
		},
	}
}

// algorithmCases send tokens whose header names another algorithm. Each
// must be rejected whatever its signature bytes are.
func algorithmCases() []Case {
	signed := func(alg string, signature func(signingInput string) []byte) func(time.Time) Request {
		return func(now time.Time) Request {
			token := Sign(Key, `{"alg":"`+alg+`","typ":"JWT"}`, ValidClaims(now))
			parts := strings.Split(token, ".")
			signingInput := parts[0] + "." + parts[1]
			return get("/rooms/standup", bearer(signingInput+"."+b64.EncodeToString(signature(signingInput))))
		}
	}
	hs256 := func(signingInput string) []byte {
		return hmacSHA256(Key, signingInput)
	}
	hs512 := func(signingInput string) []byte {
		mac := hmac.New(sha512.New, []byte(Key))
		mac.Write([]byte(signingInput))
		return mac.Sum(nil)
	}
	empty := func(string) []byte {
		return nil
	}
	arbitrary := func(string) []byte {
		return []byte("an RSA signature would be 256 bytes, these are not")
	}

	expect := rejected(http.StatusUnauthorized, "unsupported_algorithm", "invalid_token")
	return []Case{
		{Name: "alg none without signature", Config: validateConfig(), Request: signed("none", empty), Expect: expect},
		{Name: "alg none with HS256 signature", Config: validateConfig(), Request: signed("none", hs256), Expect: expect},
		{Name: "alg HS512 signed with the key", Config: validateConfig(), Request: signed("HS512", hs512), Expect: expect},
		{Name: "alg RS256", Config: validateConfig(), Request: signed("RS256", arbitrary), Expect: expect},
		{Name: "alg hs256 in lower case", Config: validateConfig(), Request: signed("hs256", hs256), Expect: expect},
	}
}

// extractionCases are about where and how the token is sent.
func extractionCases() []Case {
	return []Case{
		{
			Name:   "Basic and Bearer headers",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				header := http.Header{"Authorization": {"Basic dXNlcjpwYXNzd29yZA==", "Bearer " + ValidToken(now)}}
				return get("/rooms/standup", header)
			},
			Expect: Expect{Status: http.StatusOK, Upstream: true, Headers: validHeaders()},
		},
		{
			Name:   "two different Bearer tokens",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				other := Sign(Key, HS256Header, With(ValidClaims(now), map[string]any{"ud": "user-2"}))
				header := http.Header{"Authorization": {"Bearer " + ValidToken(now), "Bearer " + other}}
				return get("/rooms/standup", header)
			},
			Expect: rejected(http.StatusUnauthorized, "ambiguous_token", "invalid_request"),
		},
		{
			Name:   "different tokens in header and query",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				other := Sign(Key, HS256Header, With(ValidClaims(now), map[string]any{"ud": "user-2"}))
				return get("/rooms/standup?t="+other, bearer(ValidToken(now)))
			},
			Expect: rejected(http.StatusUnauthorized, "ambiguous_token", "invalid_request"),
		},
		{
			Name:   "lower-case bearer scheme and header name",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				// A lower-case key in the map is sent as written.
				return get("/rooms/standup", http.Header{"authorization": {"bearer " + ValidToken(now)}})
			},
			Expect: Expect{Status: http.StatusOK, Upstream: true, Headers: validHeaders()},
		},
		{
			Name:   "several spaces after Bearer",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				return get("/rooms/standup", http.Header{"Authorization": {"Bearer   " + ValidToken(now)}})
			},
			Expect: Expect{Status: http.StatusOK, Upstream: true, Headers: validHeaders()},
		},
		{
			Name:   "colon after Bearer",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				return get("/rooms/standup", http.Header{"Authorization": {"Bearer:" + ValidToken(now)}})
			},
			Expect: rejected(http.StatusUnauthorized, "missing_token", ""),
		},
		{
			Name: "bearer ignored when sources name a cookie",
			Config: configWith(validateConfig(), func(c *Config) {
				c.Sources = []string{"cookie:daily_token"}
			}),
			Request: func(now time.Time) Request {
				return get("/rooms/standup?t="+ValidToken(now), bearer(ValidToken(now)))
			},
			Expect: rejected(http.StatusUnauthorized, "missing_token", ""),
		},
		{
			Name:   "100 KB Authorization header",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				return get("/rooms/standup", bearer(strings.Repeat("a", 100*1024)))
			},
			Expect: expectWith(rejected(http.StatusUnauthorized, "token_too_large", "invalid_token"), func(e *Expect) {
				e.OrStatus = http.StatusRequestHeaderFieldsTooLarge
			}),
		},
		{
			Name:   "64 KB token in query t",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				return get("/rooms/standup?t="+strings.Repeat("a", 64*1024), nil)
			},
			Expect: expectWith(rejected(http.StatusUnauthorized, "token_too_large", "invalid_token"), func(e *Expect) {
				e.OrStatus = http.StatusRequestURITooLong
			}),
		},
		{
			Name: "token over configured size",
			Config: configWith(validateConfig(), func(c *Config) {
				c.MaxTokenSize = 100
			}),
			Request: func(now time.Time) Request {
				return get("/rooms/standup", bearer(ValidToken(now)))
			},
			Expect: rejected(http.StatusUnauthorized, "token_too_large", "invalid_token"),
		},
		{
			Name:   "preflight without token rejected by default",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				return preflight()
			},
			Expect: rejected(http.StatusUnauthorized, "missing_token", ""),
		},
		{
			Name: "preflight without token allowed",
			Config: configWith(validateConfig(), func(c *Config) {
				c.AllowPreflight = true
			}),
			Request: func(now time.Time) Request {
				request := preflight()
				request.Header.Set("X-Daily-Is-Owner", "true")
				return request
			},
			Expect: Expect{Status: http.StatusOK, Upstream: true, AbsentHeaders: []string{"X-Daily-Room", "X-Daily-Is-Owner"}},
		},
		{
			Name: "OPTIONS without Origin is no preflight",
			Config: configWith(validateConfig(), func(c *Config) {
				c.AllowPreflight = true
			}),
			Request: func(now time.Time) Request {
				request := preflight()
				request.Header.Del("Origin")
				return request
			},
			Expect: rejected(http.StatusUnauthorized, "missing_token", ""),
		},
	}
}

func preflight() Request {
	header := http.Header{}
	header.Set("Origin", "https://app.example")
	header.Set("Access-Control-Request-Method", "POST")
	header.Set("Access-Control-Request-Headers", "authorization")
	return Request{Method: http.MethodOptions, Target: "/rooms/standup", Header: header}
}

// claimHeaderCases send headers under the claim header prefix, which the
// upstream must never receive from the client.
func claimHeaderCases() []Case {
	return []Case{
		{
			Name:   "client claim headers without token",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				header := http.Header{}
				header.Set("X-Daily-Room", Room)
				header.Set("X-Daily-Is-Owner", "true")
				return get("/rooms/standup", header)
			},
			Expect: rejected(http.StatusUnauthorized, "missing_token", ""),
		},
		{
			Name:   "client claim headers with valid token",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				header := bearer(ValidToken(now))
				header.Set("X-Daily-Is-Owner", "true")
				header.Set("X-Daily-Custom", "client value")
				header["X_Daily_Room"] = []string{"hijacked"}
				header["x-daily-user-id"] = []string{"admin"}
				return get("/rooms/standup", header)
			},
			Expect: Expect{
				Status:        http.StatusOK,
				Upstream:      true,
				Headers:       validHeaders(),
				AbsentHeaders: []string{"X-Daily-Custom", "X_Daily_Room"},
			},
		},
		{
			Name: "client claim headers with token of another user",
			Config: configWith(validateConfig(), func(c *Config) {
				c.Room = ""
			}),
			Request: func(now time.Time) Request {
				claims := With(ValidClaims(now), map[string]any{"ud": "user-2", "u": nil, "r": "retro"})
				header := bearer(Sign(Key, HS256Header, claims))
				header.Set("X-Daily-User-Id", UserID)
				header.Set("X-Daily-User-Name", UserName)
				header.Set("X-Daily-Room", Room)
				return get("/rooms/standup", header)
			},
			Expect: Expect{
				Status:        http.StatusOK,
				Upstream:      true,
				Headers:       map[string]string{"X-Daily-User-Id": "user-2", "X-Daily-Room": "retro"},
				AbsentHeaders: []string{"X-Daily-User-Name"},
			},
		},
		{
			Name:   "client claim headers with token for another room",
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				claims := With(ValidClaims(now), map[string]any{"r": "retro"})
				header := bearer(Sign(Key, HS256Header, claims))
				header.Set("X-Daily-Room", Room)
				return get("/rooms/standup", header)
			},
			Expect: rejected(http.StatusForbidden, "room_mismatch", "insufficient_scope"),
		},
		{
			Name: "custom claim header prefix",
			Config: configWith(validateConfig(), func(c *Config) {
				c.HeaderPrefix = "X-Meeting-"
			}),
			Request: func(now time.Time) Request {
				header := bearer(ValidToken(now))
				header.Set("X-Meeting-Is-Owner", "true")
				header.Set("X-Meeting-Extra", "client value")
				return get("/rooms/standup", header)
			},
			Expect: Expect{
				Status:        http.StatusOK,
				Upstream:      true,
				Headers:       map[string]string{"X-Meeting-Room": Room, "X-Meeting-User-Id": UserID, "X-Meeting-Is-Owner": "false"},
				AbsentHeaders: []string{"X-Meeting-Extra", "X-Daily-Room"},
			},
		},
	}
}

// stripCases turn token stripping on and check that the upstream gets no
// token and every other value unchanged.
func stripCases() []Case {
	strip := func(sources ...string) Config {
		return configWith(validateConfig(), func(c *Config) {
			c.StripToken = true
			c.Sources = sources
		})
	}
	return []Case{
		{
			Name:   "strip token from query",
			Config: strip(),
			Request: func(now time.Time) Request {
				return get("/rooms/standup?a=1&t="+ValidToken(now)+"&b=x%20y&c", nil)
			},
			Expect: Expect{Status: http.StatusOK, Upstream: true, Headers: validHeaders(), RawQuery: stringPointer("a=1&b=x%20y&c")},
		},
		{
			Name:   "strip token from Authorization",
			Config: strip(),
			Request: func(now time.Time) Request {
				return get("/rooms/standup?a=1", bearer(ValidToken(now)))
			},
			Expect: Expect{
				Status:        http.StatusOK,
				Upstream:      true,
				Headers:       validHeaders(),
				AbsentHeaders: []string{"Authorization"},
				RawQuery:      stringPointer("a=1"),
			},
		},
		{
			Name:   "strip token from cookie",
			Config: strip("cookie:daily_token"),
			Request: func(now time.Time) Request {
				header := http.Header{"Cookie": {"a=1; daily_token=" + ValidToken(now) + "; b=2"}}
				return get("/rooms/standup", header)
			},
			Expect: Expect{Status: http.StatusOK, Upstream: true, Headers: withHeaders(validHeaders(), map[string]string{"Cookie": "a=1; b=2"})},
		},
		{
			Name:   "strip token from header",
			Config: strip("header:X-Meeting-Token"),
			Request: func(now time.Time) Request {
				header := http.Header{}
				header.Set("X-Meeting-Token", ValidToken(now))
				header.Set("X-Other", "kept")
				return get("/rooms/standup", header)
			},
			Expect: Expect{
				Status:        http.StatusOK,
				Upstream:      true,
				Headers:       withHeaders(validHeaders(), map[string]string{"X-Other": "kept"}),
				AbsentHeaders: []string{"X-Meeting-Token"},
			},
		},
		{
			Name:   "strip token from every source",
			Config: strip("bearer", "query:t", "cookie:daily_token", "header:X-Meeting-Token"),
			Request: func(now time.Time) Request {
				token := ValidToken(now)
				header := http.Header{
					"Authorization":   {"Basic dXNlcjpwYXNzd29yZA==", "Bearer " + token},
					"Cookie":          {"daily_token=" + token + "; session=s1"},
					"X-Meeting-Token": {token},
				}
				return get("/rooms/standup?t="+token+"&page=2", header)
			},
			Expect: Expect{
				Status:   http.StatusOK,
				Upstream: true,
				Headers: withHeaders(validHeaders(), map[string]string{
					"Authorization": "Basic dXNlcjpwYXNzd29yZA==",
					"Cookie":        "session=s1",
				}),
				AbsentHeaders: []string{"X-Meeting-Token"},
				RawQuery:      stringPointer("page=2"),
			},
		},
	}
}

// rejected returns the expectation of a refused request.
func rejected(status int, reason, challengeError string) Expect {
	return Expect{Status: status, Reason: reason, ChallengeError: challengeError}
}

// withToken records the token a request carries, for "{token}" in
// expectations.
func withToken(r Request, token string) Request {
	r.Token = token
	return r
}

func withHeaders(base, changes map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(changes))
	for name, value := range base {
		out[name] = value
	}
	for name, value := range changes {
		out[name] = value
	}
	return out
}

func configWith(c Config, change func(*Config)) Config {
	change(&c)
	return c
}

func expectWith(e Expect, change func(*Expect)) Expect {
	change(&e)
	return e
}
