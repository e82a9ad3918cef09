package tokencore

import (
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

func mustClaimHeaders(t testing.TB, prefix string) *ClaimHeaders {
	t.Helper()
	h, err := NewClaimHeaders(prefix)
	if err != nil {
		t.Fatalf("NewClaimHeaders(%q): unexpected error: %v", prefix, err)
	}
	return h
}

func TestNewClaimHeadersPrefix(t *testing.T) {
	if got := mustClaimHeaders(t, "").Prefix(); got != DefaultHeaderPrefix {
		t.Errorf("Prefix of the default: expected %q, got %q", DefaultHeaderPrefix, got)
	}
	if got := mustClaimHeaders(t, "X-Meeting-").Prefix(); got != "X-Meeting-" {
		t.Errorf("Prefix: expected X-Meeting-, got %q", got)
	}
	for _, prefix := range []string{"X Daily-", "X-Daily:", "X-Daily-\r\n", "X-Dailé-", "(X)"} {
		if _, err := NewClaimHeaders(prefix); err == nil {
			t.Errorf("NewClaimHeaders(%q): expected an error, got nil", prefix)
		}
	}
}

func TestClaimHeadersRemoveClientHeaders(t *testing.T) {
	h := mustClaimHeaders(t, "")
	header := http.Header{}
	removed := []string{"X-Daily-Room", "X-Daily-Is-Owner", "X-Daily-User-Id", "X-Daily-Claims", "X-Daily-Anything-Else"}
	for _, name := range removed {
		header.Set(name, "forged")
	}
	// Names as a client or a careless adapter may put them into the map.
	rawRemoved := []string{"x-daily-room", "X_Daily_Room", "X_daily_is_owner", "x_DAILY-user_name", "X-DAILY-CLAIMS"}
	for _, name := range rawRemoved {
		header[name] = []string{"forged"}
	}
	kept := []string{"X-Daily", "X-Dailyroom", "X-Other", "Authorization", "X-Daily_", "Daily-Room"}
	for _, name := range kept {
		header[name] = []string{"kept"}
	}

	h.RemoveClientHeaders(header)

	var got []string
	for name := range header {
		got = append(got, name)
	}
	sort.Strings(got)
	want := append([]string(nil), kept...)
	want = removeString(want, "X-Daily_") // '_' reads as '-', so X-Daily_ is under the prefix
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("headers left: expected %q, got %q", want, got)
	}
}

func removeString(list []string, s string) []string {
	var out []string
	for _, item := range list {
		if item != s {
			out = append(out, item)
		}
	}
	return out
}

func TestClaimHeadersRemoveWithCustomPrefix(t *testing.T) {
	h := mustClaimHeaders(t, "x-meeting-")
	header := http.Header{"X-Meeting-Room": {"forged"}, "X_meeting_room": {"forged"}, "X-Daily-Room": {"other prefix"}}

	h.RemoveClientHeaders(header)

	if want := (http.Header{"X-Daily-Room": {"other prefix"}}); !reflect.DeepEqual(header, want) {
		t.Errorf("headers left: expected %v, got %v", want, header)
	}
}

func TestClaimHeadersSet(t *testing.T) {
	h := mustClaimHeaders(t, "")
	c := &Claims{
		RoomName: "hello",
		DomainID: testDomainID,
		UserID:   "user-42",
		UserName: "Zoë Host",
		IsOwner:  boolPtr(true),
		Exp:      time.Unix(1864081538, 0).UTC(),
	}
	payload := []byte(`{"r":"hello","d":"` + testDomainID + `","ud":"user-42","u":"Zoë Host","o":true,"exp":1864081538}`)
	header := http.Header{}

	if err := h.Set(header, c, payload); err != nil {
		t.Fatalf("Set: unexpected error: %v", err)
	}

	want := http.Header{
		"X-Daily-Room":      {"hello"},
		"X-Daily-Domain-Id": {testDomainID},
		"X-Daily-User-Id":   {"user-42"},
		"X-Daily-User-Name": {"Zoë Host"},
		"X-Daily-Is-Owner":  {"true"},
		"X-Daily-Exp":       {"1864081538"},
		"X-Daily-Claims":    {string(payload)},
	}
	if !reflect.DeepEqual(header, want) {
		t.Errorf("Set:\nexpected %v\n     got %v", want, header)
	}
}

func TestClaimHeadersSetLeavesOutAbsentClaims(t *testing.T) {
	h := mustClaimHeaders(t, "")
	header := http.Header{}

	if err := h.Set(header, &Claims{RoomName: "hello"}, []byte(`{"r":"hello"}`)); err != nil {
		t.Fatalf("Set: unexpected error: %v", err)
	}

	want := http.Header{
		"X-Daily-Room":     {"hello"},
		"X-Daily-Is-Owner": {"false"},
		"X-Daily-Claims":   {`{"r":"hello"}`},
	}
	if !reflect.DeepEqual(header, want) {
		t.Errorf("Set:\nexpected %v\n     got %v", want, header)
	}
}

func TestClaimHeadersSetReplacesExistingValues(t *testing.T) {
	h := mustClaimHeaders(t, "")
	header := http.Header{"X-Daily-Room": {"forged", "twice"}}

	if err := h.Set(header, &Claims{RoomName: "hello"}, []byte(`{"r":"hello"}`)); err != nil {
		t.Fatalf("Set: unexpected error: %v", err)
	}
	if got := header.Values("X-Daily-Room"); !reflect.DeepEqual(got, []string{"hello"}) {
		t.Errorf("X-Daily-Room: expected only hello, got %q", got)
	}
}

func TestClaimHeadersSetCustomPrefixCanonical(t *testing.T) {
	h := mustClaimHeaders(t, "x-meeting-")
	header := http.Header{}

	if err := h.Set(header, &Claims{RoomName: "hello"}, []byte(`{"r":"hello"}`)); err != nil {
		t.Fatalf("Set: unexpected error: %v", err)
	}
	if got := header.Get("X-Meeting-Room"); got != "hello" {
		t.Errorf("X-Meeting-Room via Get: expected hello, got %q", got)
	}
	if _, ok := header["X-Meeting-Room"]; !ok {
		t.Errorf("header map: expected the canonical key X-Meeting-Room, got %v", header)
	}
}

func TestClaimHeadersSetControlCharacters(t *testing.T) {
	h := mustClaimHeaders(t, "")
	c := &Claims{
		RoomName: "hello\r\nX-Daily-Is-Owner: true",
		UserID:   "a\x00b\x7fc",
		UserName: "tab\there\nnew line",
	}
	payload, err := c.Payload()
	if err != nil {
		t.Fatalf("Payload: %v", err)
	}
	header := http.Header{}

	if err := h.Set(header, c, payload); err != nil {
		t.Fatalf("Set: unexpected error: %v", err)
	}

	for name, values := range header {
		for _, value := range values {
			if i := strings.IndexAny(value, controlCharacters); i >= 0 {
				t.Errorf("%s: expected no control character, found %q at %d in %q", name, value[i], i, value)
			}
		}
	}
	if got, want := header.Get("X-Daily-Room"), "hello\uFFFD\uFFFDX-Daily-Is-Owner: true"; got != want {
		t.Errorf("X-Daily-Room: expected %q, got %q", want, got)
	}
	if got, want := header.Get("X-Daily-User-Id"), "a\uFFFDb\uFFFDc"; got != want {
		t.Errorf("X-Daily-User-Id: expected %q, got %q", want, got)
	}
	if got := header.Get("X-Daily-Is-Owner"); got != "false" {
		t.Errorf("X-Daily-Is-Owner: expected false, got %q", got)
	}

	// The exact values survive in the Claims header, escaped by JSON.
	decoded, err := DecodeClaims([]byte(header.Get("X-Daily-Claims")))
	if err != nil {
		t.Fatalf("DecodeClaims of the Claims header: %v", err)
	}
	if decoded.RoomName != c.RoomName || decoded.UserName != c.UserName {
		t.Errorf("Claims header: expected the exact values, got room %q and user name %q", decoded.RoomName, decoded.UserName)
	}
}

func TestClaimHeadersSetPayloadWithLineBreaks(t *testing.T) {
	h := mustClaimHeaders(t, "")
	payload := []byte("{\n\t\"r\": \"hello\",\r\n\t\"exp\": 1864081538\n}")
	c, err := DecodeClaims(payload)
	if err != nil {
		t.Fatalf("DecodeClaims: %v", err)
	}
	header := http.Header{}

	if err := h.Set(header, c, payload); err != nil {
		t.Fatalf("Set: unexpected error: %v", err)
	}
	if got, want := header.Get("X-Daily-Claims"), `{"r":"hello","exp":1864081538}`; got != want {
		t.Errorf("X-Daily-Claims: expected %s, got %q", want, got)
	}
}

func TestClaimHeadersSetIntegersAsIntegers(t *testing.T) {
	h := mustClaimHeaders(t, "")
	c := &Claims{
		RoomName:          "hello",
		Exp:               time.Unix(1864081538, 0).UTC(),
		Iat:               time.Unix(1548721831, 0).UTC(),
		EjectAfterElapsed: int64Ptr(600),
	}
	header := http.Header{}

	// Without a payload, as after REST introspection, the claims are encoded.
	if err := h.Set(header, c, nil); err != nil {
		t.Fatalf("Set: unexpected error: %v", err)
	}
	if got := header.Get("X-Daily-Exp"); got != "1864081538" {
		t.Errorf("X-Daily-Exp: expected 1864081538, got %q", got)
	}
	claims := header.Get("X-Daily-Claims")
	for _, want := range []string{`"exp":1864081538`, `"iat":1548721831`, `"eje":600`} {
		if !strings.Contains(claims, want) {
			t.Errorf("X-Daily-Claims: expected %s in it, got %s", want, claims)
		}
	}
	if strings.Contains(claims, "e+") || strings.Contains(claims, "E+") {
		t.Errorf("X-Daily-Claims: expected no exponent notation, got %s", claims)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(claims), &fields); err != nil {
		t.Errorf("X-Daily-Claims: expected a JSON object, got %s", claims)
	}

	// A fractional exp is written as whole seconds in the Exp header.
	c.Exp = time.Unix(1864081538, 500000000).UTC()
	if err := h.Set(header, c, nil); err != nil {
		t.Fatalf("Set: unexpected error: %v", err)
	}
	if got := header.Get("X-Daily-Exp"); got != "1864081538" {
		t.Errorf("X-Daily-Exp of a fractional exp: expected 1864081538, got %q", got)
	}
}

func TestClaimHeadersNames(t *testing.T) {
	want := []string{
		"X-Daily-Room", "X-Daily-Domain-Id", "X-Daily-User-Id", "X-Daily-User-Name",
		"X-Daily-Is-Owner", "X-Daily-Exp", "X-Daily-Claims",
	}
	if got := mustClaimHeaders(t, "").Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("Names: expected %q, got %q", want, got)
	}
}
