package casetable

import (
	"net/http"
	"strings"
	"time"
)

// mintConfig returns the configuration of a minting route that takes the
// room from the second path segment and the user from headers that the
// operator's authentication sets.
func mintConfig() Config {
	return Config{
		Mode: "mint",
		Keys: []string{Key},
		Claims: map[string]any{
			"room_name": "{path.1}",
			"user_id":   "{header.X-User-Id}",
			"user_name": "{header.X-User-Name}",
			"is_owner":  false,
		},
	}
}

// userHeaders are the headers the operator's authentication would set.
func userHeaders() http.Header {
	header := http.Header{}
	header.Set("X-User-Id", "user-7")
	header.Set("X-User-Name", "Grace")
	return header
}

func mintedClaims() map[string]any {
	return map[string]any{"r": Room, "ud": "user-7", "u": "Grace", "o": false}
}

// mintCases returns the cases of minting routes.
func mintCases() []Case {
	return []Case{
		{
			Name:   "mint into Authorization header",
			Config: mintConfig(),
			Request: func(now time.Time) Request {
				header := userHeaders()
				header.Set("Authorization", "Bearer client-sent-value")
				header.Set("X-Daily-Room", "hijacked")
				return get("/rooms/standup?x=1", header)
			},
			Expect: Expect{
				Status:        http.StatusOK,
				Upstream:      true,
				AbsentHeaders: []string{"X-Daily-Room"},
				RawQuery:      stringPointer("x=1"),
				Token: &TokenExpect{
					In:       "header:Authorization",
					Claims:   mintedClaims(),
					Absent:   []string{"nbf", "d"},
					Lifetime: time.Hour,
				},
			},
		},
		{
			Name: "mint into query parameter",
			Config: configWith(mintConfig(), func(c *Config) {
				c.Target = "query:t"
			}),
			Request: func(now time.Time) Request {
				return get("/rooms/standup?t=client-sent-value&x=1", userHeaders())
			},
			Expect: Expect{
				Status:   http.StatusOK,
				Upstream: true,
				RawQuery: stringPointer("x=1&t={minted}"),
				Token:    &TokenExpect{In: "query:t", Claims: mintedClaims(), Lifetime: time.Hour},
			},
		},
		{
			Name: "mint into custom header",
			Config: configWith(mintConfig(), func(c *Config) {
				c.Target = "header:X-Meeting-Token"
			}),
			Request: func(now time.Time) Request {
				return get("/rooms/standup", userHeaders())
			},
			Expect: Expect{
				Status:   http.StatusOK,
				Upstream: true,
				Token:    &TokenExpect{In: "header:X-Meeting-Token", Claims: mintedClaims(), Lifetime: time.Hour},
			},
		},
		{
			Name: "mint answered directly",
			Config: configWith(mintConfig(), func(c *Config) {
				c.Target = "response"
			}),
			Request: func(now time.Time) Request {
				return Request{Method: http.MethodPost, Target: "/rooms/standup/token", Header: userHeaders()}
			},
			Expect: Expect{
				Status:          http.StatusOK,
				Upstream:        false,
				ResponseHeaders: map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
				Token:           &TokenExpect{In: "response", Claims: mintedClaims(), Lifetime: time.Hour},
			},
		},
		{
			Name: "mint with lifetime and nbf",
			Config: configWith(mintConfig(), func(c *Config) {
				c.Lifetime = "10m"
				c.NotBefore = true
			}),
			Request: func(now time.Time) Request {
				return get("/rooms/standup", userHeaders())
			},
			Expect: Expect{
				Status:   http.StatusOK,
				Upstream: true,
				Token:    &TokenExpect{In: "header:Authorization", Claims: mintedClaims(), Lifetime: 10 * time.Minute, NotBefore: true},
			},
		},
		{
			Name: "mint with fixed values of every type",
			Config: configWith(mintConfig(), func(c *Config) {
				c.Claims = map[string]any{
					"room_name":           "{path.1}",
					"user_name":           "Host {header.X-User-Name}",
					"is_owner":            "true",
					"eject_after_elapsed": 3600,
					"lang":                "de",
					"permissions": map[string]any{
						"hasPresence": true,
						"canSend":     []any{"video", "audio"},
					},
				}
			}),
			Request: func(now time.Time) Request {
				return get("/rooms/standup", userHeaders())
			},
			Expect: Expect{
				Status:   http.StatusOK,
				Upstream: true,
				Token: &TokenExpect{
					In: "header:Authorization",
					Claims: map[string]any{
						"r":   Room,
						"u":   "Host Grace",
						"o":   true,
						"eje": float64(3600),
						"uil": "de",
						"p":   map[string]any{"hp": true, "cs": "v,a"},
					},
					Absent:   []string{"ud"},
					Lifetime: time.Hour,
				},
			},
		},
		{
			Name:   "mint without request header",
			Config: mintConfig(),
			Request: func(now time.Time) Request {
				header := userHeaders()
				header.Del("X-User-Id")
				return get("/rooms/standup", header)
			},
			Expect: Expect{Status: http.StatusBadRequest, Reason: "invalid_request_value", InfoContains: "X-User-Id"},
		},
		{
			Name:   "mint with user_id over 36 characters",
			Config: mintConfig(),
			Request: func(now time.Time) Request {
				header := userHeaders()
				header.Set("X-User-Id", strings.Repeat("u", 37))
				return get("/rooms/standup", header)
			},
			Expect: Expect{Status: http.StatusBadRequest, Reason: "invalid_request_value", InfoContains: "user_id"},
		},
		{
			Name:   "mint with request header sent twice",
			Config: mintConfig(),
			Request: func(now time.Time) Request {
				header := userHeaders()
				header.Add("X-User-Id", "user-8")
				return get("/rooms/standup", header)
			},
			Expect: Expect{Status: http.StatusBadRequest, Reason: "invalid_request_value"},
		},
	}
}
