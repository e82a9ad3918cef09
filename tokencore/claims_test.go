package tokencore

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDecodeClaimsEveryClaim(t *testing.T) {
	cases := []struct {
		claim string
		value string
		get   func(c *Claims) any
		want  any
	}{
		{"r", `"room-0253"`, func(c *Claims) any { return c.RoomName }, "room-0253"},
		{"d", `"` + testDomainID + `"`, func(c *Claims) any { return c.DomainID }, testDomainID},
		{"ud", `"user-42"`, func(c *Claims) any { return c.UserID }, "user-42"},
		{"u", `"Zoë"`, func(c *Claims) any { return c.UserName }, "Zoë"},
		{"o", `true`, func(c *Claims) any { return *c.IsOwner }, true},
		{"k", `false`, func(c *Claims) any { return *c.Knocking }, false},
		{"ctoe", `true`, func(c *Claims) any { return *c.CloseTabOnExit }, true},
		{"rome", `"https://example.com/bye"`, func(c *Claims) any { return c.RedirectOnMeetingExit }, "https://example.com/bye"},
		{"ij", `true`, func(c *Claims) any { return *c.IntercomJoinAlert }, true},
		{"sr", `true`, func(c *Claims) any { return *c.StartCloudRecording }, true},
		{"sro", `{"layout":{"preset":"default"}}`, func(c *Claims) any { return string(c.StartCloudRecordingOpts) }, `{"layout":{"preset":"default"}}`},
		{"ast", `true`, func(c *Claims) any { return *c.AutoStartTranscription }, true},
		{"er", `"cloud"`, func(c *Claims) any { return c.EnableRecording }, "cloud"},
		{"ss", `false`, func(c *Claims) any { return *c.EnableScreenshare }, false},
		{"vo", `true`, func(c *Claims) any { return *c.StartVideoOff }, true},
		{"ao", `true`, func(c *Claims) any { return *c.StartAudioOff }, true},
		{"mjh", `"hook-1"`, func(c *Claims) any { return c.MeetingJoinHook }, "hook-1"},
		{"ejt", `true`, func(c *Claims) any { return *c.EjectAtTokenExp }, true},
		{"eje", `3600`, func(c *Claims) any { return *c.EjectAfterElapsed }, int64(3600)},
		{"uil", `"pt-BR"`, func(c *Claims) any { return c.Lang }, "pt-BR"},
		{"erui", `false`, func(c *Claims) any { return *c.EnableRecordingUI }, false},
		{"p", `{"hp":true}`, func(c *Claims) any { return *c.Permissions.HasPresence }, true},
		{"exp", `1864081538`, func(c *Claims) any { return c.Exp }, time.Unix(1864081538, 0).UTC()},
		{"nbf", `1548721569`, func(c *Claims) any { return c.Nbf }, time.Unix(1548721569, 0).UTC()},
		{"iat", `1548721831`, func(c *Claims) any { return c.Iat }, time.Unix(1548721831, 0).UTC()},
	}

	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.claim] = true
		t.Run(tc.claim, func(t *testing.T) {
			c, err := DecodeClaims([]byte(`{"` + tc.claim + `":` + tc.value + `}`))
			if err != nil {
				t.Fatalf("DecodeClaims: unexpected error: %v", err)
			}
			if got := tc.get(c); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("claim %s: expected %#v, got %#v", tc.claim, tc.want, got)
			}
			if len(c.Extra) != 0 {
				t.Errorf("claim %s: expected nothing in Extra, got %v", tc.claim, c.Extra)
			}
		})
	}
	for _, spec := range claimSpecs {
		if !covered[spec.claim] {
			t.Errorf("claim %s (%s): no test case", spec.claim, spec.property)
		}
	}
	if len(claimSpecs) != 25 {
		t.Errorf("claimSpecs: expected the 25 claims Daily documents, got %d", len(claimSpecs))
	}
}

func TestDecodeClaimsDocumentationExample(t *testing.T) {
	// The example token of Daily's documentation; its key is unknown, so only
	// the payload is decoded.
	const token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJuYmYiOjE1NDg3MjE1NjksImV4cCI6MTg2NDA4MTUzOCwiciI6ImhlbGxvIiwibyI6dHJ1ZSwic3MiOnRydWUsImVyIjoibG9jYWwiLCJkIjoiMjVkZjUwNTctZWYwZC00ZDk3LWJkZTYtMGNmMjg3Mjc2Y2JiIiwiaWF0IjoxNTQ4NzIxODMxfQ.mvVciAengBR4xCblhFpo4mKYftQv1skYO4Y6IKr9Zgo"
	segments := strings.Split(token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(segments[1])
	if err != nil {
		t.Fatalf("decoding the example payload: %v", err)
	}

	c, err := DecodeClaims(payload)
	if err != nil {
		t.Fatalf("DecodeClaims: unexpected error: %v", err)
	}
	want := &Claims{
		RoomName:          "hello",
		DomainID:          testDomainID,
		IsOwner:           boolPtr(true),
		EnableScreenshare: boolPtr(true),
		EnableRecording:   "local",
		Nbf:               time.Unix(1548721569, 0).UTC(),
		Exp:               time.Unix(1864081538, 0).UTC(),
		Iat:               time.Unix(1548721831, 0).UTC(),
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("DecodeClaims:\nexpected %+v\n     got %+v", want, c)
	}

	// The codec rejects the example under any other key, as it must.
	_, err = mustCodec(t, testKey).Verify(token)
	wantKind(t, err, ErrInvalidSignature)
}

func TestDecodeClaimsRESTMintedExample(t *testing.T) {
	c, err := DecodeClaims([]byte(`{"r":"room-0253","d":"25df5057-ef0d-4d97-bde6-0cf287276cbb","iat":1548722207}`))
	if err != nil {
		t.Fatalf("DecodeClaims: unexpected error: %v", err)
	}
	if c.RoomName != "room-0253" {
		t.Errorf("RoomName: expected room-0253, got %q", c.RoomName)
	}
	if c.DomainID != testDomainID {
		t.Errorf("DomainID: expected %s, got %q", testDomainID, c.DomainID)
	}
	if want := time.Unix(1548722207, 0).UTC(); !c.Iat.Equal(want) {
		t.Errorf("Iat: expected %s, got %s", want, c.Iat)
	}
	if !c.Exp.IsZero() {
		t.Errorf("Exp: expected zero for a payload without exp, got %s", c.Exp)
	}
}

func TestDecodeClaimsKeepsUnknownInExtra(t *testing.T) {
	payload := `{"r":"hello","otcd":1,"custom":{"a":[1,2]},"room_name":"long-name-is-unknown-here","x":null}`
	c, err := DecodeClaims([]byte(payload))
	if err != nil {
		t.Fatalf("DecodeClaims: unexpected error: %v", err)
	}
	want := map[string]string{
		"otcd":      `1`,
		"custom":    `{"a":[1,2]}`,
		"room_name": `"long-name-is-unknown-here"`,
		"x":         `null`,
	}
	if len(c.Extra) != len(want) {
		t.Errorf("Extra: expected %d entries, got %d: %v", len(want), len(c.Extra), c.Extra)
	}
	for name, value := range want {
		if got := string(c.Extra[name]); got != value {
			t.Errorf("Extra[%q]: expected %s, got %s", name, value, got)
		}
	}
	if c.RoomName != "hello" {
		t.Errorf("RoomName: expected hello, got %q", c.RoomName)
	}
}

func TestDecodeClaimsNumericDate(t *testing.T) {
	accepted := []struct {
		value string
		want  time.Time
	}{
		{`1548721569`, time.Unix(1548721569, 0)},
		{`1548721569.5`, time.Unix(1548721569, 500000000)},
		{`1548721569.25`, time.Unix(1548721569, 250000000)},
		{`1.5e9`, time.Unix(1500000000, 0)},
		{`0`, time.Unix(0, 0)},
		{`-1`, time.Unix(-1, 0)},
		{`253402300799`, time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
	}
	for _, tc := range accepted {
		c, err := DecodeClaims([]byte(`{"exp":` + tc.value + `}`))
		if err != nil {
			t.Errorf("exp %s: unexpected error: %v", tc.value, err)
			continue
		}
		// Fractions pass through float64, so compare to the microsecond.
		if diff := c.Exp.Sub(tc.want); diff > time.Microsecond || diff < -time.Microsecond {
			t.Errorf("exp %s: expected %s, got %s", tc.value, tc.want.UTC(), c.Exp)
		}
		if c.Exp.Location() != time.UTC {
			t.Errorf("exp %s: expected a UTC time, got location %s", tc.value, c.Exp.Location())
		}
	}

	rejected := []string{
		`"1548721569"`, `true`, `false`, `null`, `{}`, `{"seconds":1}`, `[1548721569]`,
		`1e20`, `-1e20`, `253402300800`, `1e400`,
		// The zero time.Time means an absent claim, so it must not decode from a number.
		`-62135596800`, `-62135596801`,
	}
	for _, value := range rejected {
		for _, claim := range []string{"exp", "nbf", "iat"} {
			_, err := DecodeClaims([]byte(`{"` + claim + `":` + value + `}`))
			if err == nil {
				t.Errorf("%s %s: expected an error, got nil", claim, value)
				continue
			}
			wantKind(t, err, ErrInvalidClaim)
			wantDescription(t, err, "claim "+claim+" ")
		}
	}
}

// claimValues are one JSON value of each type, for type checks.
var claimValues = map[string]string{
	"string": `"x"`,
	"bool":   `true`,
	"number": `12`,
	"null":   `null`,
	"object": `{}`,
	"array":  `[]`,
}

// claimKindAccepts returns the JSON types a claim kind accepts.
func claimKindAccepts(kind claimKind) map[string]bool {
	switch kind {
	case kindString:
		return map[string]bool{"string": true}
	case kindBool:
		return map[string]bool{"bool": true}
	case kindInteger, kindTime:
		return map[string]bool{"number": true}
	case kindObject, kindPermissions:
		return map[string]bool{"object": true}
	}
	return nil
}

func TestDecodeClaimsWrongType(t *testing.T) {
	for _, spec := range claimSpecs {
		accepts := claimKindAccepts(spec.kind)
		for typ, value := range claimValues {
			payload := `{"` + spec.claim + `":` + value + `}`
			_, err := DecodeClaims([]byte(payload))
			if accepts[typ] {
				if err != nil {
					t.Errorf("%s: unexpected error: %v", payload, err)
				}
				continue
			}
			if err == nil {
				t.Errorf("%s: expected an error for a %s, got nil", payload, typ)
				continue
			}
			wantKind(t, err, ErrInvalidClaim)
			wantDescription(t, err, "claim "+spec.claim+" ")
		}
	}
}

func TestClaimsFromPropertiesWrongType(t *testing.T) {
	for _, spec := range claimSpecs {
		accepts := claimKindAccepts(spec.kind)
		for typ, value := range claimValues {
			properties := map[string]json.RawMessage{spec.property: json.RawMessage(value)}
			_, err := ClaimsFromProperties(properties)
			if accepts[typ] {
				if err != nil {
					t.Errorf("%s %s: unexpected error: %v", spec.property, value, err)
				}
				continue
			}
			if err == nil {
				t.Errorf("%s %s: expected an error for a %s, got nil", spec.property, value, typ)
				continue
			}
			wantKind(t, err, ErrInvalidClaim)
			wantDescription(t, err, spec.property)
		}
	}
}

func TestDecodeClaimsInvalidValues(t *testing.T) {
	cases := []struct {
		payload string
		want    string
	}{
		{`{"r":""}`, "claim r (room name) is empty"},
		{`{"d":""}`, "claim d (domain id) is empty"},
		{`{"eje":-1}`, "claim eje must be a non-negative integer"},
		{`{"eje":1.5}`, "claim eje must be a non-negative integer"},
		{`{"eje":1e3}`, "claim eje must be a non-negative integer"},
		{`{"eje":99999999999999999999}`, "claim eje must be a non-negative integer"},
		{`{"o":"true"}`, "claim o must be a boolean"},
		{`{"o":1}`, "claim o must be a boolean"},
		{`{"r":5}`, "claim r must be a string"},
		{`{"p":{"hp":"yes"}}`, "claim p.hp must be a boolean"},
		{`{"p":{"cs":"v,x"}}`, "claim p.cs names unknown media"},
		{`{"p":{"cs":1}}`, "claim p.cs must be a boolean or a comma-separated string"},
		{`{"p":{"cr":{}}}`, "claim p.cr has no b"},
		{`{"p":{"cr":{"b":"yes"}}}`, "claim p.cr.b must be a boolean or an object"},
		{`{"p":{"cr":true}}`, "claim p.cr must be a JSON object"},
		{`{"p":[]}`, "claim p must be a JSON object"},
	}
	for _, tc := range cases {
		_, err := DecodeClaims([]byte(tc.payload))
		if err == nil {
			t.Errorf("%s: expected error %q, got nil", tc.payload, tc.want)
			continue
		}
		wantKind(t, err, ErrInvalidClaim)
		wantDescription(t, err, tc.want)
	}
}

func TestDecodeClaimsRejectsNonObject(t *testing.T) {
	for _, payload := range []string{``, `null`, `[]`, `[{"r":"a"}]`, `"r"`, `1`, `true`, `{`, `{"r":"a"}x`, `{"r":"a",}`} {
		_, err := DecodeClaims([]byte(payload))
		if err == nil {
			t.Errorf("%q: expected an error, got nil", payload)
			continue
		}
		wantKind(t, err, ErrMalformedToken)
	}
}

func TestDecodeClaimsRepeatedClaimLastWins(t *testing.T) {
	c, err := DecodeClaims([]byte(`{"r":"first","r":"second"}`))
	if err != nil {
		t.Fatalf("DecodeClaims: unexpected error: %v", err)
	}
	if c.RoomName != "second" {
		t.Errorf("RoomName: expected the last value second, got %q", c.RoomName)
	}
}

func TestDecodeClaimsStringEscapes(t *testing.T) {
	c, err := DecodeClaims([]byte(`{"u":"a\"b\\c\u00e9\n\u2028","ud":"plain-é"}`))
	if err != nil {
		t.Fatalf("DecodeClaims: unexpected error: %v", err)
	}
	if want := "a\"b\\c\u00e9\n\u2028"; c.UserName != want {
		t.Errorf("UserName: expected %q, got %q", want, c.UserName)
	}
	if c.UserID != "plain-é" {
		t.Errorf("UserID: expected %q, got %q", "plain-é", c.UserID)
	}
}

// fullClaims returns claims with every field set.
func fullClaims() *Claims {
	return &Claims{
		RoomName:                "room-0253",
		DomainID:                testDomainID,
		UserID:                  "user-42",
		UserName:                "Zoë \"host\"",
		IsOwner:                 boolPtr(true),
		Knocking:                boolPtr(false),
		CloseTabOnExit:          boolPtr(true),
		RedirectOnMeetingExit:   "https://example.com/bye?x=1&y=2",
		IntercomJoinAlert:       boolPtr(false),
		StartCloudRecording:     boolPtr(true),
		StartCloudRecordingOpts: json.RawMessage(`{"layout":{"preset":"default"}}`),
		AutoStartTranscription:  boolPtr(false),
		EnableRecording:         "raw-tracks",
		EnableScreenshare:       boolPtr(true),
		StartVideoOff:           boolPtr(false),
		StartAudioOff:           boolPtr(true),
		MeetingJoinHook:         "hook-1",
		EjectAtTokenExp:         boolPtr(true),
		EjectAfterElapsed:       int64Ptr(600),
		Lang:                    "pt-BR",
		EnableRecordingUI:       boolPtr(false),
		Permissions: &Permissions{
			HasPresence: boolPtr(true),
			CanSend:     &PermissionSet{Names: []string{"video", "screenAudio"}},
			CanReceive:  map[string]json.RawMessage{"base": json.RawMessage(`{"video":true}`)},
			CanAdmin:    &PermissionSet{Names: []string{"participants"}},
		},
		Exp: time.Unix(1864081538, 0).UTC(),
		Nbf: time.Unix(1548721569, 0).UTC(),
		Iat: time.Unix(1548721831, 0).UTC(),
	}
}

func TestClaimsPayloadRoundTrip(t *testing.T) {
	c := fullClaims()
	c.Extra = map[string]json.RawMessage{"otcd": json.RawMessage(`1`), "custom": json.RawMessage(`{"a":"b"}`)}

	payload, err := c.Payload()
	if err != nil {
		t.Fatalf("Payload: unexpected error: %v", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(payload, &fields); err != nil {
		t.Fatalf("Payload: expected a JSON object, got %s", payload)
	}
	for _, spec := range claimSpecs {
		if _, ok := fields[spec.claim]; !ok {
			t.Errorf("Payload: expected short claim %s, missing in %s", spec.claim, payload)
		}
		if _, ok := fields[spec.property]; ok && spec.property != spec.claim {
			t.Errorf("Payload: expected no property name %s, found it in %s", spec.property, payload)
		}
	}
	if got := string(fields["exp"]); got != "1864081538" {
		t.Errorf("Payload: expected exp as the integer 1864081538, got %s", got)
	}
	if got := string(fields["p"]); got != `{"ca":["participants"],"cr":{"b":{"video":true}},"cs":"v,sa","hp":true}` {
		t.Errorf("Payload: expected p in its short form, got %s", got)
	}

	decoded, err := DecodeClaims(payload)
	if err != nil {
		t.Fatalf("DecodeClaims(Payload()): unexpected error: %v", err)
	}
	if !reflect.DeepEqual(decoded, c) {
		t.Errorf("DecodeClaims(Payload()):\nexpected %+v\n     got %+v", c, decoded)
	}
}

func TestClaimsPayloadEmpty(t *testing.T) {
	payload, err := (&Claims{}).Payload()
	if err != nil {
		t.Fatalf("Payload: unexpected error: %v", err)
	}
	if string(payload) != `{}` {
		t.Errorf("Payload of empty claims: expected {}, got %s", payload)
	}
}

func TestClaimsPayloadKnownClaimWinsOverExtra(t *testing.T) {
	c := &Claims{RoomName: "real", Extra: map[string]json.RawMessage{"r": json.RawMessage(`"forged"`), "otcd": json.RawMessage(`2`)}}
	payload, err := c.Payload()
	if err != nil {
		t.Fatalf("Payload: unexpected error: %v", err)
	}
	if string(payload) != `{"otcd":2,"r":"real"}` {
		t.Errorf("Payload: expected {\"otcd\":2,\"r\":\"real\"}, got %s", payload)
	}
}

func TestDecodeClaimsFractionRoundedToNanosecond(t *testing.T) {
	cases := map[string]time.Time{
		`154.221569`:       time.Unix(154, 221569000),
		`1548721569.5`:     time.Unix(1548721569, 500000000),
		`-1.000000001`:     time.Unix(-1, -1),
		`0.0000000004`:     time.Unix(0, 0),
		`0.9999999999`:     time.Unix(1, 0),
		`1700000000.75000`: time.Unix(1700000000, 750000000),
	}
	for value, want := range cases {
		c, err := DecodeClaims([]byte(`{"nbf":` + value + `}`))
		if err != nil {
			t.Errorf("nbf %s: unexpected error: %v", value, err)
			continue
		}
		if !c.Nbf.Equal(want) {
			t.Errorf("nbf %s: expected %s, got %s", value, want.UTC().Format(time.RFC3339Nano), c.Nbf.Format(time.RFC3339Nano))
		}
	}
}

func TestClaimsPayloadFractionalTimes(t *testing.T) {
	cases := []time.Time{
		time.Unix(1548721569, 500000000).UTC(),
		time.Unix(-5, -250000000).UTC(),
		// Beyond 2262 a time no longer fits int64 nanoseconds.
		time.Date(3000, 1, 1, 0, 0, 0, 500000000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 58, 250000000, time.UTC),
	}
	for _, exp := range cases {
		payload, err := (&Claims{Exp: exp}).Payload()
		if err != nil {
			t.Fatalf("Payload with exp %s: unexpected error: %v", exp, err)
		}
		decoded, err := DecodeClaims(payload)
		if err != nil {
			t.Fatalf("DecodeClaims(%s): unexpected error: %v", payload, err)
		}
		// float64 keeps about 16 digits, so a year-9999 fraction keeps milliseconds.
		if diff := decoded.Exp.Sub(exp); diff > time.Millisecond || diff < -time.Millisecond {
			t.Errorf("exp %s: expected it back within 1ms, got %s from payload %s", exp, decoded.Exp, payload)
		}
	}
}

func TestClaimsPropertiesRoundTrip(t *testing.T) {
	c := fullClaims()
	properties := c.Properties()

	want := map[string]any{
		"room_name":                  "room-0253",
		"domain_id":                  testDomainID,
		"user_id":                    "user-42",
		"user_name":                  "Zoë \"host\"",
		"is_owner":                   true,
		"knocking":                   false,
		"close_tab_on_exit":          true,
		"redirect_on_meeting_exit":   "https://example.com/bye?x=1&y=2",
		"intercom_join_alert":        false,
		"start_cloud_recording":      true,
		"start_cloud_recording_opts": json.RawMessage(`{"layout":{"preset":"default"}}`),
		"auto_start_transcription":   false,
		"enable_recording":           "raw-tracks",
		"enable_screenshare":         true,
		"start_video_off":            false,
		"start_audio_off":            true,
		"meeting_join_hook":          "hook-1",
		"eject_at_token_exp":         true,
		"eject_after_elapsed":        int64(600),
		"lang":                       "pt-BR",
		"enable_recording_ui":        false,
		"exp":                        int64(1864081538),
		"nbf":                        int64(1548721569),
		"iat":                        int64(1548721831),
	}
	for name, value := range want {
		if got, ok := properties[name]; !ok || !reflect.DeepEqual(got, value) {
			t.Errorf("Properties()[%q]: expected %#v, got %#v", name, value, got)
		}
	}
	if _, ok := properties["permissions"]; !ok {
		t.Error(`Properties(): expected "permissions", missing`)
	}
	if len(properties) != len(want)+1 {
		t.Errorf("Properties(): expected %d entries, got %d: %v", len(want)+1, len(properties), properties)
	}

	body, err := json.Marshal(properties)
	if err != nil {
		t.Fatalf("marshaling Properties(): %v", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("unmarshaling Properties(): %v", err)
	}
	if got := string(raw["permissions"]); got != `{"canAdmin":["participants"],"canReceive":{"base":{"video":true}},"canSend":["video","screenAudio"],"hasPresence":true}` {
		t.Errorf("Properties(): expected permissions in the long form, got %s", got)
	}

	back, err := ClaimsFromProperties(raw)
	if err != nil {
		t.Fatalf("ClaimsFromProperties: unexpected error: %v", err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("ClaimsFromProperties(Properties()):\nexpected %+v\n     got %+v", c, back)
	}
}

func TestClaimsPropertiesLeavesOutExtra(t *testing.T) {
	c := &Claims{RoomName: "a", Extra: map[string]json.RawMessage{"otcd": json.RawMessage(`1`)}}
	properties := c.Properties()
	if len(properties) != 1 || properties["room_name"] != "a" {
		t.Errorf("Properties(): expected only room_name a, got %v", properties)
	}
}

func TestClaimsFromPropertiesKeepsUnknownInExtra(t *testing.T) {
	c, err := ClaimsFromProperties(map[string]json.RawMessage{
		"room_name":         json.RawMessage(`"hello"`),
		"enable_prejoin_ui": json.RawMessage(`true`),
		"r":                 json.RawMessage(`"short-name-is-unknown-here"`),
	})
	if err != nil {
		t.Fatalf("ClaimsFromProperties: unexpected error: %v", err)
	}
	if c.RoomName != "hello" {
		t.Errorf("RoomName: expected hello, got %q", c.RoomName)
	}
	if got := string(c.Extra["enable_prejoin_ui"]); got != "true" {
		t.Errorf(`Extra["enable_prejoin_ui"]: expected true, got %q`, got)
	}
	if got := string(c.Extra["r"]); got != `"short-name-is-unknown-here"` {
		t.Errorf(`Extra["r"]: expected the raw value, got %q`, got)
	}
}

func TestDecodePermissionsShortForm(t *testing.T) {
	cases := []struct {
		name string
		p    string
		want *Permissions
	}{
		{"hp true", `{"hp":true}`, &Permissions{HasPresence: boolPtr(true)}},
		{"hp false", `{"hp":false}`, &Permissions{HasPresence: boolPtr(false)}},
		{"cs true", `{"cs":true}`, &Permissions{CanSend: &PermissionSet{All: true}}},
		{"cs false", `{"cs":false}`, &Permissions{CanSend: &PermissionSet{}}},
		{"cs list", `{"cs":"v,a"}`, &Permissions{CanSend: &PermissionSet{Names: []string{"video", "audio"}}}},
		{"cs screen", `{"cs":"sv,sa"}`, &Permissions{CanSend: &PermissionSet{Names: []string{"screenVideo", "screenAudio"}}}},
		{"cs with spaces", `{"cs":"v, a"}`, &Permissions{CanSend: &PermissionSet{Names: []string{"video", "audio"}}}},
		{"cs empty", `{"cs":""}`, &Permissions{CanSend: &PermissionSet{}}},
		{"cs custom media by long name", `{"cs":"v,customVideo,customAudio"}`, &Permissions{CanSend: &PermissionSet{Names: []string{"video", "customVideo", "customAudio"}}}},
		{"cr base true", `{"cr":{"b":true}}`, &Permissions{CanReceive: map[string]json.RawMessage{"base": json.RawMessage(`true`)}}},
		{"cr base object with override", `{"cr":{"b":{"v":false},"byUserId":{"u1":true}}}`, &Permissions{CanReceive: map[string]json.RawMessage{
			"base": json.RawMessage(`{"v":false}`), "byUserId": json.RawMessage(`{"u1":true}`),
		}}},
		{"ca true", `{"ca":true}`, &Permissions{CanAdmin: &PermissionSet{All: true}}},
		{"ca list", `{"ca":["participants","streaming"]}`, &Permissions{CanAdmin: &PermissionSet{Names: []string{"participants", "streaming"}}}},
		{"ca comma string", `{"ca":"participants,transcription"}`, &Permissions{CanAdmin: &PermissionSet{Names: []string{"participants", "transcription"}}}},
		// ca is undocumented, so a value this package cannot read is kept, not rejected.
		{"ca unknown area", `{"ca":["participants","recording"]}`, &Permissions{Extra: map[string]json.RawMessage{"ca": json.RawMessage(`["participants","recording"]`)}}},
		{"ca number", `{"ca":1}`, &Permissions{Extra: map[string]json.RawMessage{"ca": json.RawMessage(`1`)}}},
		{"unknown keys", `{"hp":true,"xx":{"a":1},"cv":"z"}`, &Permissions{HasPresence: boolPtr(true), Extra: map[string]json.RawMessage{
			"xx": json.RawMessage(`{"a":1}`), "cv": json.RawMessage(`"z"`),
		}}},
		{"empty", `{}`, &Permissions{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodePermissions(json.RawMessage(tc.p), "p")
			if err != nil {
				t.Fatalf("decodePermissions(%s): unexpected error: %v", tc.p, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("decodePermissions(%s):\nexpected %s\n     got %s", tc.p, describePermissions(tc.want), describePermissions(got))
			}
		})
	}
}

func describePermissions(p *Permissions) string {
	long, _ := json.Marshal(p.LongForm())
	short, _ := json.Marshal(p.shortForm())
	return fmt.Sprintf("long %s short %s", long, short)
}

func TestPermissionsLongFormRoundTrip(t *testing.T) {
	cases := []struct {
		long  string
		short string
	}{
		{`{"hasPresence":true}`, `{"hp":true}`},
		{`{"canSend":true}`, `{"cs":true}`},
		{`{"canSend":false}`, `{"cs":false}`},
		{`{"canSend":["video","audio"]}`, `{"cs":"v,a"}`},
		{`{"canSend":["screenVideo","screenAudio"]}`, `{"cs":"sv,sa"}`},
		{`{"canSend":["video","customVideo"]}`, `{"cs":"v,customVideo"}`},
		{`{"canReceive":{"base":false}}`, `{"cr":{"b":false}}`},
		{`{"canReceive":{"base":{"video":true},"byUserId":{"u1":false}}}`, `{"cr":{"b":{"video":true},"byUserId":{"u1":false}}}`},
		{`{"canAdmin":["participants","streaming","transcription"]}`, `{"ca":["participants","streaming","transcription"]}`},
		{`{"canAdmin":true}`, `{"ca":true}`},
		{`{"canAdmin":false}`, `{"ca":false}`},
		{`{"canAdmin":[]}`, `{"ca":false}`},
		{`{"canReceive":{"base":true},"canSend":true,"hasPresence":false}`, `{"cr":{"b":true},"cs":true,"hp":false}`},
	}
	for _, tc := range cases {
		t.Run(tc.long, func(t *testing.T) {
			p, err := decodeLongPermissions(json.RawMessage(tc.long), "permissions")
			if err != nil {
				t.Fatalf("decodeLongPermissions: unexpected error: %v", err)
			}
			short, err := json.Marshal(p.shortForm())
			if err != nil {
				t.Fatalf("marshaling the short form: %v", err)
			}
			if string(short) != tc.short {
				t.Errorf("short form: expected %s, got %s", tc.short, short)
			}

			back, err := decodePermissions(short, "p")
			if err != nil {
				t.Fatalf("decodePermissions(%s): unexpected error: %v", short, err)
			}
			long, err := json.Marshal(back.LongForm())
			if err != nil {
				t.Fatalf("marshaling the long form: %v", err)
			}
			wantLong := tc.long
			if tc.long == `{"canAdmin":[]}` {
				wantLong = `{"canAdmin":false}`
			}
			if string(long) != wantLong {
				t.Errorf("long form after the round trip: expected %s, got %s", wantLong, long)
			}
		})
	}
}

func TestDecodeLongPermissionsInvalid(t *testing.T) {
	cases := []struct {
		long string
		want string
	}{
		{`[]`, "property permissions must be a JSON object"},
		{`{"hasPresence":"true"}`, "permissions.hasPresence must be a boolean"},
		{`{"canSend":["video","hologram"]}`, `permissions.canSend names unknown value "hologram"`},
		{`{"canSend":[1]}`, "permissions.canSend must be a boolean or a list of names"},
		{`{"canSend":null}`, "permissions.canSend must be a boolean or a list of names"},
		{`{"canReceive":{"video":true}}`, "permissions.canReceive has no base"},
		{`{"canAdmin":["owner"]}`, `permissions.canAdmin names unknown value "owner"`},
	}
	for _, tc := range cases {
		_, err := decodeLongPermissions(json.RawMessage(tc.long), "permissions")
		if err == nil {
			t.Errorf("%s: expected error %q, got nil", tc.long, tc.want)
			continue
		}
		wantKind(t, err, ErrInvalidClaim)
		wantDescription(t, err, tc.want)
	}
}

func TestPermissionsLongFormKeepsUnknownKeys(t *testing.T) {
	p, err := decodeLongPermissions(json.RawMessage(`{"hasPresence":true,"canTeleport":true}`), "permissions")
	if err != nil {
		t.Fatalf("decodeLongPermissions: unexpected error: %v", err)
	}
	if got := string(p.Extra["canTeleport"]); got != "true" {
		t.Errorf(`Extra["canTeleport"]: expected true, got %q`, got)
	}
	long, _ := json.Marshal(p.LongForm())
	if string(long) != `{"canTeleport":true,"hasPresence":true}` {
		t.Errorf("LongForm: expected the unknown key kept, got %s", long)
	}
}
