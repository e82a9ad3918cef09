package casetable

import (
	"net/http"
	"time"
)

// allSources are the token sources of a route that reads every kind.
var allSources = []string{"bearer", "query:t", "cookie:daily_token", "header:X-Meeting-Token"}

// sourceCases send the token in each source alone, in several at once, the
// same or different, repeated within a source, and with unusual Bearer
// syntax. Wherever a request carries two different tokens it is rejected, so
// a client cannot show one token to the middleware and another upstream.
func sourceCases() []Case {
	every := configWith(validateConfig(), func(c *Config) { c.Sources = allSources })
	ambiguous := rejected(http.StatusUnauthorized, "ambiguous_token", "invalid_request")
	missing := rejected(http.StatusUnauthorized, "missing_token", "")
	ok := Expect{Status: http.StatusOK, Upstream: true, Headers: validHeaders()}

	// source returns a case on config whose request is built from a valid
	// token and a second valid token of another user.
	source := func(name string, config Config, build func(token, other string) Request, expect Expect) Case {
		return Case{
			Name:   "sources: " + name,
			Kind:   KindSources,
			Config: config,
			Request: func(now time.Time) Request {
				token := ValidToken(now)
				other := Sign(Key, HS256Header, With(ValidClaims(now), map[string]any{"ud": "user-2"}))
				return withToken(build(token, other), token)
			},
			Expect: expect,
		}
	}
	header := func(pairs ...string) http.Header {
		h := http.Header{}
		for i := 0; i+1 < len(pairs); i += 2 {
			h[pairs[i]] = append(h[pairs[i]], pairs[i+1])
		}
		return h
	}

	return []Case{
		// each source alone, and all together
		source("cookie alone", every, func(token, _ string) Request {
			return get("/rooms/standup", header("Cookie", "a=1; daily_token="+token))
		}, ok),
		source("header alone with surrounding spaces", every, func(token, _ string) Request {
			return get("/rooms/standup", header("X-Meeting-Token", "  "+token+"  "))
		}, ok),
		source("quoted cookie value", every, func(token, _ string) Request {
			return get("/rooms/standup", header("Cookie", `daily_token="`+token+`"`))
		}, ok),
		source("all four with the same token", every, func(token, _ string) Request {
			return get("/rooms/standup?t="+token, header(
				"Authorization", "Bearer "+token,
				"Cookie", "daily_token="+token,
				"X-Meeting-Token", token,
			))
		}, expectWith(ok, func(e *Expect) {
			e.Headers = withHeaders(e.Headers, map[string]string{"Authorization": "Bearer {token}", "X-Meeting-Token": "{token}"})
			e.RawQuery = stringPointer("t={token}")
		})),
		source("all four, cookie differs", every, func(token, other string) Request {
			return get("/rooms/standup?t="+token, header(
				"Authorization", "Bearer "+token,
				"Cookie", "daily_token="+other,
				"X-Meeting-Token", token,
			))
		}, ambiguous),
		source("all four, header differs", every, func(token, other string) Request {
			return get("/rooms/standup?t="+token, header(
				"Authorization", "Bearer "+token,
				"Cookie", "daily_token="+token,
				"X-Meeting-Token", other,
			))
		}, ambiguous),
		source("bearer and a tampered copy in query", validateConfig(), func(token, _ string) Request {
			return get("/rooms/standup?t="+Tamper(token), bearer(token))
		}, ambiguous),
		source("bearer and query with the same token", validateConfig(), func(token, _ string) Request {
			return get("/rooms/standup?t="+token+"&page=2", bearer(token))
		}, expectWith(ok, func(e *Expect) {
			e.Headers = withHeaders(e.Headers, map[string]string{"Authorization": "Bearer {token}"})
			e.RawQuery = stringPointer("t={token}&page=2")
		})),

		// repeated within a source
		source("same Bearer token twice", validateConfig(), func(token, _ string) Request {
			return get("/rooms/standup", header("Authorization", "Bearer "+token, "Authorization", "Bearer "+token))
		}, ok),
		source("query t repeated with the same token", validateConfig(), func(token, _ string) Request {
			return get("/rooms/standup?t="+token+"&t="+token, nil)
		}, ok),
		source("query t repeated with different tokens", validateConfig(), func(token, other string) Request {
			return get("/rooms/standup?t="+token+"&t="+other, nil)
		}, ambiguous),
		source("query t repeated, one empty", validateConfig(), func(token, _ string) Request {
			return get("/rooms/standup?t=&t="+token, nil)
		}, ok),
		source("query t empty", validateConfig(), func(_, _ string) Request {
			return get("/rooms/standup?t=", nil)
		}, missing),
		// The token of this case is signed for it alone, because logs that
		// record the URI keep it: a log check must not find it under
		// another case.
		{
			Name:   "sources: query T in upper case",
			Kind:   KindSources,
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				token := Sign(Key, HS256Header, With(ValidClaims(now), map[string]any{"ud": "user-upper-t"}))
				return get("/rooms/standup?T="+token, nil)
			},
			Expect: missing,
		},
		source("query name percent-encoded", validateConfig(), func(token, _ string) Request {
			return get("/rooms/standup?%74="+token, nil)
		}, ok),
		// Go's query parser, and so Caddy's and Traefik's, skips a pair
		// with a semicolon instead of splitting it.
		source("query with a semicolon", validateConfig(), func(token, _ string) Request {
			return get("/rooms/standup?t="+token+";x=1", nil)
		}, missing),
		source("two cookies with the same token", every, func(token, _ string) Request {
			return get("/rooms/standup", header("Cookie", "daily_token="+token+"; daily_token="+token))
		}, ok),
		source("two cookies with different tokens", every, func(token, other string) Request {
			return get("/rooms/standup", header("Cookie", "daily_token="+token+"; daily_token="+other))
		}, ambiguous),
		source("two Cookie headers with different tokens", every, func(token, other string) Request {
			return get("/rooms/standup", header("Cookie", "daily_token="+token, "Cookie", "daily_token="+other))
		}, ambiguous),
		source("header repeated with different tokens", every, func(token, other string) Request {
			return get("/rooms/standup", header("X-Meeting-Token", token, "X-Meeting-Token", other))
		}, ambiguous),

		// Bearer syntax
		source("BEARER in upper case", validateConfig(), func(token, _ string) Request {
			return get("/rooms/standup", header("Authorization", "BEARER "+token))
		}, ok),
		source("bEaReR in mixed case", validateConfig(), func(token, _ string) Request {
			return get("/rooms/standup", header("Authorization", "bEaReR "+token))
		}, ok),
		source("Bearer then Basic", validateConfig(), func(token, _ string) Request {
			return get("/rooms/standup", header("Authorization", "Bearer "+token, "Authorization", "Basic dXNlcjpwYXNzd29yZA=="))
		}, ok),
		source("Basic only", validateConfig(), func(_, _ string) Request {
			return get("/rooms/standup", header("Authorization", "Basic dXNlcjpwYXNzd29yZA=="))
		}, missing),
		source("Bearer without a token", validateConfig(), func(_, _ string) Request {
			return get("/rooms/standup", header("Authorization", "Bearer"))
		}, malformed()),
		source("Bearer with two values", validateConfig(), func(token, other string) Request {
			return get("/rooms/standup", header("Authorization", "Bearer "+token+" "+other))
		}, malformed()),
		source("Bearer values joined by a comma", validateConfig(), func(token, _ string) Request {
			return get("/rooms/standup", header("Authorization", "Bearer "+token+", Bearer "+token))
		}, malformed()),
		source("Bearer followed by a tab", validateConfig(), func(token, _ string) Request {
			return get("/rooms/standup", header("Authorization", "Bearer\t"+token))
		}, missing),

		// sources the route does not read
		source("cookie ignored when not a source", validateConfig(), func(token, other string) Request {
			return get("/rooms/standup", header("Authorization", "Bearer "+token, "Cookie", "daily_token="+other))
		}, ok),
		source("header ignored when not a source", validateConfig(), func(token, other string) Request {
			return get("/rooms/standup", header("Authorization", "Bearer "+token, "X-Meeting-Token", other))
		}, ok),

		// stripping from every source, with repeats
		source("strip from every source with repeats", configWith(every, func(c *Config) { c.StripToken = true }), func(token, _ string) Request {
			return get("/rooms/standup?t="+token+"&page=2&%74="+token+"&t="+token, header(
				"Authorization", "Basic dXNlcjpwYXNzd29yZA==",
				"Authorization", "bearer "+token,
				"Cookie", "daily_token="+token+"; a=1; daily_token="+token,
				"Cookie", "daily_token="+token,
				"X-Meeting-Token", token,
				"X-Meeting-Token", token,
			))
		}, Expect{
			Status:   http.StatusOK,
			Upstream: true,
			Headers: withHeaders(validHeaders(), map[string]string{
				"Authorization": "Basic dXNlcjpwYXNzd29yZA==",
				"Cookie":        "a=1",
			}),
			AbsentHeaders: []string{"X-Meeting-Token"},
			RawQuery:      stringPointer("page=2"),
		}),
	}
}

// injectionCases send claim values that would end a header or start another
// if written as they are, and client headers under the claim header prefix.
// The upstream must get each claim header once, with every control character
// replaced by U+FFFD, and never a header the client chose.
func injectionCases() []Case {
	withClaim := func(name string, config Config, changes map[string]any, expect Expect) Case {
		return Case{
			Name:   "injection: " + name,
			Kind:   KindInjection,
			Config: config,
			Request: func(now time.Time) Request {
				token := Sign(Key, HS256Header, With(ValidClaims(now), changes))
				return withToken(get("/rooms/standup", bearer(token)), token)
			},
			Expect: expect,
		}
	}
	userName := func(name, value, expected string) Case {
		return withClaim(name, validateConfig(), map[string]any{"u": value}, Expect{
			Status:   http.StatusOK,
			Upstream: true,
			Headers: withHeaders(validHeaders(), map[string]string{
				"X-Daily-User-Name": expected,
				"X-Daily-Is-Owner":  "false",
			}),
		})
	}
	anyRoom := configWith(validateConfig(), func(c *Config) { c.Room = "" })
	const injected = "\r\nX-Daily-Is-Owner: true"
	const replaced = "\uFFFD\uFFFDX-Daily-Is-Owner: true"

	return []Case{
		userName("CR LF and a header in user name", "Ada"+injected, "Ada"+replaced),
		userName("LF in user name", "Ada\nX-Daily-Is-Owner: true", "Ada\uFFFDX-Daily-Is-Owner: true"),
		userName("CR in user name", "Ada\rX", "Ada\uFFFDX"),
		userName("NUL in user name", "Ada\x00X", "Ada\uFFFDX"),
		userName("tab in user name", "Ada\tX", "Ada\uFFFDX"),
		userName("vertical tab and form feed in user name", "Ada\v\fX", "Ada\uFFFD\uFFFDX"),
		userName("escape in user name", "Ada\x1b[31mX", "Ada\uFFFD[31mX"),
		userName("DEL in user name", "Ada\x7fX", "Ada\uFFFDX"),
		userName("request after CR LF CR LF in user name", "Ada\r\n\r\nGET /admin HTTP/1.1\r\nHost: upstream", "Ada\uFFFD\uFFFD\uFFFD\uFFFDGET /admin HTTP/1.1\uFFFD\uFFFDHost: upstream"),
		// Unicode line separators end no HTTP header and reach the
		// upstream as UTF-8.
		userName("Unicode line and paragraph separators in user name", "Ada\u2028\u2029\u0085X", "Ada\u2028\u2029\u0085X"),
		userName("header text in user name", "X-Daily-Room: retro", "X-Daily-Room: retro"),
		withClaim("CR LF in user id", validateConfig(), map[string]any{"ud": "user-1" + injected}, Expect{
			Status: http.StatusOK, Upstream: true,
			Headers: withHeaders(validHeaders(), map[string]string{"X-Daily-User-Id": "user-1" + replaced, "X-Daily-Is-Owner": "false"}),
		}),
		withClaim("CR LF in domain id", validateConfig(), map[string]any{"d": "d" + injected}, Expect{
			Status: http.StatusOK, Upstream: true,
			Headers: withHeaders(validHeaders(), map[string]string{"X-Daily-Domain-Id": "d" + replaced, "X-Daily-Is-Owner": "false"}),
		}),
		withClaim("CR LF in room name", anyRoom, map[string]any{"r": Room + injected}, Expect{
			Status: http.StatusOK, Upstream: true,
			Headers: withHeaders(validHeaders(), map[string]string{"X-Daily-Room": Room + replaced, "X-Daily-Is-Owner": "false"}),
		}),
		withClaim("claim named like a claim header", validateConfig(), map[string]any{"X-Daily-Is-Owner": true, "X-Daily-Extra": "x"}, Expect{
			Status: http.StatusOK, Upstream: true,
			Headers:       withHeaders(validHeaders(), map[string]string{"X-Daily-Is-Owner": "false", "X-Daily-Claims": "{payload}"}),
			AbsentHeaders: []string{"X-Daily-Extra"},
		}),
		{
			Name:   "injection: client claim headers in every spelling",
			Kind:   KindInjection,
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				token := ValidToken(now)
				header := bearer(token)
				header["X-Daily-Room"] = []string{"hijacked", "hijacked-2"}
				header["x-daily-is-owner"] = []string{"true"}
				header["X_Daily_User_Id"] = []string{"admin"}
				header["x_daily_domain_id"] = []string{"evil"}
				header["X-DAILY-CLAIMS"] = []string{`{"o":true}`}
				header["X-Daily-Exp"] = []string{"99999999999"}
				header["X-Daily-User-Name-Extra"] = []string{"x"}
				header["X-Daily-"] = []string{"empty name"}
				return withToken(get("/rooms/standup", header), token)
			},
			Expect: Expect{
				Status:   http.StatusOK,
				Upstream: true,
				Headers: withHeaders(validHeaders(), map[string]string{
					"X-Daily-Claims": "{payload}",
				}),
				AbsentHeaders: []string{"X_Daily_User_Id", "x_daily_domain_id", "X-Daily-User-Name-Extra", "X-Daily-"},
			},
		},
		{
			Name:   "injection: client claim headers with a roomless token",
			Kind:   KindInjection,
			Config: configWith(validateConfig(), func(c *Config) { c.AllowRoomless = true }),
			Request: func(now time.Time) Request {
				token := Sign(Key, HS256Header, With(ValidClaims(now), map[string]any{"r": nil, "d": nil, "u": nil}))
				header := bearer(token)
				header.Set("X-Daily-Room", Room)
				header.Set("X-Daily-Domain-Id", DomainID)
				header.Set("X-Daily-User-Name", "Admin")
				return withToken(get("/rooms/standup", header), token)
			},
			Expect: Expect{
				Status:        http.StatusOK,
				Upstream:      true,
				Headers:       map[string]string{"X-Daily-User-Id": UserID, "X-Daily-Claims": "{payload}"},
				AbsentHeaders: []string{"X-Daily-Room", "X-Daily-Domain-Id", "X-Daily-User-Name"},
			},
		},
	}
}
