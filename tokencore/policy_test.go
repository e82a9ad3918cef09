package tokencore

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// validClaims returns claims that pass the default policy at testNow.
func validClaims() *Claims {
	return &Claims{
		RoomName: "hello",
		DomainID: testDomainID,
		Iat:      testNow.Add(-time.Minute),
		Exp:      testNow.Add(time.Hour),
	}
}

func defaultPolicy() *Policy {
	return &Policy{Leeway: DefaultLeeway}
}

func TestPolicyAcceptsValidClaims(t *testing.T) {
	if err := defaultPolicy().Check(validClaims(), testNow, "hello"); err != nil {
		t.Errorf("Check: unexpected error: %v", err)
	}
	if err := defaultPolicy().Check(validClaims(), testNow, ""); err != nil {
		t.Errorf("Check without an expected room: unexpected error: %v", err)
	}
}

func TestPolicyMissingExpRejectedByDefault(t *testing.T) {
	c := validClaims()
	c.Exp = time.Time{}

	err := defaultPolicy().Check(c, testNow, "")
	wantKind(t, err, ErrMissingExpiry)
	wantDescription(t, err, "no exp claim")

	err = (&Policy{}).Check(c, testNow, "")
	wantKind(t, err, ErrMissingExpiry)
}

func TestPolicyAllowMissingExp(t *testing.T) {
	c := validClaims()
	c.Exp = time.Time{}
	p := &Policy{Leeway: DefaultLeeway, AllowMissingExp: true}

	if err := p.Check(c, testNow, ""); err != nil {
		t.Errorf("Check with AllowMissingExp: unexpected error: %v", err)
	}

	// The option only allows a missing exp; a present one is still checked.
	c.Exp = testNow.Add(-time.Hour)
	wantKind(t, p.Check(c, testNow, ""), ErrExpired)
}

func TestPolicyLeewayBoundaries(t *testing.T) {
	const leeway = 30 * time.Second
	cases := []struct {
		name string
		set  func(c *Claims)
		want *Error // nil means accepted
	}{
		{"exp now", func(c *Claims) { c.Exp = testNow }, nil},
		{"exp just inside leeway", func(c *Claims) { c.Exp = testNow.Add(-leeway + time.Nanosecond) }, nil},
		{"exp at leeway", func(c *Claims) { c.Exp = testNow.Add(-leeway) }, ErrExpired},
		{"exp beyond leeway", func(c *Claims) { c.Exp = testNow.Add(-leeway - time.Second) }, ErrExpired},
		{"nbf now", func(c *Claims) { c.Nbf = testNow }, nil},
		{"nbf at leeway", func(c *Claims) { c.Nbf = testNow.Add(leeway) }, nil},
		{"nbf just beyond leeway", func(c *Claims) { c.Nbf = testNow.Add(leeway + time.Nanosecond) }, ErrNotYetValid},
		{"iat at leeway", func(c *Claims) { c.Iat = testNow.Add(leeway) }, nil},
		{"iat just beyond leeway", func(c *Claims) { c.Iat = testNow.Add(leeway + time.Nanosecond) }, ErrIssuedInFuture},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := validClaims()
			tc.set(c)
			err := (&Policy{Leeway: leeway}).Check(c, testNow, "")
			if tc.want == nil {
				if err != nil {
					t.Errorf("Check: expected acceptance, got %v", err)
				}
				return
			}
			wantKind(t, err, tc.want)
		})
	}
}

func TestPolicyZeroLeeway(t *testing.T) {
	c := validClaims()
	c.Exp = testNow
	wantKind(t, (&Policy{}).Check(c, testNow, ""), ErrExpired)

	c.Exp = testNow.Add(time.Nanosecond)
	if err := (&Policy{}).Check(c, testNow, ""); err != nil {
		t.Errorf("Check with exp 1ns ahead and no leeway: unexpected error: %v", err)
	}

	c.Nbf = testNow.Add(time.Nanosecond)
	wantKind(t, (&Policy{}).Check(c, testNow, ""), ErrNotYetValid)
}

func TestPolicyExpiredBeyondLeeway(t *testing.T) {
	c := validClaims()
	c.Exp = time.Date(2023, 11, 14, 22, 0, 0, 0, time.UTC)

	err := defaultPolicy().Check(c, testNow, "")
	wantKind(t, err, ErrExpired)
	wantDescription(t, err, "expired at 2023-11-14T22:00:00Z", "leeway 30s")
}

func TestPolicyFutureTimesWithDefaultLeeway(t *testing.T) {
	// nbf slightly ahead is clock skew; iat far ahead is a broken or forged clock.
	c := validClaims()
	c.Nbf = testNow.Add(10 * time.Second)
	if err := defaultPolicy().Check(c, testNow, ""); err != nil {
		t.Errorf("Check with nbf 10s in the future: expected acceptance, got %v", err)
	}

	c = validClaims()
	c.Iat = testNow.Add(10 * time.Minute)
	err := defaultPolicy().Check(c, testNow, "")
	wantKind(t, err, ErrIssuedInFuture)
	wantDescription(t, err, "in the future")

	c = validClaims()
	c.Nbf = testNow.Add(10 * time.Minute)
	wantKind(t, defaultPolicy().Check(c, testNow, ""), ErrNotYetValid)
}

func TestPolicyMaxLifetime(t *testing.T) {
	p := &Policy{Leeway: DefaultLeeway, MaxLifetime: time.Hour}
	cases := []struct {
		name string
		iat  time.Time
		exp  time.Time
		want *Error
		text string
	}{
		{"exactly the maximum", testNow, testNow.Add(time.Hour), nil, ""},
		{"shorter", testNow.Add(-time.Minute), testNow.Add(10 * time.Minute), nil, ""},
		{"issued long ago, short remainder", testNow.Add(-50 * time.Minute), testNow.Add(10 * time.Minute), nil, ""},
		{"iat to exp too long", testNow, testNow.Add(time.Hour + time.Second), ErrLifetimeTooLong, "lifetime 1h0m1s exceeds the maximum of 1h0m0s"},
		{"no iat, valid for too long", time.Time{}, testNow.Add(2 * time.Hour), ErrLifetimeTooLong, "valid for 2h0m0s more"},
		{"no iat, within the maximum and leeway", time.Time{}, testNow.Add(time.Hour + 20*time.Second), nil, ""},
		{"iat an hour ago, exp in 59 minutes", testNow.Add(-time.Hour), testNow.Add(59 * time.Minute), ErrLifetimeTooLong, "lifetime 1h59m0s"},
		{"year 9999", testNow, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), ErrLifetimeTooLong, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := validClaims()
			c.Iat = tc.iat
			c.Exp = tc.exp
			err := p.Check(c, testNow, "")
			if tc.want == nil {
				if err != nil {
					t.Errorf("Check: expected acceptance, got %v", err)
				}
				return
			}
			wantKind(t, err, tc.want)
			if tc.text != "" {
				wantDescription(t, err, tc.text)
			}
		})
	}
}

// TestPolicyMaxLifetimeWithoutExp shows that AllowMissingExp, the explicit
// relaxation, wins over a lifetime limit, which cannot apply without exp.
func TestPolicyMaxLifetimeWithoutExp(t *testing.T) {
	c := validClaims()
	c.Exp = time.Time{}

	allowed := &Policy{Leeway: DefaultLeeway, AllowMissingExp: true, MaxLifetime: time.Hour}
	if err := allowed.Check(c, testNow, ""); err != nil {
		t.Errorf("with AllowMissingExp: expected no error, got %v", err)
	}

	strict := &Policy{Leeway: DefaultLeeway, MaxLifetime: time.Hour}
	wantKind(t, strict.Check(c, testNow, ""), ErrMissingExpiry)
}

func TestValidatorDefaultMaxLifetime(t *testing.T) {
	now := testNow
	sign := func(lifetime time.Duration) string {
		c := validClaims()
		c.Iat = now
		c.Exp = now.Add(lifetime)
		payload, err := c.Payload()
		if err != nil {
			t.Fatal(err)
		}
		codec, err := NewCodec([][]byte{testKey}, 0)
		if err != nil {
			t.Fatal(err)
		}
		return codec.Sign(payload)
	}
	cases := []struct {
		name        string
		maxLifetime time.Duration
		lifetime    time.Duration
		want        *Error
	}{
		{"default accepts a day", 0, DefaultMaxLifetime, nil},
		{"default rejects a day and a minute", 0, DefaultMaxLifetime + time.Minute, ErrLifetimeTooLong},
		{"negative removes the limit", -1, 365 * 24 * time.Hour, nil},
		{"configured limit", time.Hour, 2 * time.Hour, ErrLifetimeTooLong},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewValidator(ValidatorConfig{Keys: [][]byte{testKey}, Policy: Policy{MaxLifetime: tc.maxLifetime}, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", "Bearer "+sign(tc.lifetime))
			_, err = v.Authorize(r, nil)
			if tc.want == nil {
				if err != nil {
					t.Errorf("Authorize: expected no error, got %v", err)
				}
				return
			}
			wantKind(t, err, tc.want)
		})
	}
}

func TestPolicyExpectedRoom(t *testing.T) {
	cases := []struct {
		name      string
		room      string
		expected  string
		roomless  bool
		want      *Error
		wantParts []string
	}{
		{"match", "hello", "hello", false, nil, nil},
		{"no expectation", "hello", "", false, nil, nil},
		{"no expectation, roomless token", "", "", false, nil, nil},
		{"mismatch", "other", "hello", false, ErrRoomMismatch, []string{`"other"`, `"hello"`}},
		{"case differs", "Hello", "hello", false, ErrRoomMismatch, nil},
		{"prefix", "hello-2", "hello", false, ErrRoomMismatch, nil},
		{"roomless token rejected", "", "hello", false, ErrRoomNotScoped, []string{"no room name", `"hello"`}},
		{"roomless token allowed", "", "hello", true, nil, nil},
		{"AllowRoomless keeps the room check", "other", "hello", true, ErrRoomMismatch, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := validClaims()
			c.RoomName = tc.room
			p := &Policy{Leeway: DefaultLeeway, AllowRoomless: tc.roomless}
			err := p.Check(c, testNow, tc.expected)
			if tc.want == nil {
				if err != nil {
					t.Errorf("Check: expected acceptance, got %v", err)
				}
				return
			}
			e := wantKind(t, err, tc.want)
			if e.Status != 403 {
				t.Errorf("status: expected 403 for a scope error, got %d", e.Status)
			}
			wantDescription(t, err, tc.wantParts...)
		})
	}
}

func TestPolicyDomainID(t *testing.T) {
	p := &Policy{Leeway: DefaultLeeway, DomainID: testDomainID}

	if err := p.Check(validClaims(), testNow, ""); err != nil {
		t.Errorf("Check with the configured domain id: unexpected error: %v", err)
	}

	// Some self-signers put the domain name into d; the answer must say what was expected.
	c := validClaims()
	c.DomainID = "mydomain"
	err := p.Check(c, testNow, "")
	e := wantKind(t, err, ErrDomainMismatch)
	if e.Status != 401 {
		t.Errorf("status: expected 401, got %d", e.Status)
	}
	wantDescription(t, err, testDomainID, `"mydomain"`)

	c.DomainID = ""
	err = p.Check(c, testNow, "")
	wantKind(t, err, ErrDomainMismatch)
	wantDescription(t, err, "no domain id", testDomainID)

	// Without a configured domain id any d passes.
	c.DomainID = "mydomain"
	if err := defaultPolicy().Check(c, testNow, ""); err != nil {
		t.Errorf("Check without a configured domain id: unexpected error: %v", err)
	}
}

func TestPolicyRequireOwner(t *testing.T) {
	p := &Policy{Leeway: DefaultLeeway, RequireOwner: true}
	cases := []struct {
		name    string
		isOwner *bool
		want    *Error
	}{
		{"owner", boolPtr(true), nil},
		{"not owner", boolPtr(false), ErrNotOwner},
		{"claim absent", nil, ErrNotOwner},
	}
	for _, tc := range cases {
		c := validClaims()
		c.IsOwner = tc.isOwner
		err := p.Check(c, testNow, "")
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: expected acceptance, got %v", tc.name, err)
			}
			continue
		}
		wantKind(t, err, tc.want)
	}
}

func TestPolicyRequiredPermissions(t *testing.T) {
	decode := func(short string) *Permissions {
		p, err := decodePermissions(json.RawMessage(short), "p")
		if err != nil {
			t.Fatalf("decodePermissions(%s): %v", short, err)
		}
		return p
	}
	cases := []struct {
		name     string
		p        *Permissions
		required []string
		want     *Error
	}{
		{"nothing required", nil, nil, nil},
		{"no permissions claim", nil, []string{"hasPresence"}, ErrPermissionMissing},
		{"hasPresence granted", decode(`{"hp":true}`), []string{"hasPresence"}, nil},
		{"hasPresence denied", decode(`{"hp":false}`), []string{"hasPresence"}, ErrPermissionMissing},
		{"canSend all", decode(`{"cs":true}`), []string{"canSend", "canSend:screenVideo"}, nil},
		{"canSend listed medium", decode(`{"cs":"v,sv"}`), []string{"canSend:screenVideo"}, nil},
		{"canSend unlisted medium", decode(`{"cs":"v,a"}`), []string{"canSend:screenVideo"}, ErrPermissionMissing},
		{"canSend whole from a list", decode(`{"cs":"v,a,sv,sa"}`), []string{"canSend"}, ErrPermissionMissing},
		{"canAdmin area", decode(`{"ca":["participants"]}`), []string{"canAdmin:participants"}, nil},
		{"canAdmin other area", decode(`{"ca":"streaming"}`), []string{"canAdmin:participants"}, ErrPermissionMissing},
		{"canAdmin unreadable", decode(`{"ca":["participants","recording"]}`), []string{"canAdmin:participants"}, ErrPermissionMissing},
		{"all of several", decode(`{"hp":true,"cs":true}`), []string{"hasPresence", "canSend:audio"}, nil},
		{"one of several missing", decode(`{"hp":true}`), []string{"hasPresence", "canSend:audio"}, ErrPermissionMissing},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var required []Permission
			for _, s := range tc.required {
				perm, err := ParsePermission(s)
				if err != nil {
					t.Fatalf("ParsePermission(%q): %v", s, err)
				}
				required = append(required, perm)
			}
			c := validClaims()
			c.Permissions = tc.p
			err := (&Policy{Leeway: DefaultLeeway, RequiredPermissions: required}).Check(c, testNow, "")
			if tc.want == nil {
				if err != nil {
					t.Errorf("Check: expected acceptance, got %v", err)
				}
				return
			}
			wantKind(t, err, tc.want)
		})
	}
}

func TestPolicyValidityBeforeScope(t *testing.T) {
	c := validClaims()
	c.Exp = testNow.Add(-time.Hour)
	c.RoomName = "other"
	c.IsOwner = boolPtr(false)
	p := &Policy{Leeway: DefaultLeeway, RequireOwner: true}

	wantKind(t, p.Check(c, testNow, "hello"), ErrExpired)

	c.Exp = testNow.Add(time.Hour)
	c.DomainID = "mydomain"
	p.DomainID = testDomainID
	wantKind(t, p.Check(c, testNow, "hello"), ErrDomainMismatch)

	c.DomainID = testDomainID
	wantKind(t, p.Check(c, testNow, "hello"), ErrRoomMismatch)

	c.RoomName = "hello"
	wantKind(t, p.Check(c, testNow, "hello"), ErrNotOwner)
}

func TestPolicyLongValuesTruncatedInMessages(t *testing.T) {
	c := validClaims()
	c.RoomName = strings.Repeat("r", 1000)
	err := defaultPolicy().Check(c, testNow, "hello")
	wantKind(t, err, ErrRoomMismatch)
	if len(err.Error()) > 300 {
		t.Errorf("error message: expected at most 300 bytes for a 1000-byte room name, got %d", len(err.Error()))
	}
}

func TestParsePermission(t *testing.T) {
	accepted := map[string]Permission{
		"hasPresence":           {Name: "hasPresence"},
		"canSend":               {Name: "canSend"},
		"canSend:screenVideo":   {Name: "canSend", Item: "screenVideo"},
		"canSend:customAudio":   {Name: "canSend", Item: "customAudio"},
		"canAdmin":              {Name: "canAdmin"},
		"canAdmin:participants": {Name: "canAdmin", Item: "participants"},
	}
	for s, want := range accepted {
		got, err := ParsePermission(s)
		if err != nil {
			t.Errorf("ParsePermission(%q): unexpected error: %v", s, err)
			continue
		}
		if got != want {
			t.Errorf("ParsePermission(%q): expected %+v, got %+v", s, want, got)
		}
		if got.String() != s {
			t.Errorf("ParsePermission(%q).String(): expected %q, got %q", s, s, got.String())
		}
	}

	rejected := map[string]string{
		"":                   "unknown name",
		"canReceive":         "unknown name",
		"hasPresence:video":  "takes no item",
		"canSend:v":          "unknown medium",
		"canAdmin:recording": "unknown admin area",
		"cansend":            "unknown name",
	}
	for s, want := range rejected {
		_, err := ParsePermission(s)
		if err == nil {
			t.Errorf("ParsePermission(%q): expected an error, got nil", s)
			continue
		}
		wantDescription(t, err, want)
	}
}

func TestPermissionsGrantsNil(t *testing.T) {
	var p *Permissions
	if p.Grants(Permission{Name: "hasPresence"}) {
		t.Error("nil Permissions: expected no grant, got one")
	}
	if (&Permissions{}).Grants(Permission{Name: "unknown"}) {
		t.Error("unknown permission: expected no grant, got one")
	}
}
