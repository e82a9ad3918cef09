package tokencore

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
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

// Documented differences between the core and golang-jwt v5.3.1 with default
// options, beyond those of the interop tests: rules under which only the core
// rejects, and inputs that only golang-jwt rejects.
// TestDifferentialDocumentedDifferences pins both sides of each.
const (
	// stricterPayloadNull: golang-jwt decodes the payload null as no claims.
	stricterPayloadNull = "the core rejects a payload that is not a JSON object; golang-jwt reads null as no claims"
	// stricterEpochExp: golang-jwt reads a time claim of 0 as absent.
	stricterEpochExp = "the core reads exp 0 as the Unix epoch, expired; golang-jwt reads it as no exp"
	// stricterLineBreak: base64 decoders skip CR and LF.
	stricterLineBreak = "the core rejects line breaks in a token; golang-jwt's base64 decoder skips them"
	// differentFraction: golang-jwt truncates NumericDates to whole seconds
	// (jwt.TimePrecision), the core keeps the fraction.
	differentFraction = "golang-jwt truncates a fractional time claim to whole seconds"
	// lenientHugeNumber: golang-jwt decodes claims and header into
	// map[string]any, which cannot hold a number beyond float64.
	lenientHugeNumber = "the core keeps a number beyond float64 in a claim or header parameter it does not read; golang-jwt fails to decode it"
)

// Daily claims by JSON type, listed here independently of the core's tables.
var (
	differentialStringClaims = []string{"r", "d", "ud", "u", "rome", "er", "mjh", "uil"}
	differentialBoolClaims   = []string{"o", "k", "ctoe", "ij", "sr", "ast", "ss", "vo", "ao", "ejt", "erui"}
	differentialTimeClaims   = []string{"exp", "nbf", "iat"}
)

// differentialParser is golang-jwt configured as in the differential fuzz
// target: HS256 only, its default validation (exp optional, nbf checked, no
// leeway) with iat checked as the core always does, at testNow.
func differentialParser() *jwt.Parser {
	return jwt.NewParser(
		jwt.WithValidMethods([]string{"HS256"}),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(func() time.Time { return testNow }),
	)
}

// differentialPolicy is the core's policy matching differentialParser.
var differentialPolicy = Policy{AllowMissingExp: true}

// coreDecide verifies, decodes and checks token as a validating route would,
// with differentialPolicy at testNow.
func coreDecide(codec *Codec, token string) error {
	payload, err := codec.Verify(token)
	if err != nil {
		return err
	}
	claims, err := DecodeClaims(payload)
	if err != nil {
		return err
	}
	return differentialPolicy.Check(claims, testNow, "")
}

// golangJWTDecide parses token with differentialParser.
func golangJWTDecide(token string) error {
	_, err := differentialParser().ParseWithClaims(token, jwt.MapClaims{}, func(*jwt.Token) (any, error) {
		return testKey, nil
	})
	return err
}

// differentialVariant changes the encoding of a signed token without
// changing the bytes a lenient decoder reads, or breaks it for both.
func differentialVariant(token string, variant uint8) string {
	dot := strings.LastIndexByte(token, '.')
	signature := token[dot+1:]
	switch variant % 5 {
	case 1:
		last := strings.IndexByte(base64URLAlphabet, signature[len(signature)-1])
		return token[:dot+1] + signature[:len(signature)-1] + string(base64URLAlphabet[last|1])
	case 2:
		return token[:dot+1] + signature[:10] + "\n" + signature[10:]
	case 3:
		return token + "="
	case 4:
		return token[:dot+1] + strings.NewReplacer("-", "+", "_", "/").Replace(signature)
	}
	return token
}

// knownDifferences returns the documented reasons why the core and
// golang-jwt may disagree on token, signed over headerJSON and payloadJSON:
// stricter for rules where only the core rejects, lenient for inputs only
// golang-jwt rejects. It reads the input with encoding/json, not with the
// core.
func knownDifferences(headerJSON, payloadJSON, token string) (stricter, lenient []string) {
	if reason := coreStricterHeader(headerJSON, len(token)); reason != "" {
		stricter = append(stricter, reason)
	}
	if strings.ContainsAny(token, "\r\n") {
		stricter = append(stricter, stricterLineBreak)
	}
	if dot := strings.LastIndexByte(token, '.'); dot >= 0 && lenientSameBytes(token) {
		if _, err := b64.DecodeString(token[dot+1:]); err != nil {
			stricter = append(stricter, stricterTrailingBits)
		}
	}
	if decodesOnlyRaw(headerJSON) || decodesOnlyRaw(payloadJSON) {
		lenient = append(lenient, lenientHugeNumber)
	}

	var claims map[string]json.RawMessage
	if json.Unmarshal([]byte(payloadJSON), &claims) != nil {
		return stricter, lenient
	}
	if claims == nil {
		stricter = append(stricter, stricterPayloadNull)
	}
	for _, name := range differentialStringClaims {
		raw, ok := claims[name]
		var s string
		if ok && (json.Unmarshal(raw, &s) != nil || len(raw) == 0 || raw[0] != '"') {
			stricter = append(stricter, stricterClaimType)
		}
		if ok && s == "" && (name == "r" || name == "d") {
			stricter = append(stricter, stricterEmptyScope)
		}
	}
	for _, name := range differentialBoolClaims {
		if raw, ok := claims[name]; ok && string(raw) != "true" && string(raw) != "false" {
			stricter = append(stricter, stricterClaimType)
		}
	}
	if raw, ok := claims["eje"]; ok {
		if n, err := strconv.ParseInt(string(raw), 10, 64); err != nil || n < 0 {
			stricter = append(stricter, stricterClaimType)
		}
	}
	for _, name := range []string{"sro", "p"} {
		if raw, ok := claims[name]; ok && (len(raw) == 0 || raw[0] != '{') {
			stricter = append(stricter, stricterClaimType)
		}
	}
	if _, ok := claims["p"]; ok {
		stricter = append(stricter, stricterPermissions)
	}
	for _, name := range differentialTimeClaims {
		raw, ok := claims[name]
		if !ok {
			continue
		}
		seconds, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			continue
		}
		if seconds <= minNumericDate || seconds > maxNumericDate {
			stricter = append(stricter, stricterDateRange)
		}
		if name == "exp" && seconds == 0 {
			stricter = append(stricter, stricterEpochExp)
		}
		if whole := math.Floor(seconds); whole != seconds && int64(whole) == testNow.Unix() {
			stricter = append(stricter, differentFraction)
			lenient = append(lenient, differentFraction)
		}
	}
	return stricter, lenient
}

// decodesOnlyRaw reports whether text is a JSON object that decodes into
// map[string]json.RawMessage but not into map[string]any, as with a number
// beyond float64.
func decodesOnlyRaw(text string) bool {
	var raw map[string]json.RawMessage
	var values map[string]any
	return json.Unmarshal([]byte(text), &raw) == nil && json.Unmarshal([]byte(text), &values) != nil
}

// FuzzDifferentialGolangJWT signs any header and payload with the key, in
// one of several encodings, and decides the token with the core and with
// golang-jwt/jwt/v5. Where they disagree, the input must show one of the
// documented differences.
func FuzzDifferentialGolangJWT(f *testing.F) {
	exp := strconv.FormatInt(testNow.Add(time.Hour).Unix(), 10)
	now := strconv.FormatInt(testNow.Unix(), 10)
	header := `{"alg":"HS256","typ":"JWT"}`
	f.Add(header, `{"r":"hello","d":"25df5057-ef0d-4d97-bde6-0cf287276cbb","exp":`+exp+`,"iat":`+now+`}`, uint8(0))
	f.Add(header, `{"nbf":1548721569,"exp":1864081538,"r":"hello","o":true,"ss":true,"er":"local","iat":1548721831}`, uint8(1))
	f.Add(`{"alg":"HS256"}`, `{"exp":`+now+`.5}`, uint8(0))
	f.Add(`{"alg":"HS256","typ":"jwt","kid":1e400}`, `{"nbf":`+now+`.25,"x":1e400}`, uint8(2))
	f.Add(`{"alg":"HS\u0032\u0035\u0036"}`, `null`, uint8(3))
	f.Add(`{"alg":"none","alg":"HS256","crit":["b64"]}`, `{"exp":0,"r":"","o":"true"}`, uint8(4))
	f.Add(header, `{"exp":1e10,"iat":-62135596800,"eje":1e3,"p":{"cs":"v,x"}}`, uint8(0))
	f.Add(header, `{"exp":"`+exp+`","sro":[],"uil":7}`, uint8(0))

	codec := mustCodec(f, testKey)
	f.Fuzz(func(t *testing.T, headerJSON, payloadJSON string, variant uint8) {
		token := differentialVariant(signRaw(testKey, headerJSON, payloadJSON), variant)
		ours := coreDecide(codec, token)
		theirs := golangJWTDecide(token)
		if ours != nil {
			if _, ok := AsError(ours); !ok {
				t.Fatalf("core: expected an *Error, got %T %v", ours, ours)
			}
		}
		if (ours == nil) == (theirs == nil) {
			return
		}

		stricter, lenient := knownDifferences(headerJSON, payloadJSON, token)
		if ours != nil && len(stricter) == 0 {
			t.Fatalf("core rejects (%v) and golang-jwt accepts, with no documented reason: header %q payload %q variant %d", ours, headerJSON, payloadJSON, variant%5)
		}
		if ours == nil && len(lenient) == 0 {
			t.Fatalf("core accepts and golang-jwt rejects (%v), with no documented reason: header %q payload %q variant %d", theirs, headerJSON, payloadJSON, variant%5)
		}
	})
}

// TestDifferentialDocumentedDifferences pins each documented difference
// between the core and golang-jwt: both decisions, and the reason that
// knownDifferences gives for it.
func TestDifferentialDocumentedDifferences(t *testing.T) {
	codec := mustCodec(t, testKey)
	now := strconv.FormatInt(testNow.Unix(), 10)
	exp := strconv.FormatInt(testNow.Add(time.Hour).Unix(), 10)
	header := `{"alg":"HS256","typ":"JWT"}`
	tests := []struct {
		name            string
		header, payload string
		variant         uint8
		coreAccepts     bool
		reason          string
	}{
		{"payload null", header, `null`, 0, false, stricterPayloadNull},
		{"exp 0", header, `{"r":"a","exp":0}`, 0, false, stricterEpochExp},
		{"exp -0", header, `{"r":"a","exp":-0}`, 0, false, stricterEpochExp},
		{"line feed in signature", header, `{"r":"a","exp":` + exp + `}`, 2, false, stricterLineBreak},
		{"unused bits in signature", header, `{"r":"a","exp":` + exp + `}`, 1, false, stricterTrailingBits},
		{"crit header", `{"alg":"HS256","crit":["exp"]}`, `{"r":"a"}`, 0, false, "crit header"},
		{"typ JOSE", `{"alg":"HS256","typ":"JOSE"}`, `{"r":"a"}`, 0, false, "typ other than JWT"},
		{"alg escaped", `{"alg":"HS\u0032\u0035\u0036"}`, `{"r":"a"}`, 0, false, "alg not written as the plain string \"HS256\""},
		{"exp half a second ahead", header, `{"r":"a","exp":` + now + `.5}`, 0, true, differentFraction},
		{"nbf half a second ahead", header, `{"r":"a","nbf":` + now + `.5}`, 0, false, differentFraction},
		{"huge number in an unknown claim", header, `{"r":"a","x":1e400}`, 0, true, lenientHugeNumber},
		{"huge number in kid", `{"alg":"HS256","kid":1e400}`, `{"r":"a"}`, 0, true, lenientHugeNumber},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := differentialVariant(signRaw(testKey, tt.header, tt.payload), tt.variant)
			ours := coreDecide(codec, token)
			theirs := golangJWTDecide(token)
			if tt.coreAccepts {
				if ours != nil {
					t.Errorf("core: expected acceptance, got %v", ours)
				}
				if theirs == nil {
					t.Error("golang-jwt: expected a rejection, got acceptance")
				}
			} else {
				if ours == nil {
					t.Error("core: expected a rejection, got acceptance")
				}
				if theirs != nil {
					t.Errorf("golang-jwt: expected acceptance, got %v", theirs)
				}
			}

			stricter, lenient := knownDifferences(tt.header, tt.payload, token)
			reasons := stricter
			if tt.coreAccepts {
				reasons = lenient
			}
			found := false
			for _, reason := range reasons {
				found = found || reason == tt.reason
			}
			if !found {
				t.Errorf("knownDifferences = %q, expected %q", reasons, tt.reason)
			}
		})
	}
}

// TestDifferentialPlainTokensAgree checks that common tokens have no
// documented difference, so a disagreement on them fails the fuzz target,
// and that both libraries decide them alike.
func TestDifferentialPlainTokensAgree(t *testing.T) {
	codec := mustCodec(t, testKey)
	exp := strconv.FormatInt(testNow.Add(time.Hour).Unix(), 10)
	past := strconv.FormatInt(testNow.Add(-time.Hour).Unix(), 10)
	payloads := []string{
		`{"r":"a","d":"b","u":"Ann","o":true,"exp":` + exp + `}`,
		`{"r":"a","exp":` + past + `}`,
		`{"r":"a","nbf":` + exp + `}`,
		`{"r":"a","iat":` + exp + `}`,
		`{}`,
	}
	for _, payload := range payloads {
		token := signRaw(testKey, `{"alg":"HS256","typ":"JWT"}`, payload)
		stricter, lenient := knownDifferences(`{"alg":"HS256","typ":"JWT"}`, payload, token)
		if len(stricter)+len(lenient) > 0 {
			t.Errorf("payload %s: knownDifferences = %q, %q, expected none", payload, stricter, lenient)
		}
		if ours, theirs := coreDecide(codec, token), golangJWTDecide(token); (ours == nil) != (theirs == nil) {
			t.Errorf("payload %s: core %v, golang-jwt %v, expected the same decision", payload, ours, theirs)
		}
	}
}

// FuzzAuthorizeRequest sends a request with any values in the four token
// sources and in a client header, with a valid token whose user name is any
// string placed in the sources that place selects, to a validating route
// that strips the token. Whatever the input, the core must not panic, must
// reject only with an *Error of status 401 or 403, and on acceptance must
// leave under the claim header prefix only its claim headers, each with one
// value free of control characters, and no token anywhere.
func FuzzAuthorizeRequest(f *testing.F) {
	f.Add("Ada", uint8(1), "Basic dXNlcjpwYXNz", "page=2", "a=1", "", "X-Daily-Is-Owner", "true")
	f.Add("Ada\r\nX-Daily-Is-Owner: true", uint8(15), "", "t=&%74=x", "daily_token=y", "z", "X_Daily_Room", "hijacked")
	f.Add("\u2028\x00\x7f", uint8(2), "bearer x", "t=a;b", `daily_token="q"`, " ", "x-daily-", "")
	f.Add("", uint8(8), "Bearer  a b", "t=%zz", "daily_token", "\t", "X-Daily-Claims", `{"o":true}`)

	validator := mustValidator(f, ValidatorConfig{
		Sources:    []string{"bearer", "query:t", "cookie:daily_token", "header:X-Meeting-Token"},
		Room:       "{path.1}",
		StripToken: true,
	})
	names := []string{"X-Daily-Room", "X-Daily-Domain-Id", "X-Daily-User-Id", "X-Daily-User-Name", "X-Daily-Is-Owner", "X-Daily-Exp", "X-Daily-Claims"}
	f.Fuzz(func(t *testing.T, userName string, place uint8, authorization, rawQuery, cookie, header, clientName, clientValue string) {
		payload, err := json.Marshal(map[string]any{"r": "standup", "u": userName, "exp": testNow.Add(time.Hour).Unix()})
		if err != nil {
			t.Skip()
		}
		token := signPayload(testKey, string(payload))

		r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/rooms/standup", RawQuery: rawQuery}, Header: http.Header{}}
		add := func(name, value string) {
			if value != "" {
				r.Header.Add(name, value)
			}
		}
		add("Authorization", authorization)
		add("Cookie", cookie)
		add("X-Meeting-Token", header)
		add(clientName, clientValue)
		if place&1 != 0 {
			r.Header.Add("Authorization", "Bearer "+token)
		}
		if place&2 != 0 {
			r.URL.RawQuery += "&t=" + token
		}
		if place&4 != 0 {
			r.Header.Add("Cookie", "daily_token="+token)
		}
		if place&8 != 0 {
			r.Header.Add("X-Meeting-Token", token)
		}

		_, err = validator.Authorize(r, nil)
		if err != nil {
			e, ok := AsError(err)
			if !ok {
				t.Fatalf("Authorize: expected an *Error, got %T %v", err, err)
			}
			if e.Status != http.StatusUnauthorized && e.Status != http.StatusForbidden {
				t.Fatalf("Authorize: expected status 401 or 403, got %d (%s)", e.Status, e.Reason)
			}
			if strings.Contains(e.Description, token) {
				t.Fatalf("Authorize: the error description contains the token")
			}
			return
		}

		for name, values := range r.Header {
			if strings.HasPrefix(strings.ReplaceAll(strings.ToLower(name), "_", "-"), "x-daily-") {
				found := false
				for _, claimHeader := range names {
					found = found || name == claimHeader
				}
				if !found || len(values) != 1 {
					t.Fatalf("header %q = %q reaches the upstream, expected only the claim headers with one value each", name, values)
				}
				if strings.ContainsFunc(values[0], func(c rune) bool { return c < 0x20 || c == 0x7f }) {
					t.Fatalf("header %s = %q contains a control character", name, values[0])
				}
			}
			for _, value := range values {
				if strings.Contains(value, token) {
					t.Fatalf("header %s still carries the token after stripping", name)
				}
			}
		}
		if strings.Contains(r.URL.RawQuery, token) {
			t.Fatalf("query %q still carries the token after stripping", r.URL.RawQuery)
		}
	})
}
