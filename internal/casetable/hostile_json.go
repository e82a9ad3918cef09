package casetable

import (
	"net/http"
	"strings"
	"time"
)

// headerJSONCases send protected headers that are not the JSON object
// {"alg":"HS256"} with an optional typ "JWT": other JSON values, other or
// repeated algorithms, crit, other types, trailing data, byte order marks and
// UTF-16. Each token is signed with Key over its exact segments, so only the
// header decides.
func headerJSONCases() []Case {
	withHeader := func(name, header string, expect Expect) Case {
		return bearerCase(KindHeaderJSON, "header: "+name, func(now time.Time) string {
			return SignRaw(Key, header, validPayload(now))
		}, expect)
	}
	return []Case{
		// not an object
		withHeader("array", `[]`, malformed()),
		withHeader("array around the object", `[{"alg":"HS256","typ":"JWT"}]`, malformed()),
		withHeader("null", `null`, malformed()),
		withHeader("string", `"HS256"`, malformed()),
		withHeader("number", `256`, malformed()),
		withHeader("empty", ``, malformed()),
		withHeader("empty object", `{}`, unsupported()),

		// alg
		withHeader("alg ES256", `{"alg":"ES256","typ":"JWT"}`, unsupported()),
		withHeader("alg PS256", `{"alg":"PS256","typ":"JWT"}`, unsupported()),
		withHeader("alg EdDSA", `{"alg":"EdDSA","typ":"JWT"}`, unsupported()),
		withHeader("alg HS384", `{"alg":"HS384","typ":"JWT"}`, unsupported()),
		withHeader("alg NONE in upper case", `{"alg":"NONE","typ":"JWT"}`, unsupported()),
		withHeader("alg empty", `{"alg":"","typ":"JWT"}`, unsupported()),
		withHeader("alg null", `{"alg":null,"typ":"JWT"}`, unsupported()),
		withHeader("alg in an array", `{"alg":["HS256"],"typ":"JWT"}`, unsupported()),
		withHeader("alg with a trailing space", `{"alg":"HS256 ","typ":"JWT"}`, unsupported()),
		withHeader("alg in mixed case", `{"alg":"Hs256","typ":"JWT"}`, unsupported()),
		withHeader("alg name in upper case", `{"ALG":"HS256","typ":"JWT"}`, unsupported()),
		withHeader("alg value escaped", `{"alg":"HS\u0032\u0035\u0036","typ":"JWT"}`, unsupported()),
		// An escaped member name is the same name once decoded, and its
		// value is the plain string HS256.
		withHeader("alg name escaped", `{"\u0061lg":"HS256","typ":"JWT"}`, accepted()),
		// A repeated name takes its last value, as RFC 7515 section 4
		// allows. The signature is checked as HS256 in every case.
		withHeader("alg none then HS256", `{"alg":"none","alg":"HS256","typ":"JWT"}`, accepted()),
		withHeader("alg HS256 then none", `{"alg":"HS256","alg":"none","typ":"JWT"}`, unsupported()),
		withHeader("alg HS256 then escaped none", `{"alg":"HS256","\u0061lg":"none","typ":"JWT"}`, unsupported()),

		// crit, which names extensions that must be understood
		withHeader("crit naming a claim", `{"alg":"HS256","typ":"JWT","crit":["exp"],"exp":1}`, malformed()),
		withHeader("crit empty", `{"alg":"HS256","typ":"JWT","crit":[]}`, malformed()),
		withHeader("crit null", `{"alg":"HS256","typ":"JWT","crit":null}`, malformed()),
		withHeader("b64 false with crit", `{"alg":"HS256","typ":"JWT","b64":false,"crit":["b64"]}`, malformed()),
		// Without crit, RFC 7797 b64 is an unknown parameter and ignored:
		// the payload is still decoded as base64url.
		withHeader("b64 false without crit", `{"alg":"HS256","typ":"JWT","b64":false}`, accepted()),

		// typ
		withHeader("typ in lower case", `{"alg":"HS256","typ":"jwt"}`, accepted()),
		withHeader("typ absent", `{"alg":"HS256"}`, accepted()),
		withHeader("typ JOSE", `{"alg":"HS256","typ":"JOSE"}`, malformed()),
		withHeader("typ at+jwt", `{"alg":"HS256","typ":"at+jwt"}`, malformed()),
		withHeader("typ null", `{"alg":"HS256","typ":null}`, malformed()),
		withHeader("typ number", `{"alg":"HS256","typ":1}`, malformed()),
		withHeader("typ with a trailing space", `{"alg":"HS256","typ":"JWT "}`, malformed()),

		// key parameters, which are never followed
		withHeader("kid with a path", `{"alg":"HS256","typ":"JWT","kid":"../../../etc/passwd"}`, accepted()),
		withHeader("jku and x5u on loopback", `{"alg":"HS256","typ":"JWT","jku":"http://127.0.0.1:1/keys","x5u":"http://127.0.0.1:1/cert"}`, accepted()),
		bearerCase(KindHeaderJSON, "header: jwk naming another key", func(now time.Time) string {
			jwk := `{"kty":"oct","k":"` + b64.EncodeToString([]byte(OtherKey)) + `"}`
			return SignRaw(OtherKey, `{"alg":"HS256","typ":"JWT","jwk":`+jwk+`}`, validPayload(now))
		}, invalidSignature()),

		// JSON syntax around the object
		withHeader("trailing text", `{"alg":"HS256","typ":"JWT"}x`, malformed()),
		withHeader("second object", `{"alg":"HS256","typ":"JWT"}{"alg":"none"}`, malformed()),
		withHeader("trailing NUL", "{\"alg\":\"HS256\",\"typ\":\"JWT\"}\x00", malformed()),
		withHeader("surrounding whitespace", " {\"alg\":\"HS256\",\"typ\":\"JWT\"}\n", accepted()),
		withHeader("comment", `{"alg":"HS256"/* */,"typ":"JWT"}`, malformed()),
		withHeader("single quotes", `{'alg':'HS256','typ':'JWT'}`, malformed()),
		withHeader("NaN", `{"alg":"HS256","typ":"JWT","x":NaN}`, malformed()),
		withHeader("byte order mark", "\xef\xbb\xbf"+HS256Header, malformed()),
		withHeader("UTF-16 with byte order mark", utf16(HS256Header, true), malformed()),
		withHeader("UTF-16 big-endian", utf16(HS256Header, false), malformed()),
		// Parameters the core does not read are not decoded further.
		withHeader("invalid UTF-8 in an ignored parameter", "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"x\":\"\xff\xfe\"}", accepted()),
		withHeader("deep nesting in an ignored parameter", `{"alg":"HS256","typ":"JWT","x":`+nested("[", "]", 500, "1")+`}`, accepted()),
	}
}

// payloadJSONCases send payloads that are not a plain JSON object of Daily
// claims: other JSON values, trailing data, other encodings, control
// characters, invalid UTF-8, deep nesting, huge numbers and repeated claims.
// Each token has the canonical header and is signed with Key.
func payloadJSONCases() []Case {
	withPayload := func(name string, payload func(now time.Time) string, expect Expect) Case {
		return bearerCase(KindPayloadJSON, "payload: "+name, func(now time.Time) string {
			return SignRaw(Key, HS256Header, payload(now))
		}, expect)
	}
	fixed := func(payload string) func(time.Time) string {
		return func(time.Time) string {
			return payload
		}
	}
	withMembers := func(members ...string) func(time.Time) string {
		return func(now time.Time) string {
			return rawValidPayload(now, members...)
		}
	}
	userName := func(raw string) func(time.Time) string {
		return func(now time.Time) string {
			return rawPayloadWithout(now, []string{"u"}, `"u":`+raw)
		}
	}
	withUserName := func(name string) Expect {
		return Expect{Status: http.StatusOK, Upstream: true, Headers: withHeaders(validHeaders(), map[string]string{"X-Daily-User-Name": name})}
	}

	return []Case{
		// not an object
		withPayload("array", fixed(`[]`), malformed()),
		withPayload("array around the claims", func(now time.Time) string { return "[" + validPayload(now) + "]" }, malformed()),
		withPayload("null", fixed(`null`), malformed()),
		withPayload("string", fixed(`"standup"`), malformed()),
		withPayload("number", fixed(`1`), malformed()),
		withPayload("empty", fixed(``), malformed()),
		withPayload("empty object", fixed(`{}`), rejected(http.StatusUnauthorized, "missing_expiry", "invalid_token")),

		// JSON syntax around the object
		withPayload("trailing text", func(now time.Time) string { return validPayload(now) + "x" }, malformed()),
		withPayload("second object", func(now time.Time) string { return validPayload(now) + `{"o":true}` }, malformed()),
		withPayload("byte order mark", func(now time.Time) string { return "\xef\xbb\xbf" + validPayload(now) }, malformed()),
		withPayload("UTF-16", func(now time.Time) string { return utf16(validPayload(now), true) }, malformed()),
		withPayload("comment", withMembers(`/* */ "x":1`), malformed()),
		withPayload("NaN", withMembers(`"x":NaN`), malformed()),
		// Whitespace between members is valid JSON. X-Daily-Claims gets
		// the payload compacted onto one line.
		withPayload("pretty-printed", func(now time.Time) string {
			return strings.NewReplacer("{", "{\n\t", ",", ",\r\n\t", "}", "\n}\n").Replace(validPayload(now))
		}, accepted()),

		// characters
		withPayload("raw tab inside a string", userName("\"Ada\tLovelace\""), malformed()),
		withPayload("raw line feed inside a string", userName("\"Ada\nLovelace\""), malformed()),
		withPayload("raw DEL inside a string", userName("\"Ada\x7f\""), withUserName("Ada\uFFFD")),
		withPayload("invalid UTF-8 in user name", userName("\"Ada\xff\""), withUserName("Ada\uFFFD")),
		withPayload("lone surrogate escaped in user name", userName(`"Ada\ud800"`), withUserName("Ada\uFFFD")),
		withPayload("invalid UTF-8 in an unknown claim", withMembers("\"x\":\"\xc3\x28\"", "\"\xff\":1"), Expect{Status: http.StatusOK, Upstream: true, Headers: validHeaders()}),

		// nesting and numbers in claims the core keeps as sent
		withPayload("deep nesting in an unknown claim", withMembers(`"x":`+nested("[", "]", 1000, "1")), accepted()),
		withPayload("deep nesting in sro", withMembers(`"sro":`+nested(`{"a":`, "}", 300, "1")), accepted()),
		withPayload("huge number in an unknown claim", withMembers(`"x":1e400`, `"y":-1e400`, `"z":`+strings.Repeat("9", 1000)), accepted()),

		// repeated claims: the last value wins, as in golang-jwt
		withPayload("room repeated, last matches", withMembers(`"r":"retro"`, `"r":"standup"`), accepted()),
		withPayload("room repeated, last differs", withMembers(`"r":"retro"`), rejected(http.StatusForbidden, "room_mismatch", "insufficient_scope")),
		withPayload("exp repeated, last in the past", func(now time.Time) string {
			return rawValidPayload(now, `"exp":`+itoa(now.Add(-time.Hour).Unix()))
		}, rejected(http.StatusUnauthorized, "expired", "invalid_token")),

		// nesting past encoding/json's limit of 10000 levels, on a route
		// whose size limit lets such a token through
		{
			Name:   "payload: nesting past the decoder's limit",
			Kind:   KindPayloadJSON,
			Config: configWith(validateConfig(), func(c *Config) { c.MaxTokenSize = 64 * 1024 }),
			Request: func(now time.Time) Request {
				token := SignRaw(Key, HS256Header, rawValidPayload(now, `"x":`+nested("[", "]", 10001, "1")))
				return withToken(get("/rooms/standup", bearer(token)), token)
			},
			Expect: malformed(),
		},
	}
}
