package tokencore

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	mathrand "math/rand"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Interop tests use github.com/golang-jwt/jwt/v5 as an independent oracle.
// It is configured like the core's defaults: HS256 only, exp required, iat
// checked, the same leeway and clock.

// oracleParse parses and validates token with golang-jwt at now.
func oracleParse(token string, now time.Time, keys ...[]byte) (jwt.MapClaims, error) {
	if len(keys) == 0 {
		keys = [][]byte{testKey}
	}
	verificationKeys := make([]jwt.VerificationKey, len(keys))
	for i, key := range keys {
		verificationKeys[i] = key
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{"HS256"}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(DefaultLeeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	claims := jwt.MapClaims{}
	_, err := parser.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) {
		return jwt.VerificationKeySet{Keys: verificationKeys}, nil
	})
	return claims, err
}

// coreParse verifies token with the core at now under its default policy.
func coreParse(token string, now time.Time) (*Claims, error) {
	codec, err := NewCodec([][]byte{testKey}, 0)
	if err != nil {
		return nil, err
	}
	payload, err := codec.Verify(token)
	if err != nil {
		return nil, err
	}
	claims, err := DecodeClaims(payload)
	if err != nil {
		return nil, err
	}
	if err := (&Policy{Leeway: DefaultLeeway}).Check(claims, now, ""); err != nil {
		return nil, err
	}
	return claims, nil
}

// oracleSign signs claims with golang-jwt under HS256.
func oracleSign(t testing.TB, claims jwt.MapClaims, key []byte) string {
	t.Helper()
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
	if err != nil {
		t.Fatalf("golang-jwt SignedString: %v", err)
	}
	return token
}

func TestInteropMintedTokenParsesInGolangJWT(t *testing.T) {
	m := mustMinter(t, MinterConfig{
		Claims: map[string]any{
			"room_name":           "{path.1}",
			"domain_id":           testDomainID,
			"user_id":             "{header.X-User-Id}",
			"user_name":           "{header.X-User-Name}",
			"is_owner":            true,
			"enable_screenshare":  false,
			"eject_after_elapsed": 900,
			"lang":                "de",
			"enable_recording":    "cloud",
			"permissions": map[string]any{
				"hasPresence": true,
				"canSend":     []any{"video", "screenVideo"},
				"canReceive":  map[string]any{"base": false},
			},
		},
		Lifetime:     30 * time.Minute,
		SetNotBefore: true,
	})
	r := newRequest("/rooms/standup", "X-User-Id: user-42", `X-User-Name: Zoë "Host" <b>`)
	token, _, err := m.Mint(r, nil)
	if err != nil {
		t.Fatalf("Mint: unexpected error: %v", err)
	}

	got, err := oracleParse(token, testNow.Add(time.Minute))
	if err != nil {
		t.Fatalf("golang-jwt Parse of a minted token: unexpected error: %v", err)
	}
	want := jwt.MapClaims{
		"r":   "standup",
		"d":   testDomainID,
		"ud":  "user-42",
		"u":   `Zoë "Host" <b>`,
		"o":   true,
		"ss":  false,
		"eje": float64(900),
		"uil": "de",
		"er":  "cloud",
		"p":   map[string]any{"hp": true, "cs": "v,sv", "cr": map[string]any{"b": false}},
		"iat": float64(testNow.Unix()),
		"nbf": float64(testNow.Unix()),
		"exp": float64(testNow.Add(30 * time.Minute).Unix()),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("golang-jwt claims:\nexpected %v\n     got %v", want, got)
	}

	// golang-jwt reads the header as HS256 JWT too.
	parsed, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		t.Fatalf("golang-jwt ParseUnverified: %v", err)
	}
	if parsed.Header["alg"] != "HS256" || parsed.Header["typ"] != "JWT" {
		t.Errorf("golang-jwt header: expected alg HS256 and typ JWT, got %v", parsed.Header)
	}

	// After the lifetime both reject the token.
	later := testNow.Add(31 * time.Minute)
	if _, err := oracleParse(token, later); err == nil {
		t.Error("golang-jwt Parse after exp and leeway: expected an error, got nil")
	}
	if _, err := coreParse(token, later); err == nil {
		t.Error("core after exp and leeway: expected an error, got nil")
	}
}

func TestInteropGolangJWTTokenVerifiesInCore(t *testing.T) {
	token := oracleSign(t, jwt.MapClaims{
		"r":    "standup",
		"d":    testDomainID,
		"u":    "Zoë",
		"ud":   "user-42",
		"o":    true,
		"k":    false,
		"eje":  600,
		"sro":  map[string]any{"layout": map[string]any{"preset": "default"}},
		"p":    map[string]any{"hp": true, "cs": "v,a", "cr": map[string]any{"b": true}, "ca": []string{"participants"}},
		"exp":  testNow.Add(time.Hour).Unix(),
		"iat":  testNow.Unix(),
		"nbf":  jwt.NewNumericDate(testNow),
		"otcd": 1,
	}, testKey)

	v := mustValidator(t, ValidatorConfig{Room: "{path.1}", Policy: Policy{DomainID: testDomainID, RequireOwner: true}})
	r := newRequest("/rooms/standup", "Authorization: Bearer "+token)
	result, err := v.Authorize(r, nil)
	if err != nil {
		t.Fatalf("Authorize of a golang-jwt token: unexpected error: %v", err)
	}

	want := &Claims{
		RoomName:                "standup",
		DomainID:                testDomainID,
		UserName:                "Zoë",
		UserID:                  "user-42",
		IsOwner:                 boolPtr(true),
		Knocking:                boolPtr(false),
		EjectAfterElapsed:       int64Ptr(600),
		StartCloudRecordingOpts: json.RawMessage(`{"layout":{"preset":"default"}}`),
		Permissions: &Permissions{
			HasPresence: boolPtr(true),
			CanSend:     &PermissionSet{Names: []string{"video", "audio"}},
			CanReceive:  map[string]json.RawMessage{"base": json.RawMessage(`true`)},
			CanAdmin:    &PermissionSet{Names: []string{"participants"}},
		},
		Exp:   testNow.Add(time.Hour),
		Iat:   testNow,
		Nbf:   testNow,
		Extra: map[string]json.RawMessage{"otcd": json.RawMessage(`1`)},
	}
	if !reflect.DeepEqual(result.Claims, want) {
		t.Errorf("core claims:\nexpected %+v\n     got %+v", want, result.Claims)
	}
	if got := r.Header.Get("X-Daily-Room"); got != "standup" {
		t.Errorf("X-Daily-Room: expected standup, got %q", got)
	}
}

func TestInteropRejectedByBoth(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generating an RSA key: %v", err)
	}
	valid := jwt.MapClaims{"r": "a", "exp": testNow.Add(time.Hour).Unix()}
	sign := func(method jwt.SigningMethod, claims jwt.MapClaims, key any) string {
		token, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatalf("golang-jwt SignedString with %s: %v", method.Alg(), err)
		}
		return token
	}
	good := oracleSign(t, valid, testKey)
	segments := strings.Split(good, ".")

	cases := map[string]string{
		"tampered payload":   segments[0] + "." + encodeSegment([]byte(`{"r":"b","exp":1700003600}`)) + "." + segments[2],
		"tampered signature": withSignature(good, func(s string) string { return flipChar(s, 5) }),
		"expired":            oracleSign(t, jwt.MapClaims{"r": "a", "exp": testNow.Add(-time.Hour).Unix()}, testKey),
		"not yet valid":      oracleSign(t, jwt.MapClaims{"r": "a", "exp": testNow.Add(2 * time.Hour).Unix(), "nbf": testNow.Add(time.Hour).Unix()}, testKey),
		"issued in future":   oracleSign(t, jwt.MapClaims{"r": "a", "exp": testNow.Add(2 * time.Hour).Unix(), "iat": testNow.Add(time.Hour).Unix()}, testKey),
		"no exp":             oracleSign(t, jwt.MapClaims{"r": "a"}, testKey),
		"exp as string":      oracleSign(t, jwt.MapClaims{"r": "a", "exp": "1700003600"}, testKey),
		"wrong key":          oracleSign(t, valid, []byte("another-key")),
		"HS512":              sign(jwt.SigningMethodHS512, valid, testKey),
		"HS384":              sign(jwt.SigningMethodHS384, valid, testKey),
		"RS256":              sign(jwt.SigningMethodRS256, valid, rsaKey),
		"none":               sign(jwt.SigningMethodNone, valid, jwt.UnsafeAllowNoneSignatureType),
		"two segments":       segments[0] + "." + segments[1],
		"padded signature":   good + "=",
	}
	for name, token := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := oracleParse(token, testNow); err == nil {
				t.Error("golang-jwt: expected rejection, got acceptance")
			}
			if _, err := coreParse(token, testNow); err == nil {
				t.Error("core: expected rejection, got acceptance")
			}
		})
	}
}

// flipChar replaces the character at i with another base64url character.
func flipChar(s string, i int) string {
	c := strings.IndexByte(base64URLAlphabet, s[i])
	return s[:i] + string(base64URLAlphabet[(c+17)%64]) + s[i+1:]
}

// generatedCase is one token of the generated interop set and, when the
// core rejects it on purpose while golang-jwt accepts it, the reason.
type generatedCase struct {
	description string
	token       string
	stricter    string
}

// Rules where the core is deliberately stricter than golang-jwt v5 with
// default options. Each is a documented part of the core's contract.
const (
	stricterClaimType    = "the core checks the JSON type of every Daily claim; golang-jwt checks only registered claims"
	stricterEmptyScope   = "an empty r or d is rejected, because no r means every room"
	stricterHeaderTyp    = "the core rejects a typ other than JWT; golang-jwt ignores typ"
	stricterHeaderCrit   = "the core rejects any crit header (RFC 7515 section 4.1.11); golang-jwt ignores crit"
	stricterTrailingBits = "the core decodes base64url strictly, so non-zero unused bits are rejected; golang-jwt does not by default"
	stricterDateRange    = "the core rejects NumericDates beyond the year 9999"
	stricterPermissions  = "the core decodes the p claim's documented short form"
)

// claimGenerator makes random Daily claim sets for the interop comparison.
type claimGenerator struct {
	rng *mathrand.Rand
	now time.Time
}

var (
	generatedStringClaims = []string{"r", "d", "ud", "u", "rome", "mjh"}
	generatedBoolClaims   = []string{"o", "k", "ctoe", "ij", "sr", "ast", "ss", "vo", "ao", "ejt", "erui"}
	generatedPermissions  = []any{
		map[string]any{"hp": true},
		map[string]any{"cs": "v,a", "hp": false},
		map[string]any{"cs": true, "cr": map[string]any{"b": map[string]any{"video": true}}},
		map[string]any{"ca": []any{"participants"}, "xx": 1},
	}
	wrongTypedValues = []any{"1", 1, true, nil, []any{}, map[string]any{}}
)

// timeOffset returns a random offset in seconds from now in [low, high] that
// stays at least 2 s away from boundary, so that golang-jwt's truncation of
// fractional seconds cannot change the outcome.
func (g *claimGenerator) timeOffset(low, high, boundary int64) int64 {
	for {
		offset := low + g.rng.Int63n(high-low+1)
		if offset-boundary > 2 || boundary-offset > 2 {
			return offset
		}
	}
}

func (g *claimGenerator) numericDate(offset int64) any {
	if g.rng.Intn(5) == 0 {
		return float64(g.now.Unix()+offset) + 0.5
	}
	return g.now.Unix() + offset
}

// claims returns a random claim set and, if it breaks a rule only the core
// enforces, the reason.
func (g *claimGenerator) claims() (jwt.MapClaims, string) {
	claims := jwt.MapClaims{}
	stricter := ""
	leeway := int64(DefaultLeeway / time.Second)

	for _, name := range generatedStringClaims {
		if g.rng.Intn(2) == 0 {
			claims[name] = fmt.Sprintf("%s-%d", name, g.rng.Intn(1000))
		}
	}
	for _, name := range generatedBoolClaims {
		if g.rng.Intn(3) == 0 {
			claims[name] = g.rng.Intn(2) == 0
		}
	}
	if g.rng.Intn(3) == 0 {
		claims["eje"] = g.rng.Intn(7200)
	}
	if g.rng.Intn(3) == 0 {
		claims["p"] = generatedPermissions[g.rng.Intn(len(generatedPermissions))]
	}
	if g.rng.Intn(4) == 0 {
		claims["uil"] = []string{"en", "de", "pt-BR", "user"}[g.rng.Intn(4)]
	}
	if g.rng.Intn(4) == 0 {
		claims["otcd"] = g.rng.Intn(10)
	}

	// Time claims: mostly valid, sometimes outside the window.
	if g.rng.Intn(10) != 0 {
		claims["exp"] = g.numericDate(g.timeOffset(-3600, 3*3600, -leeway))
	}
	if g.rng.Intn(3) == 0 {
		claims["nbf"] = g.numericDate(g.timeOffset(-3600, 300, leeway))
	}
	if g.rng.Intn(3) == 0 {
		claims["iat"] = g.numericDate(g.timeOffset(-3600, 300, leeway))
	}

	// Faults the core rejects on purpose.
	switch g.rng.Intn(20) {
	case 0:
		name := generatedStringClaims[g.rng.Intn(len(generatedStringClaims))]
		claims[name] = wrongTypedValues[1+g.rng.Intn(len(wrongTypedValues)-1)]
		stricter = stricterClaimType
	case 1:
		name := generatedBoolClaims[g.rng.Intn(len(generatedBoolClaims))]
		claims[name] = []any{"true", 1, nil}[g.rng.Intn(3)]
		stricter = stricterClaimType
	case 2:
		claims["eje"] = []any{-1, 1.5, "60"}[g.rng.Intn(3)]
		stricter = stricterClaimType
	case 3:
		claims[[]string{"r", "d"}[g.rng.Intn(2)]] = ""
		stricter = stricterEmptyScope
	case 4:
		claims["p"] = []any{"hp", map[string]any{"cs": "v,x"}, map[string]any{"cr": map[string]any{}}}[g.rng.Intn(3)]
		stricter = stricterPermissions
	case 5:
		if _, ok := claims["exp"]; ok {
			claims["exp"] = float64(1e12)
			stricter = stricterDateRange
		}
	case 6:
		// Wrong time types are rejected by both, so this adds no reason.
		claims[[]string{"exp", "nbf", "iat"}[g.rng.Intn(3)]] = wrongTypedValues[g.rng.Intn(len(wrongTypedValues))]
	}
	return claims, stricter
}

// generate returns a token for claims, signed by one of the two libraries,
// possibly with another header or a mutation.
func (g *claimGenerator) generate(t testing.TB, claims jwt.MapClaims, stricter string) generatedCase {
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatalf("marshaling generated claims: %v", err)
	}
	c := generatedCase{stricter: stricter, description: string(payload)}

	switch g.rng.Intn(8) {
	case 0:
		c.token = signRaw(testKey, `{"alg":"HS256"}`, string(payload))
		c.description += " header without typ"
	case 1:
		c.token = signRaw(testKey, `{"alg":"HS256","typ":"JWT","kid":"k1"}`, string(payload))
		c.description += " header with kid"
	case 2:
		c.token = signRaw(testKey, `{"alg":"HS256","typ":"at+jwt"}`, string(payload))
		c.description += " header typ at+jwt"
		c.stricter = stricterHeaderTyp
	case 3:
		c.token = signRaw(testKey, `{"alg":"HS256","typ":"JWT","crit":["exp"]}`, string(payload))
		c.description += " header with crit"
		c.stricter = stricterHeaderCrit
	case 4:
		c.token = mustCodec(t, testKey).Sign(payload)
		c.description += " signed by the core"
	default:
		c.token = oracleSign(t, claims, testKey)
		c.description += " signed by golang-jwt"
	}

	switch g.rng.Intn(16) {
	case 0:
		c.token = withSignature(c.token, func(s string) string { return flipChar(s, g.rng.Intn(len(s))) })
		c.description += ", signature character changed"
		if lenientSameBytes(c.token) {
			c.stricter = stricterTrailingBits
		}
	case 1:
		segments := strings.Split(c.token, ".")
		segments[1] = flipChar(segments[1], g.rng.Intn(len(segments[1])))
		c.token = strings.Join(segments, ".")
		c.description += ", payload character changed"
	case 2:
		c.token = withSignature(c.token, func(s string) string {
			return s[:len(s)-1] + string(base64URLAlphabet[strings.IndexByte(base64URLAlphabet, s[len(s)-1])|1])
		})
		c.description += ", unused signature bits set"
		if lenientSameBytes(c.token) {
			c.stricter = stricterTrailingBits
		}
	case 3:
		c.token = signPayload([]byte("wrong-key"), string(payload))
		c.description += ", wrong key"
	}
	return c
}

// lenientSameBytes reports whether token's signature decodes, leniently as
// golang-jwt does, to a valid HS256 signature of its signing input.
func lenientSameBytes(token string) bool {
	dot := strings.LastIndexByte(token, '.')
	got, err := base64.RawURLEncoding.DecodeString(token[dot+1:])
	if err != nil {
		return false
	}
	want, _ := base64.RawURLEncoding.DecodeString(hs256(testKey, token[:dot]))
	return string(got) == string(want)
}

func TestInteropGeneratedAgreement(t *testing.T) {
	g := &claimGenerator{rng: mathrand.New(mathrand.NewSource(20240601)), now: testNow}
	counts := map[string]int{}

	for i := 0; i < 500; i++ {
		claims, stricter := g.claims()
		c := g.generate(t, claims, stricter)

		ours, ourErr := coreParse(c.token, testNow)
		theirs, theirErr := oracleParse(c.token, testNow)

		switch {
		case ourErr == nil && theirErr == nil:
			counts["both accept"]++
			compareWithOracle(t, c, ours, theirs)
		case ourErr != nil && theirErr != nil:
			counts["both reject"]++
		case ourErr == nil:
			t.Errorf("case %d: core accepts a token golang-jwt rejects (%v): %s", i, theirErr, c.description)
		case c.stricter == "":
			t.Errorf("case %d: core rejects (%v) a token golang-jwt accepts, with no documented reason: %s", i, ourErr, c.description)
		default:
			counts["core stricter: "+c.stricter]++
		}
	}

	t.Logf("outcomes of 500 generated tokens: %v", counts)
	if counts["both accept"] < 50 || counts["both reject"] < 50 {
		t.Errorf("generator: expected at least 50 accepted and 50 rejected by both, got %v", counts)
	}
}

// compareWithOracle checks that both libraries read the same claims.
func compareWithOracle(t *testing.T, c generatedCase, ours *Claims, theirs jwt.MapClaims) {
	t.Helper()
	texts := map[string]string{"r": ours.RoomName, "d": ours.DomainID, "ud": ours.UserID, "u": ours.UserName, "rome": ours.RedirectOnMeetingExit, "mjh": ours.MeetingJoinHook, "uil": ours.Lang}
	for name, got := range texts {
		want, _ := theirs[name].(string)
		if got != want {
			t.Errorf("claim %s: golang-jwt read %q, the core %q: %s", name, want, got, c.description)
		}
	}
	bools := map[string]*bool{"o": ours.IsOwner, "k": ours.Knocking, "ctoe": ours.CloseTabOnExit, "ij": ours.IntercomJoinAlert, "sr": ours.StartCloudRecording,
		"ast": ours.AutoStartTranscription, "ss": ours.EnableScreenshare, "vo": ours.StartVideoOff, "ao": ours.StartAudioOff, "ejt": ours.EjectAtTokenExp, "erui": ours.EnableRecordingUI}
	for name, got := range bools {
		want, present := theirs[name].(bool)
		if present != (got != nil) || (got != nil && *got != want) {
			t.Errorf("claim %s: golang-jwt read %v, the core %v: %s", name, theirs[name], got, c.description)
		}
	}
	times := map[string]time.Time{"exp": ours.Exp, "nbf": ours.Nbf, "iat": ours.Iat}
	for name, got := range times {
		seconds, present := theirs[name].(float64)
		if !present {
			if !got.IsZero() {
				t.Errorf("claim %s: golang-jwt read none, the core %s: %s", name, got, c.description)
			}
			continue
		}
		if got.Unix() != int64(seconds) {
			t.Errorf("claim %s: golang-jwt read %v, the core %d: %s", name, seconds, got.Unix(), c.description)
		}
	}
	if want, present := theirs["otcd"]; present {
		if got := string(ours.Extra["otcd"]); got != fmt.Sprint(want) {
			t.Errorf("extra claim otcd: golang-jwt read %v, the core %s: %s", want, got, c.description)
		}
	}
}

func TestInteropGeneratedMintedTokens(t *testing.T) {
	rng := mathrand.New(mathrand.NewSource(7))
	for i := 0; i < 100; i++ {
		template := map[string]any{"room_name": fmt.Sprintf("room-%d", rng.Intn(1000))}
		want := jwt.MapClaims{"r": template["room_name"]}
		if rng.Intn(2) == 0 {
			template["user_name"] = fmt.Sprintf("user \"%d\" é", rng.Intn(1000))
			want["u"] = template["user_name"]
		}
		if rng.Intn(2) == 0 {
			owner := rng.Intn(2) == 0
			template["is_owner"] = owner
			want["o"] = owner
		}
		if rng.Intn(2) == 0 {
			template["eject_after_elapsed"] = rng.Intn(10000)
			want["eje"] = float64(template["eject_after_elapsed"].(int))
		}
		lifetime := time.Duration(1+rng.Intn(120)) * time.Minute
		m := mustMinter(t, MinterConfig{Claims: template, Lifetime: lifetime})

		token, _, err := m.Mint(newRequest("/"), nil)
		if err != nil {
			t.Fatalf("Mint %d: unexpected error: %v", i, err)
		}
		want["iat"] = float64(testNow.Unix())
		want["exp"] = float64(testNow.Add(lifetime).Unix())

		got, err := oracleParse(token, testNow)
		if err != nil {
			t.Fatalf("golang-jwt Parse of minted token %d: unexpected error: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("minted token %d: expected golang-jwt to read %v, got %v", i, want, got)
		}
	}
}
