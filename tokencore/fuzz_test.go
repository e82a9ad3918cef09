package tokencore

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Seed corpora are added here with f.Add and kept under testdata/fuzz.
// Run a target with: go test -run=^$ -fuzz=FuzzCodecVerify -fuzztime=20s ./tokencore

func FuzzCodecVerify(f *testing.F) {
	valid := signPayload(testKey, `{"r":"hello","exp":1864081538}`)
	f.Add(valid, `{"alg":"HS256","typ":"JWT"}`, `{"r":"hello","exp":1864081538}`)
	f.Add(valid+"=", `{"alg":"HS256"}`, `{}`)
	f.Add("a.b.c", `{"alg":"none"}`, `{"o":true}`)
	f.Add("..", `{"alg":"HS256","crit":["exp"]}`, `null`)
	f.Add(strings.Repeat("a", 5000), `{"alg":"HS256","typ":"jwt","kid":"1"}`, `[]`)
	f.Add(valid[:len(valid)-1]+"B", `{"alg":"HS\u0032\u0035\u0036"}`, `{"r":"a"}`)
	f.Add("eyJhbGciOiJIUzI1NiJ9.e30\n.x", `{"typ":"JWT","alg":"HS256","typ":"JOSE"}`, `{"p":{"cs":"v"}}`)

	codec := mustCodec(f, testKey)
	oracle := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithoutClaimsValidation())
	keyFunc := func(*jwt.Token) (any, error) { return testKey, nil }

	f.Fuzz(func(t *testing.T, token, headerJSON, payloadJSON string) {
		// Any string: no panic, and an accepted token is canonical.
		payload, err := codec.Verify(token)
		if err != nil {
			if _, ok := AsError(err); !ok {
				t.Fatalf("Verify: expected an *Error, got %T %v", err, err)
			}
		} else if strings.HasPrefix(token, canonicalHeader+".") {
			if resigned := codec.Sign(payload); resigned != token {
				t.Fatalf("Verify accepted a token that does not re-sign identically")
			}
		}

		// A token signed with the key over any header and payload: the core
		// accepts only what golang-jwt accepts, and rejects what golang-jwt
		// accepts only for its documented stricter rules.
		signed := signRaw(testKey, headerJSON, payloadJSON)
		ours, ourErr := codec.Verify(signed)
		_, theirErr := oracle.Parse(signed, keyFunc)

		if ourErr == nil {
			if string(ours) != payloadJSON {
				t.Fatalf("Verify: expected the signed payload back, got another")
			}
			var header map[string]any
			if json.Unmarshal([]byte(headerJSON), &header) != nil || header["alg"] != "HS256" {
				t.Fatalf("Verify accepted header %q, whose alg is not HS256", headerJSON)
			}
			if _, crit := header["crit"]; crit {
				t.Fatalf("Verify accepted header %q with crit", headerJSON)
			}
			var claims map[string]any
			if json.Unmarshal([]byte(payloadJSON), &claims) == nil && theirErr != nil {
				t.Fatalf("core accepts and golang-jwt rejects (%v) header %q payload %q", theirErr, headerJSON, payloadJSON)
			}
			return
		}
		if theirErr == nil {
			if reason := coreStricterHeader(headerJSON, len(signed)); reason == "" {
				t.Fatalf("core rejects (%v) and golang-jwt accepts header %q payload %q, with no documented reason", ourErr, headerJSON, payloadJSON)
			}
		}
	})
}

// coreStricterHeader returns why the core rejects a header golang-jwt
// accepts, or "" when no documented rule applies.
func coreStricterHeader(headerJSON string, tokenLength int) string {
	if tokenLength > DefaultMaxTokenSize {
		return "token over the size limit"
	}
	var header map[string]json.RawMessage
	if json.Unmarshal([]byte(headerJSON), &header) != nil {
		return ""
	}
	if _, ok := header["crit"]; ok {
		return "crit header"
	}
	if typ, ok := header["typ"]; ok {
		var s string
		if json.Unmarshal(typ, &s) != nil || !strings.EqualFold(s, "JWT") {
			return "typ other than JWT"
		}
	}
	if string(header["alg"]) != `"HS256"` {
		return "alg not written as the plain string \"HS256\""
	}
	return ""
}

func FuzzDecodeClaims(f *testing.F) {
	f.Add([]byte(`{"nbf":1548721569,"exp":1864081538,"r":"hello","o":true,"ss":true,"er":"local","d":"25df5057-ef0d-4d97-bde6-0cf287276cbb","iat":1548721831}`))
	f.Add([]byte(`{"r":"room-0253","d":"25df5057-ef0d-4d97-bde6-0cf287276cbb","iat":1548722207}`))
	f.Add([]byte(`{"p":{"hp":true,"cs":"v, a,customVideo","cr":{"b":{"v":true},"x":1},"ca":"participants","zz":[1]},"sro":{"a": 1}}`))
	f.Add([]byte(`{"exp":1.5e9,"nbf":-1.25,"iat":253402300799,"eje":0,"otcd":{"n": [1, 2]}}`))
	f.Add([]byte(`{"exp":"1","o":"true","r":"","eje":-1}`))
	f.Add([]byte(`{"u":"a\"b\\c\u00e9\n\u2028","ud":"\ud800"}`))
	f.Add([]byte(`null`))

	f.Fuzz(func(t *testing.T, payload []byte) {
		claims, err := DecodeClaims(payload)
		if err != nil {
			e, ok := AsError(err)
			if !ok {
				t.Fatalf("DecodeClaims: expected an *Error, got %T %v", err, err)
			}
			if e.Kind() != ErrInvalidClaim && e.Kind() != ErrMalformedToken {
				t.Fatalf("DecodeClaims: expected invalid_claim or malformed_token, got %s", e.Reason)
			}
			return
		}

		// The encoded claims decode again, and encoding is then a fixed point.
		first, err := claims.Payload()
		if err != nil {
			t.Fatalf("Payload of decoded claims: %v", err)
		}
		again, err := DecodeClaims(first)
		if err != nil {
			t.Fatalf("DecodeClaims(Payload()): %v for %s", err, first)
		}
		second, err := again.Payload()
		if err != nil {
			t.Fatalf("Payload, second time: %v", err)
		}
		if string(first) != string(second) {
			t.Fatalf("Payload is not stable:\nfirst  %s\nsecond %s", first, second)
		}
		for name, pair := range map[string][2]time.Time{"exp": {claims.Exp, again.Exp}, "nbf": {claims.Nbf, again.Nbf}, "iat": {claims.Iat, again.Iat}} {
			if diff := pair[0].Sub(pair[1]); diff > time.Microsecond || diff < -time.Microsecond {
				t.Fatalf("claim %s: %s after the round trip, expected %s", name, pair[1], pair[0])
			}
		}
		if claims.RoomName != again.RoomName || claims.DomainID != again.DomainID || claims.UserID != again.UserID {
			t.Fatalf("round trip changed r, d or ud")
		}

		// The long form decodes as properties.
		body, err := json.Marshal(claims.Properties())
		if err != nil {
			t.Fatalf("marshaling Properties: %v", err)
		}
		var properties map[string]json.RawMessage
		if err := json.Unmarshal(body, &properties); err != nil {
			t.Fatalf("Properties is not a JSON object: %s", body)
		}
		if _, err := ClaimsFromProperties(properties); err != nil {
			t.Fatalf("ClaimsFromProperties(Properties()): %v for %s", err, body)
		}
	})
}

func FuzzExtract(f *testing.F) {
	token := signPayload(testKey, `{"r":"a"}`)
	f.Add("Bearer "+token, "Basic dXNlcjpwYXNz", "t="+token+"&a=1", "tok="+token+"; b=2", token)
	f.Add("bearer   x", "Bearer y", "t=x&t=y", "tok=x", "")
	f.Add("Bearer:x", "", "a=1&%74=x;b", `tok="x"; tok=x`, " x ")
	f.Add("", "", "t=%zz&t=ok", "tok=ok; tok =no", "")
	f.Add("Bearer x,y", "", "t="+strings.Repeat("a", 5000), "", "\tx\t")

	extractor := mustExtractor(f, "bearer", "query:t", "cookie:tok", "header:X-Tok")
	f.Fuzz(func(t *testing.T, auth1, auth2, rawQuery, cookie, header string) {
		r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/room", RawQuery: rawQuery}, Header: http.Header{}}
		for _, value := range []string{auth1, auth2} {
			if value != "" {
				r.Header.Add("Authorization", value)
			}
		}
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		if header != "" {
			r.Header.Set("X-Tok", header)
		}
		candidates := independentCandidates(r)

		x, err := extractor.Extract(r)
		if err != nil {
			if _, ok := AsError(err); !ok {
				t.Fatalf("Extract: expected an *Error, got %T %v", err, err)
			}
			return
		}
		if x.Token == "" || len(x.Token) > DefaultMaxTokenSize {
			t.Fatalf("Extract: expected a token of 1 to %d bytes, got %d bytes", DefaultMaxTokenSize, len(x.Token))
		}
		if !candidates[x.Token] {
			t.Fatalf("Extract returned %q, which is not one of the inputs' values %v", x.Token, candidates)
		}

		keptPairs := otherQueryPairs(rawQuery, "t")
		extractor.Strip(r, x)

		if _, err := extractor.Extract(r); !errors.Is(err, ErrMissingToken) {
			t.Fatalf("Extract after Strip: expected ErrMissingToken, got %v", err)
		}
		if got := otherQueryPairs(r.URL.RawQuery, "t"); strings.Join(got, "&") != strings.Join(keptPairs, "&") {
			t.Fatalf("Strip changed other query parameters: expected %q, got %q", keptPairs, got)
		}
	})
}

// independentCandidates returns every value the request offers in the four
// sources, read with the standard library and without the Extractor.
func independentCandidates(r *http.Request) map[string]bool {
	out := map[string]bool{}
	for _, value := range r.Header.Values("Authorization") {
		scheme, rest, _ := strings.Cut(strings.TrimLeft(value, " \t"), " ")
		if strings.EqualFold(scheme, "bearer") {
			out[strings.Trim(rest, " \t")] = true
		}
	}
	// ParseQuery returns the pairs it could read along with an error.
	query, _ := url.ParseQuery(r.URL.RawQuery)
	for _, value := range query["t"] {
		out[value] = true
	}
	for _, c := range r.Cookies() {
		if c.Name == "tok" {
			out[c.Value] = true
		}
	}
	for _, value := range r.Header.Values("X-Tok") {
		out[strings.TrimSpace(value)] = true
	}
	return out
}

// otherQueryPairs returns the raw pairs of rawQuery whose decoded name is not name.
func otherQueryPairs(rawQuery, name string) []string {
	var out []string
	for _, pair := range strings.Split(rawQuery, "&") {
		key, _, _ := strings.Cut(pair, "=")
		if decoded, err := url.QueryUnescape(key); err == nil && decoded == name {
			continue
		}
		out = append(out, pair)
	}
	return out
}

func FuzzParseRequestValue(f *testing.F) {
	f.Add("{path.1}", "/rooms/a", "h", "q=1")
	f.Add(`room-{header.X-Room}-\{x\}`, "/", "standup", "")
	f.Add("{query.room}{path.0}{http.request.host}", "/a/b", "", "room=%41&room=b")
	f.Add("{", "//", "{path.0}", "x=%zz")
	f.Add(`\{\}{path.00}{header.}`, "/é/ü", "\x00", ";")

	const marker = "«request»"
	f.Fuzz(func(t *testing.T, value, path, header, rawQuery string) {
		r := &http.Request{
			Method: http.MethodGet,
			URL:    &url.URL{Path: path, RawQuery: rawQuery},
			Header: http.Header{"X-Room": {marker + header}},
		}

		for _, lenient := range []bool{false, true} {
			v, err := parseRequestValue(value, lenient)
			if err != nil {
				continue
			}
			if v.String() != value {
				t.Fatalf("String: expected the configured value %q, got %q", value, v.String())
			}

			var expanded []string
			expand := func(s string) string {
				expanded = append(expanded, s)
				return s
			}
			got, err := v.Resolve(r, expand)
			if err != nil {
				if !errors.Is(err, ErrInvalidRequestValue) {
					t.Fatalf("Resolve: expected ErrInvalidRequestValue, got %v", err)
				}
				continue
			}
			if !strings.Contains(value, marker) {
				for _, s := range expanded {
					if strings.Contains(s, marker) {
						t.Fatalf("expand was called with text from the request: %q", s)
					}
				}
			}
			if v.IsFixed() {
				if len(expanded) != 0 {
					t.Fatalf("expand was called for a fixed value: %q", expanded)
				}
				if other, err := v.Resolve(&http.Request{URL: &url.URL{}, Header: http.Header{}}, nil); err != nil || other != got {
					t.Fatalf("a fixed value resolved differently for another request: %q and %q (%v)", got, other, err)
				}
			}
		}
	})
}
