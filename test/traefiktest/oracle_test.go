package traefiktest

import (
	"context"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dailytoken/dailytoken/internal/casetable"
	"github.com/dailytoken/dailytoken/tokencore"
)

// TestMintedTokensMatchOracles mints a token in every minting case under
// Yaegi and verifies it with golang-jwt and with the compiled core.
func TestMintedTokensMatchOracles(t *testing.T) {
	factory := interpretedFactory(loadPlugin(t))
	codec, err := tokencore.NewCodec([][]byte{[]byte(casetable.Key)}, 0)
	if err != nil {
		t.Fatal(err)
	}

	for _, c := range casetable.MintCases() {
		if c.Expect.Token == nil {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			minted := runCase(t, factory, c)
			if minted == "" {
				t.Fatal("no minted token found")
			}

			// golang-jwt, with the checks a strict consumer would turn on
			parsed, err := jwt.Parse(minted, func(*jwt.Token) (any, error) {
				return []byte(casetable.Key), nil
			}, jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
			if err != nil {
				t.Fatalf("golang-jwt rejects the minted token: %v", err)
			}
			claims := parsed.Claims.(jwt.MapClaims)
			for name, want := range c.Expect.Token.Claims {
				if got := claims[name]; !reflect.DeepEqual(got, want) {
					t.Errorf("golang-jwt claim %s = %#v, expected %#v", name, got, want)
				}
			}
			issuedAt, _ := claims.GetIssuedAt()
			expiresAt, _ := claims.GetExpirationTime()
			if issuedAt == nil || expiresAt == nil || expiresAt.Sub(issuedAt.Time) != c.Expect.Token.Lifetime {
				t.Errorf("golang-jwt iat %v, exp %v, expected %s apart", issuedAt, expiresAt, c.Expect.Token.Lifetime)
			}

			// the compiled core
			payload, err := codec.Verify(minted)
			if err != nil {
				t.Fatalf("compiled core rejects the minted token: %v", err)
			}
			decoded, err := tokencore.DecodeClaims(payload)
			if err != nil {
				t.Fatalf("compiled core cannot decode the minted claims: %v", err)
			}
			if room, _ := c.Expect.Token.Claims["r"].(string); decoded.RoomName != room {
				t.Errorf("compiled core room name = %q, expected %q", decoded.RoomName, room)
			}
			if decoded.Exp.Sub(decoded.Iat) != c.Expect.Token.Lifetime {
				t.Errorf("compiled core lifetime = %s, expected %s", decoded.Exp.Sub(decoded.Iat), c.Expect.Token.Lifetime)
			}
		})
	}
}

// TestGolangJWTTokensUnderYaegi sends tokens that golang-jwt signed to the
// interpreted validating middleware: HS256 passes, other algorithms fail.
func TestGolangJWTTokensUnderYaegi(t *testing.T) {
	plugin := loadPlugin(t)
	upstream := &recordingUpstream{}
	handler, err := plugin.NewMiddleware(context.Background(), map[string]any{
		"mode": "validate",
		"keys": []any{casetable.Key},
		"room": "{path.1}",
	}, upstream, "oracle@file")
	if err != nil {
		t.Fatal(err)
	}
	server := serve(t, handler)

	now := time.Now()
	claims := jwt.MapClaims{
		"r":   casetable.Room,
		"ud":  casetable.UserID,
		"o":   true,
		"iat": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
		"p":   map[string]any{"hp": true, "cs": "v,a"},
	}
	methods := []struct {
		method jwt.SigningMethod
		key    any
		status int
	}{
		{jwt.SigningMethodHS256, []byte(casetable.Key), http.StatusOK},
		{jwt.SigningMethodHS384, []byte(casetable.Key), http.StatusUnauthorized},
		{jwt.SigningMethodHS512, []byte(casetable.Key), http.StatusUnauthorized},
		{jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, http.StatusUnauthorized},
		{jwt.SigningMethodHS256, []byte(casetable.OtherKey), http.StatusUnauthorized},
	}
	for _, m := range methods {
		token, err := jwt.NewWithClaims(m.method, claims).SignedString(m.key)
		if err != nil {
			t.Fatalf("golang-jwt %s: %v", m.method.Alg(), err)
		}
		response, body := send(t, server, casetable.Request{
			Method: http.MethodGet,
			Target: "/rooms/" + casetable.Room,
			Header: http.Header{"Authorization": {"Bearer " + token}},
		})
		if response.StatusCode != m.status {
			t.Errorf("golang-jwt %s token: status = %d, expected %d; body %s", m.method.Alg(), response.StatusCode, m.status, body)
		}
	}

	if got := upstream.last(); got == nil || got.Header.Get("X-Daily-Is-Owner") != "true" || got.Header.Get("X-Daily-User-Id") != casetable.UserID {
		t.Errorf("upstream request after the HS256 token = %+v, expected owner claim headers", got)
	}
}
