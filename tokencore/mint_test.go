package tokencore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func fixedClock() time.Time { return testNow.Add(400 * time.Millisecond) }

func mustMinter(t testing.TB, cfg MinterConfig) *Minter {
	t.Helper()
	if cfg.Keys == nil && cfg.Signer == nil {
		cfg.Keys = [][]byte{testKey}
	}
	if cfg.Now == nil {
		cfg.Now = fixedClock
	}
	m, err := NewMinter(cfg)
	if err != nil {
		t.Fatalf("NewMinter: unexpected error: %v", err)
	}
	return m
}

// verifyMinted verifies token with an independent codec and decodes its claims.
func verifyMinted(t testing.TB, token string) (*Claims, []byte) {
	t.Helper()
	payload, err := mustCodec(t, testKey).Verify(token)
	if err != nil {
		t.Fatalf("Verify of the minted token: unexpected error: %v", err)
	}
	claims, err := DecodeClaims(payload)
	if err != nil {
		t.Fatalf("DecodeClaims of the minted payload %s: unexpected error: %v", payload, err)
	}
	return claims, payload
}

func TestMintFixedAndRequestValues(t *testing.T) {
	m := mustMinter(t, MinterConfig{
		Claims: map[string]any{
			"room_name":           "{path.1}",
			"user_id":             "{header.X-User-Id}",
			"user_name":           "{header.X-User-Name} (guest)",
			"is_owner":            "{header.X-Is-Owner}",
			"eject_after_elapsed": "{query.eje}",
			"lang":                "en",
			"enable_recording":    "cloud",
			"enable_screenshare":  "true",
			"knocking":            false,
			"start_video_off":     true,
			"meeting_join_hook":   `\{literal\}`,
			"permissions": map[string]any{
				"hasPresence": true,
				"canSend":     []any{"video", "audio"},
				"canReceive":  map[string]any{"base": true},
			},
			"start_cloud_recording_opts": `{"layout":{"preset":"default"}}`,
			"domain_id":                  testDomainID,
		},
		Lifetime:     10 * time.Minute,
		SetNotBefore: true,
	})
	r := newRequest("/rooms/standup?eje=600", "X-User-Id: user-42", "X-User-Name: Zoë", "X-Is-Owner: true")

	token, claims, err := m.Mint(r, nil)
	if err != nil {
		t.Fatalf("Mint: unexpected error: %v", err)
	}

	want := &Claims{
		RoomName:                "standup",
		DomainID:                testDomainID,
		UserID:                  "user-42",
		UserName:                "Zoë (guest)",
		IsOwner:                 boolPtr(true),
		Knocking:                boolPtr(false),
		EnableRecording:         "cloud",
		EnableScreenshare:       boolPtr(true),
		StartVideoOff:           boolPtr(true),
		MeetingJoinHook:         "{literal}",
		EjectAfterElapsed:       int64Ptr(600),
		Lang:                    "en",
		StartCloudRecordingOpts: json.RawMessage(`{"layout":{"preset":"default"}}`),
		Permissions: &Permissions{
			HasPresence: boolPtr(true),
			CanSend:     &PermissionSet{Names: []string{"video", "audio"}},
			CanReceive:  map[string]json.RawMessage{"base": json.RawMessage(`true`)},
		},
		Iat: testNow,
		Nbf: testNow,
		Exp: testNow.Add(10 * time.Minute),
	}
	decoded, payload := verifyMinted(t, token)
	if !reflect.DeepEqual(decoded, want) {
		t.Errorf("minted claims:\nexpected %+v\n     got %+v\npayload %s", want, decoded, payload)
	}
	if !reflect.DeepEqual(claims, want) {
		t.Errorf("returned claims:\nexpected %+v\n     got %+v", want, claims)
	}
	for _, member := range []string{`"iat":1700000000`, `"nbf":1700000000`, `"exp":1700000600`, `"p":{"cr":{"b":true},"cs":"v,a","hp":true}`} {
		if !strings.Contains(string(payload), member) {
			t.Errorf("payload: expected %s in it, got %s", member, payload)
		}
	}
}

func TestMintTokenPassesValidator(t *testing.T) {
	m := mustMinter(t, MinterConfig{Claims: map[string]any{"room_name": "{path.1}", "domain_id": testDomainID}})
	token, _, err := m.Mint(newRequest("/rooms/standup"), nil)
	if err != nil {
		t.Fatalf("Mint: unexpected error: %v", err)
	}

	v := mustValidator(t, ValidatorConfig{Room: "{path.1}", Policy: Policy{DomainID: testDomainID, MaxLifetime: time.Hour}})
	if _, err := v.Authorize(newRequest("/rooms/standup", "Authorization: Bearer "+token), nil); err != nil {
		t.Errorf("Authorize of a minted token: unexpected error: %v", err)
	}
	_, err = v.Authorize(newRequest("/rooms/other", "Authorization: Bearer "+token), nil)
	wantKind(t, err, ErrRoomMismatch)
}

func TestMintDefaultLifetime(t *testing.T) {
	m := mustMinter(t, MinterConfig{Claims: map[string]any{"room_name": "a"}})
	token, claims, err := m.Mint(newRequest("/"), nil)
	if err != nil {
		t.Fatalf("Mint: unexpected error: %v", err)
	}
	if got := claims.Exp.Sub(claims.Iat); got != DefaultLifetime {
		t.Errorf("lifetime: expected %s, got %s", DefaultLifetime, got)
	}
	if !claims.Nbf.IsZero() {
		t.Errorf("nbf: expected none without SetNotBefore, got %s", claims.Nbf)
	}
	decoded, _ := verifyMinted(t, token)
	if !decoded.Iat.Equal(testNow) {
		t.Errorf("iat: expected the clock truncated to seconds %s, got %s", testNow, decoded.Iat)
	}
}

func TestMintDailyRulesOnRequestValues(t *testing.T) {
	m := mustMinter(t, MinterConfig{Claims: map[string]any{
		"room_name":           "{header.X-Room}",
		"user_id":             "{header.X-User-Id}",
		"lang":                "{query.lang}",
		"enable_recording":    "{query.rec}",
		"is_owner":            "{header.X-Owner}",
		"eject_after_elapsed": "{query.eje}",
	}})
	base := map[string]string{"X-Room": "r1", "X-User-Id": "u1", "lang": "en", "rec": "local", "X-Owner": "false", "eje": "60"}

	cases := []struct {
		name   string
		change map[string]string
		want   string // empty means accepted
	}{
		{"all valid", nil, ""},
		{"user_id of 36 characters", map[string]string{"X-User-Id": strings.Repeat("u", 36)}, ""},
		{"user_id of 36 two-byte characters", map[string]string{"X-User-Id": strings.Repeat("é", 36)}, ""},
		{"user_id of 37 characters", map[string]string{"X-User-Id": strings.Repeat("u", 37)}, "user_id is 37 characters, and Daily allows at most 36"},
		{"lang pt-BR", map[string]string{"lang": "pt-BR"}, ""},
		{"lang user", map[string]string{"lang": "user"}, ""},
		{"lang unknown", map[string]string{"lang": "xx"}, `lang "xx" is not one of Daily's languages`},
		{"lang wrong case", map[string]string{"lang": "EN"}, `lang "EN"`},
		{"enable_recording raw-tracks", map[string]string{"rec": "raw-tracks"}, ""},
		{"enable_recording unknown", map[string]string{"rec": "video"}, `enable_recording "video" is not one of`},
		{"boolean true", map[string]string{"X-Owner": "true"}, ""},
		{"boolean upper case", map[string]string{"X-Owner": "TRUE"}, `claim is_owner must be true or false, got "TRUE"`},
		{"boolean as 1", map[string]string{"X-Owner": "1"}, "claim is_owner must be true or false"},
		{"boolean empty", map[string]string{"X-Owner": ""}, "claim is_owner must be true or false"},
		{"integer zero", map[string]string{"eje": "0"}, ""},
		{"integer negative", map[string]string{"eje": "-5"}, "claim eject_after_elapsed must be a non-negative integer"},
		{"integer fractional", map[string]string{"eje": "1.5"}, "claim eject_after_elapsed must be a non-negative integer"},
		{"integer with text", map[string]string{"eje": "60s"}, "claim eject_after_elapsed must be a non-negative integer"},
		{"integer overflow", map[string]string{"eje": "99999999999999999999"}, "claim eject_after_elapsed must be a non-negative integer"},
		{"empty room name", map[string]string{"X-Room": ""}, "claim room_name (room name) is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			values := map[string]string{}
			for k, v := range base {
				values[k] = v
			}
			for k, v := range tc.change {
				values[k] = v
			}
			target := fmt.Sprintf("/?lang=%s&rec=%s&eje=%s", values["lang"], values["rec"], values["eje"])
			r := newRequest(target, "X-Room: "+values["X-Room"], "X-User-Id: "+values["X-User-Id"], "X-Owner: "+values["X-Owner"])

			token, _, err := m.Mint(r, nil)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Mint: unexpected error: %v", err)
				}
				verifyMinted(t, token)
				return
			}
			if token != "" {
				t.Errorf("Mint: expected no token with the error, got one")
			}
			e := wantKind(t, err, ErrInvalidRequestValue)
			if e.Status != http.StatusBadRequest {
				t.Errorf("status: expected 400, got %d", e.Status)
			}
			wantDescription(t, err, tc.want)
		})
	}
}

func TestMintMissingRequestValue(t *testing.T) {
	m := mustMinter(t, MinterConfig{Claims: map[string]any{"room_name": "{path.1}", "user_id": "{header.X-User-Id}"}})

	_, _, err := m.Mint(newRequest("/rooms/a"), nil)
	wantKind(t, err, ErrInvalidRequestValue)
	wantDescription(t, err, "claim user_id", "no header X-User-Id")

	_, _, err = m.Mint(newRequest("/rooms", "X-User-Id: u"), nil)
	wantKind(t, err, ErrInvalidRequestValue)
	wantDescription(t, err, "claim room_name", "no segment 1")
}

func TestMintRequestValueIsNeverJSON(t *testing.T) {
	// A header value that looks like JSON stays a string inside the claim.
	m := mustMinter(t, MinterConfig{Claims: map[string]any{"user_name": "{header.X-Name}"}})
	token, _, err := m.Mint(newRequest("/", `X-Name: ","o":true,"x":"`), nil)
	if err != nil {
		t.Fatalf("Mint: unexpected error: %v", err)
	}
	decoded, payload := verifyMinted(t, token)
	if decoded.IsOwner != nil {
		t.Errorf("is_owner: expected none, got %v from payload %s", *decoded.IsOwner, payload)
	}
	if decoded.UserName != `","o":true,"x":"` {
		t.Errorf("user_name: expected the header text, got %q", decoded.UserName)
	}
}

func TestNewMinterRejectsBadTemplate(t *testing.T) {
	cases := []struct {
		name   string
		claims map[string]any
		want   string
	}{
		{"unknown property", map[string]any{"room": "a"}, `claim "room" is not a Daily meeting token property`},
		{"short claim name", map[string]any{"r": "a"}, `claim "r" is not a Daily meeting token property`},
		{"templated exp", map[string]any{"exp": 1864081538}, `claim "exp" is set from the lifetime`},
		{"templated iat", map[string]any{"iat": "{header.X-Iat}"}, `claim "iat" is set from the lifetime`},
		{"templated nbf", map[string]any{"nbf": "0"}, `claim "nbf" is set from the lifetime`},
		{"user_id too long", map[string]any{"user_id": strings.Repeat("u", 37)}, "user_id is 37 characters"},
		{"lang unknown", map[string]any{"lang": "klingon"}, `lang "klingon"`},
		{"enable_recording unknown", map[string]any{"enable_recording": "video"}, `enable_recording "video"`},
		{"boolean as yes", map[string]any{"is_owner": "yes"}, `claim is_owner must be true or false, got "yes"`},
		{"boolean as number", map[string]any{"is_owner": 1}, "claim is_owner must be a boolean"},
		{"integer negative", map[string]any{"eject_after_elapsed": "-1"}, "must be a non-negative integer"},
		{"integer fractional", map[string]any{"eject_after_elapsed": 1.5}, "must be a non-negative integer"},
		{"string as number", map[string]any{"room_name": 5}, "claim room_name must be a string"},
		{"string as boolean", map[string]any{"user_name": true}, "claim user_name must be a string"},
		{"empty room name", map[string]any{"room_name": ""}, "room_name (room name) is empty"},
		{"permissions unknown medium", map[string]any{"permissions": map[string]any{"canSend": []any{"hologram"}}}, `unknown value "hologram"`},
		{"permissions short form", map[string]any{"permissions": map[string]any{"cr": map[string]any{"b": true}, "canReceive": map[string]any{"b": true}}}, "canReceive has no base"},
		{"permissions as invalid JSON text", map[string]any{"permissions": `{"hasPresence":`}, "permissions"},
		{"object as invalid JSON text", map[string]any{"start_cloud_recording_opts": `{not json`}, "start_cloud_recording_opts"},
		{"object with trailing text", map[string]any{"start_cloud_recording_opts": `{} {}`}, "start_cloud_recording_opts"},
		{"object as number", map[string]any{"start_cloud_recording_opts": 5}, "must be a JSON object"},
		{"unknown placeholder", map[string]any{"room_name": "{http.request.host}"}, "unknown placeholder"},
		{"bad path index", map[string]any{"room_name": "{path.x}"}, "path segment index"},
		{"unencodable value", map[string]any{"start_cloud_recording_opts": map[string]any{"f": func() {}}}, "start_cloud_recording_opts"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewMinter(MinterConfig{Keys: [][]byte{testKey}, Claims: tc.claims})
			if err == nil {
				t.Fatalf("NewMinter: expected error %q, got a minter %+v", tc.want, m)
			}
			wantDescription(t, err, tc.want)
		})
	}
}

func TestNewMinterRejectsBadConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  MinterConfig
		want string
	}{
		{"no keys", MinterConfig{}, "no key configured"},
		{"empty second key", MinterConfig{Keys: [][]byte{testKey, {}}}, "key 2 of 2 is empty"},
		{"negative lifetime", MinterConfig{Keys: [][]byte{testKey}, Lifetime: -time.Second}, "lifetime -1s is negative"},
		{"header target without name", MinterConfig{Keys: [][]byte{testKey}, Target: "header:"}, "missing header name"},
		{"query target without name", MinterConfig{Keys: [][]byte{testKey}, Target: "query:"}, "missing query parameter name"},
		{"cookie target", MinterConfig{Keys: [][]byte{testKey}, Target: "cookie:t"}, "expected header:Name, query:name or response"},
		{"bare word target", MinterConfig{Keys: [][]byte{testKey}, Target: "body"}, "expected header:Name, query:name or response"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewMinter(tc.cfg)
			if err == nil {
				t.Fatalf("NewMinter: expected error %q, got nil", tc.want)
			}
			wantDescription(t, err, tc.want)
		})
	}
}

func TestMintLenientValuesExpand(t *testing.T) {
	m := mustMinter(t, MinterConfig{
		Claims:        map[string]any{"user_name": "{http.auth.user.id}", "room_name": "{path.0}"},
		LenientValues: true,
	})
	expand := func(s string) string { return strings.ReplaceAll(s, "{http.auth.user.id}", "alice") }

	token, claims, err := m.Mint(newRequest("/standup"), expand)
	if err != nil {
		t.Fatalf("Mint: unexpected error: %v", err)
	}
	if claims.UserName != "alice" || claims.RoomName != "standup" {
		t.Errorf("claims: expected user_name alice and room_name standup, got %q and %q", claims.UserName, claims.RoomName)
	}
	decoded, _ := verifyMinted(t, token)
	if decoded.UserName != "alice" {
		t.Errorf("minted user_name: expected alice, got %q", decoded.UserName)
	}
}

func TestMinterClaimsWithoutTimes(t *testing.T) {
	m := mustMinter(t, MinterConfig{Claims: map[string]any{"room_name": "{path.0}", "is_owner": true}, SetNotBefore: true})
	c, err := m.Claims(newRequest("/standup"), nil)
	if err != nil {
		t.Fatalf("Claims: unexpected error: %v", err)
	}
	if c.RoomName != "standup" || c.IsOwner == nil || !*c.IsOwner {
		t.Errorf("Claims: expected room standup and owner, got %+v", c)
	}
	if !c.Iat.IsZero() || !c.Exp.IsZero() || !c.Nbf.IsZero() {
		t.Errorf("Claims: expected no time claims, got iat %s exp %s nbf %s", c.Iat, c.Exp, c.Nbf)
	}
}

func TestMintRequestsDoNotShareValues(t *testing.T) {
	m := mustMinter(t, MinterConfig{Claims: map[string]any{"user_id": "{header.X-User-Id}", "is_owner": false, "room_name": "r"}})

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			token, claims, err := m.Mint(newRequest("/", "X-User-Id: "+id), nil)
			if err != nil {
				errs <- err
				return
			}
			payload, err := mustCodec(t, testKey).Verify(token)
			if err != nil {
				errs <- err
				return
			}
			decoded, err := DecodeClaims(payload)
			if err != nil {
				errs <- err
				return
			}
			if decoded.UserID != id || claims.UserID != id {
				errs <- fmt.Errorf("user_id: expected %s, got %q in the token and %q in the claims", id, decoded.UserID, claims.UserID)
			}
		}(fmt.Sprintf("user-%d", i))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// recordingSigner is a TokenSigner that records the claims it signs.
type recordingSigner struct {
	claims *Claims
	err    error
}

func (s *recordingSigner) SignClaims(_ context.Context, c *Claims) (string, error) {
	s.claims = c
	if s.err != nil {
		return "", s.err
	}
	return "signed-by-test", nil
}

func TestMintWithCustomSigner(t *testing.T) {
	signer := &recordingSigner{}
	m := mustMinter(t, MinterConfig{Signer: signer, Claims: map[string]any{"room_name": "a"}})

	token, claims, err := m.Mint(newRequest("/"), nil)
	if err != nil {
		t.Fatalf("Mint: unexpected error: %v", err)
	}
	if token != "signed-by-test" {
		t.Errorf("Mint: expected the signer's token, got %q", token)
	}
	if signer.claims != claims {
		t.Error("Mint: expected the signer to get the returned claims")
	}
	if signer.claims.RoomName != "a" || !signer.claims.Iat.Equal(testNow) || !signer.claims.Exp.Equal(testNow.Add(DefaultLifetime)) {
		t.Errorf("signed claims: expected room a, iat %s and exp %s, got %+v", testNow, testNow.Add(DefaultLifetime), signer.claims)
	}

	failure := errorf(ErrUnavailable, "Daily's REST API answered 500")
	m = mustMinter(t, MinterConfig{Signer: &recordingSigner{err: failure}, Claims: map[string]any{"room_name": "a"}})
	_, _, err = m.Mint(newRequest("/"), nil)
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("Mint with a failing signer: expected ErrUnavailable, got %v", err)
	}
}

func TestLocalSignerMatchesMint(t *testing.T) {
	m := mustMinter(t, MinterConfig{Claims: map[string]any{"room_name": "a", "user_name": "b", "is_owner": true}})
	token, claims, err := m.Mint(newRequest("/"), nil)
	if err != nil {
		t.Fatalf("Mint: unexpected error: %v", err)
	}

	other, err := (&LocalSigner{Codec: mustCodec(t, testKey)}).SignClaims(context.Background(), claims)
	if err != nil {
		t.Fatalf("SignClaims: unexpected error: %v", err)
	}
	fromMint, _ := verifyMinted(t, token)
	fromSigner, _ := verifyMinted(t, other)
	if !reflect.DeepEqual(fromMint, fromSigner) {
		t.Errorf("claims: expected the same from Mint and LocalSigner,\nMint   %+v\nSigner %+v", fromMint, fromSigner)
	}
}

func TestMinterInjectHeader(t *testing.T) {
	authorization := mustMinter(t, MinterConfig{Claims: map[string]any{"room_name": "a"}})
	if authorization.Target() != "header:Authorization" {
		t.Errorf("Target: expected header:Authorization by default, got %q", authorization.Target())
	}
	if authorization.RespondsDirectly() {
		t.Error("RespondsDirectly: expected false for a header target, got true")
	}
	r := newRequest("/", "Authorization: Basic dXNlcjpwYXNz", "Authorization: Bearer client-token")
	authorization.Inject(r, "minted")
	if got := r.Header.Values("Authorization"); !reflect.DeepEqual(got, []string{"Bearer minted"}) {
		t.Errorf("Authorization: expected only Bearer minted, got %q", got)
	}

	custom := mustMinter(t, MinterConfig{Target: "header:x-daily-token", Claims: map[string]any{"room_name": "a"}})
	if custom.Target() != "header:X-Daily-Token" {
		t.Errorf("Target: expected header:X-Daily-Token, got %q", custom.Target())
	}
	r = newRequest("/", "X-Daily-Token: client-value", "X-Daily-Token: second")
	custom.Inject(r, "minted")
	if got := r.Header.Values("X-Daily-Token"); !reflect.DeepEqual(got, []string{"minted"}) {
		t.Errorf("X-Daily-Token: expected only minted, got %q", got)
	}
}

func TestMinterInjectQuery(t *testing.T) {
	m := mustMinter(t, MinterConfig{Target: "query:t", Claims: map[string]any{"room_name": "a"}})
	if m.Target() != "query:t" {
		t.Errorf("Target: expected query:t, got %q", m.Target())
	}

	cases := []struct {
		target string
		want   string
	}{
		{"/room", "t=minted"},
		{"/room?t=client", "t=minted"},
		{"/room?a=1&t=client&b=x%20y&t=again&c", "a=1&b=x%20y&c&t=minted"},
		{"/room?%74=client&a=%2B", "a=%2B&t=minted"},
	}
	for _, tc := range cases {
		r := newRequest(tc.target)
		m.Inject(r, "minted")
		if r.URL.RawQuery != tc.want {
			t.Errorf("Inject into %s: expected query %q, got %q", tc.target, tc.want, r.URL.RawQuery)
		}
		if want := "/room?" + tc.want; r.RequestURI != want {
			t.Errorf("Inject into %s: expected RequestURI %q, got %q", tc.target, want, r.RequestURI)
		}
		if got := r.URL.Query()["t"]; !reflect.DeepEqual(got, []string{"minted"}) {
			t.Errorf("Inject into %s: expected t=minted only, got %q", tc.target, got)
		}
	}
}

func TestMinterRespondsDirectly(t *testing.T) {
	m := mustMinter(t, MinterConfig{Target: "response", Claims: map[string]any{"room_name": "a"}})
	if !m.RespondsDirectly() {
		t.Error("RespondsDirectly: expected true for the response target, got false")
	}
	if m.Target() != TargetResponse {
		t.Errorf("Target: expected %q, got %q", TargetResponse, m.Target())
	}

	r := newRequest("/?t=client", "Authorization: Bearer client")
	m.Inject(r, "minted")
	if r.URL.RawQuery != "t=client" || r.Header.Get("Authorization") != "Bearer client" {
		t.Errorf("Inject with the response target: expected the request unchanged, got query %q and Authorization %q", r.URL.RawQuery, r.Header.Get("Authorization"))
	}
}

func TestTokenResponse(t *testing.T) {
	body := TokenResponse("a.b.c")
	if string(body) != `{"token":"a.b.c"}` {
		t.Errorf("TokenResponse: expected {\"token\":\"a.b.c\"}, got %s", body)
	}
	var decoded map[string]string
	if err := json.Unmarshal(TokenResponse(`"quoted"`), &decoded); err != nil || decoded["token"] != `"quoted"` {
		t.Errorf("TokenResponse with quotes: expected valid JSON with the value, got %s (%v)", TokenResponse(`"quoted"`), err)
	}
}

// TestMintPermissionsWithStringBooleans feeds permissions the way Traefik's
// file provider hands over a nested map: every leaf a string.
func TestMintPermissionsWithStringBooleans(t *testing.T) {
	m := mustMinter(t, MinterConfig{Claims: map[string]any{
		"room_name": "hello",
		"permissions": map[string]any{
			"hasPresence": "true",
			"canSend":     []any{"video", "audio"},
			"canReceive":  map[string]any{"base": "false"},
			"canAdmin":    "false",
		},
	}})
	token, _, err := m.Mint(httptest.NewRequest(http.MethodGet, "/", nil), nil)
	if err != nil {
		t.Fatal(err)
	}

	claims, _ := verifyMinted(t, token)
	p := claims.Permissions
	if p == nil || p.HasPresence == nil || !*p.HasPresence {
		t.Fatalf("hasPresence: expected true, got %+v", p)
	}
	if !p.CanSend.Allows("audio") || p.CanSend.Allows("screenVideo") {
		t.Errorf("canSend: expected video and audio, got %+v", p.CanSend)
	}
	if string(p.CanReceive["base"]) != "false" {
		t.Errorf("canReceive.base: expected false, got %s", p.CanReceive["base"])
	}
	if p.CanAdmin == nil || p.CanAdmin.All || len(p.CanAdmin.Names) != 0 {
		t.Errorf("canAdmin: expected false, got %+v", p.CanAdmin)
	}
}
