package casetable

import (
	"net/http"
	"strings"
	"time"
)

// Claims of Daily meeting tokens by JSON type, with short names.
var (
	stringClaims = []string{"r", "d", "ud", "u", "rome", "er", "mjh", "uil"}
	boolClaims   = []string{"o", "k", "ctoe", "ij", "sr", "ast", "ss", "vo", "ao", "ejt", "erui"}
	timeClaims   = []string{"exp", "nbf", "iat"}
)

// wrongTypes are JSON values of the wrong type for a claim of each type,
// written as they appear in the payload.
var wrongTypes = map[string][]string{
	"string":  {`1`, `-1.5`, `true`, `null`, `{}`, `["standup"]`},
	"boolean": {`"true"`, `""`, `1`, `0`, `null`, `{}`, `[true]`},
	"integer": {`-1`, `1.5`, `1e3`, `"60"`, `""`, `null`, `true`, `{}`, `[]`, `9223372036854775808`, `1e400`},
	"object":  {`"x"`, `""`, `1`, `null`, `[]`, `true`},
	"time":    {`"1864081538"`, `""`, `null`, `true`, `{}`, `[]`},
}

// claimCase returns a case that sends ValidClaims, with claim set to the
// raw JSON value, to a route configured by config.
func claimCase(kind, name, claim, value string, config Config, expect Expect) Case {
	return Case{
		Name:   name,
		Kind:   kind,
		Config: config,
		Request: func(now time.Time) Request {
			token := SignRaw(Key, HS256Header, rawPayloadWithout(now, []string{claim}, `"`+claim+`":`+value))
			return withToken(get("/rooms/standup", bearer(token)), token)
		},
		Expect: expect,
	}
}

// claimTypeCases send every Daily claim with values of every wrong JSON type,
// which the core rejects instead of coercing, and the boundary values of
// each type that it accepts.
func claimTypeCases() []Case {
	var cases []Case
	wrong := func(claim, kind string) {
		for _, value := range wrongTypes[kind] {
			cases = append(cases, claimCase(KindClaimTypes, "claim "+claim+" = "+value, claim, value, validateConfig(), invalidClaim(claim)))
		}
	}
	for _, claim := range stringClaims {
		wrong(claim, "string")
	}
	for _, claim := range boolClaims {
		wrong(claim, "boolean")
	}
	wrong("eje", "integer")
	wrong("sro", "object")
	wrong("p", "object")

	ok := Expect{Status: http.StatusOK, Upstream: true, Headers: validHeaders()}
	cases = append(cases,
		// An empty room name or domain id would read as no restriction.
		claimCase(KindClaimTypes, `claim r = ""`, "r", `""`, validateConfig(), invalidClaim("r")),
		claimCase(KindClaimTypes, `claim d = ""`, "d", `""`, validateConfig(), invalidClaim("d")),
		claimCase(KindClaimTypes, `claim ud = ""`, "ud", `""`, validateConfig(), Expect{
			Status: http.StatusOK, Upstream: true,
			Headers:       map[string]string{"X-Daily-Room": Room, "X-Daily-User-Name": UserName},
			AbsentHeaders: []string{"X-Daily-User-Id"},
		}),
		claimCase(KindClaimTypes, `claim uil = "xx"`, "uil", `"xx"`, validateConfig(), ok),
		claimCase(KindClaimTypes, "claim eje = 0", "eje", `0`, validateConfig(), ok),
		claimCase(KindClaimTypes, "claim eje = max int64", "eje", `9223372036854775807`, validateConfig(), ok),
		claimCase(KindClaimTypes, "claim sro = {}", "sro", `{}`, validateConfig(), ok),
		claimCase(KindClaimTypes, "claim p = {}", "p", `{}`, validateConfig(), ok),
		claimCase(KindClaimTypes, "claim o = false", "o", `false`, validateConfig(), ok),
		claimCase(KindClaimTypes, "claim u of 2000 bytes", "u", `"`+strings.Repeat("é", 1000)+`"`, validateConfig(), Expect{
			Status: http.StatusOK, Upstream: true,
			Headers: map[string]string{"X-Daily-Room": Room, "X-Daily-User-Name": strings.Repeat("é", 1000)},
		}),
		// Unknown claims of any type are kept, never rejected.
		bearerCase(KindClaimTypes, "unknown claims of every type", func(now time.Time) string {
			return SignRaw(Key, HS256Header, rawValidPayload(now, `"otcd":null`, `"x1":[]`, `"x2":{}`, `"x3":""`, `"x4":-0.5e-7`, `"x5":false`))
		}, accepted()),
	)
	return cases
}

// timeClaimCases send exp, nbf and iat with wrong types and with boundary
// values: negative, zero, fractional, exponent notation, far future, the
// year 9999 and beyond, and numbers no float64 holds.
func timeClaimCases() []Case {
	var cases []Case
	for _, claim := range timeClaims {
		for _, value := range wrongTypes["time"] {
			cases = append(cases, claimCase(KindTimeClaims, "claim "+claim+" = "+value, claim, value, validateConfig(), invalidClaim(claim)))
		}
		for _, value := range []string{`1e400`, `-1e400`, `253402300800`, `-62135596800`, `99999999999999999999999`} {
			cases = append(cases, claimCase(KindTimeClaims, "claim "+claim+" = "+value, claim, value, validateConfig(), invalidClaim(claim)))
		}
	}

	ok := Expect{Status: http.StatusOK, Upstream: true, Headers: validHeaders()}
	expired := rejected(http.StatusUnauthorized, "expired", "invalid_token")
	notYetValid := rejected(http.StatusUnauthorized, "not_yet_valid", "invalid_token")
	issuedInFuture := rejected(http.StatusUnauthorized, "issued_in_future", "invalid_token")
	tooLong := rejected(http.StatusUnauthorized, "lifetime_too_long", "invalid_token")
	allowMissingExp := configWith(validateConfig(), func(c *Config) { c.AllowMissingExp = true })
	// A time.Duration holds at most about 292 years, and 1e10 seconds is in
	// the year 2286.
	centuries := configWith(validateConfig(), func(c *Config) { c.MaxLifetime = "2500000h" })

	relative := func(name, claim string, offset time.Duration, format string, expect Expect) Case {
		return Case{
			Name:   name,
			Kind:   KindTimeClaims,
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				value := strings.ReplaceAll(format, "{t}", itoa(now.Add(offset).Unix()))
				token := SignRaw(Key, HS256Header, rawPayloadWithout(now, []string{claim}, `"`+claim+`":`+value))
				return withToken(get("/rooms/standup", bearer(token)), token)
			},
			Expect: expect,
		}
	}

	cases = append(cases,
		// exp
		claimCase(KindTimeClaims, "claim exp = -1", "exp", `-1`, validateConfig(), expired),
		claimCase(KindTimeClaims, "claim exp = 0", "exp", `0`, validateConfig(), expired),
		claimCase(KindTimeClaims, "claim exp = -0", "exp", `-0`, validateConfig(), expired),
		claimCase(KindTimeClaims, "claim exp = 1.5", "exp", `1.5`, validateConfig(), expired),
		claimCase(KindTimeClaims, "claim exp = first second of year 1", "exp", `-62135596799`, validateConfig(), expired),
		claimCase(KindTimeClaims, "claim exp = 0 with missing exp allowed", "exp", `0`, allowMissingExp, expired),
		claimCase(KindTimeClaims, "claim exp = 1e-10 with missing exp allowed", "exp", `1e-10`, allowMissingExp, expired),
		claimCase(KindTimeClaims, "claim exp = 1e10", "exp", `1e10`, validateConfig(), tooLong),
		claimCase(KindTimeClaims, "claim exp = last second of year 9999", "exp", `253402300799`, validateConfig(), tooLong),
		claimCase(KindTimeClaims, "claim exp = 1e10 within maximum lifetime", "exp", `1e10`, centuries, ok),
		claimCase(KindTimeClaims, "claim exp = last second of year 9999 over maximum lifetime", "exp", `253402300799`, centuries, tooLong),
		relative("claim exp fractional in an hour", "exp", time.Hour, `{t}.5`, ok),
		relative("claim exp in exponent notation", "exp", time.Hour, `{t}e0`, ok),
		relative("claim exp with fraction zeros", "exp", time.Hour, `{t}.000000`, ok),
		relative("claim exp 31s ago", "exp", -31*time.Second, `{t}`, expired),

		// nbf
		claimCase(KindTimeClaims, "claim nbf = 0", "nbf", `0`, validateConfig(), ok),
		claimCase(KindTimeClaims, "claim nbf = -1", "nbf", `-1`, validateConfig(), ok),
		claimCase(KindTimeClaims, "claim nbf = 1e10", "nbf", `1e10`, validateConfig(), notYetValid),
		claimCase(KindTimeClaims, "claim nbf = last second of year 9999", "nbf", `253402300799`, validateConfig(), notYetValid),
		relative("claim nbf fractional 29.5s ahead", "nbf", 29*time.Second, `{t}.5`, ok),
		relative("claim nbf 2 minutes ahead", "nbf", 2*time.Minute, `{t}`, notYetValid),

		// iat
		claimCase(KindTimeClaims, "claim iat = 0", "iat", `0`, validateConfig(), tooLong),
		claimCase(KindTimeClaims, "claim iat = -1", "iat", `-1`, validateConfig(), tooLong),
		claimCase(KindTimeClaims, "claim iat = 0 within maximum lifetime", "iat", `0`, centuries, ok),
		claimCase(KindTimeClaims, "claim iat = 1e10", "iat", `1e10`, validateConfig(), issuedInFuture),
		relative("claim iat fractional 10.5s ahead", "iat", 10*time.Second, `{t}.5`, ok),
		relative("claim iat 2 minutes ahead", "iat", 2*time.Minute, `{t}`, issuedInFuture),
		relative("claim iat 25 hours ago", "iat", -25*time.Hour, `{t}`, tooLong),
	)
	return cases
}
