package tokencore

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// Claims are the claims of a Daily meeting token. Fields are named after the
// properties of Daily's REST API; the short claim names used on the wire
// appear only in the codec tables below. A string field is empty and a pointer
// or time field is nil or zero when its claim is absent.
type Claims struct {
	RoomName                string // r
	DomainID                string // d
	UserID                  string // ud
	UserName                string // u
	IsOwner                 *bool  // o
	Knocking                *bool  // k
	CloseTabOnExit          *bool  // ctoe
	RedirectOnMeetingExit   string // rome
	IntercomJoinAlert       *bool  // ij
	StartCloudRecording     *bool  // sr
	StartCloudRecordingOpts json.RawMessage
	AutoStartTranscription  *bool  // ast
	EnableRecording         string // er
	EnableScreenshare       *bool  // ss
	StartVideoOff           *bool  // vo
	StartAudioOff           *bool  // ao
	MeetingJoinHook         string // mjh
	EjectAtTokenExp         *bool  // ejt
	EjectAfterElapsed       *int64 // eje, in seconds
	Lang                    string // uil
	EnableRecordingUI       *bool  // erui
	Permissions             *Permissions

	// Exp, Nbf and Iat are the registered time claims.
	Exp time.Time
	Nbf time.Time
	Iat time.Time

	// Extra contains every claim this package does not know, as it was sent:
	// Daily adds claims of its own, and a token is never rejected for one.
	Extra map[string]json.RawMessage
}

// claimKind is the JSON type of a claim's value.
type claimKind int

const (
	kindString claimKind = iota
	kindBool
	kindInteger // a non-negative JSON integer
	kindTime    // a NumericDate: a JSON number of seconds since the Unix epoch
	kindObject
	kindPermissions
)

// claimSpec maps a short claim name to its REST property name and JSON type.
type claimSpec struct {
	claim    string
	property string
	kind     claimKind
}

// claimSpecs lists every claim Daily documents for meeting tokens.
var claimSpecs = []claimSpec{
	{"r", "room_name", kindString},
	{"d", "domain_id", kindString},
	{"ud", "user_id", kindString},
	{"u", "user_name", kindString},
	{"o", "is_owner", kindBool},
	{"k", "knocking", kindBool},
	{"ctoe", "close_tab_on_exit", kindBool},
	{"rome", "redirect_on_meeting_exit", kindString},
	{"ij", "intercom_join_alert", kindBool},
	{"sr", "start_cloud_recording", kindBool},
	{"sro", "start_cloud_recording_opts", kindObject},
	{"ast", "auto_start_transcription", kindBool},
	{"er", "enable_recording", kindString},
	{"ss", "enable_screenshare", kindBool},
	{"vo", "start_video_off", kindBool},
	{"ao", "start_audio_off", kindBool},
	{"mjh", "meeting_join_hook", kindString},
	{"ejt", "eject_at_token_exp", kindBool},
	{"eje", "eject_after_elapsed", kindInteger},
	{"uil", "lang", kindString},
	{"erui", "enable_recording_ui", kindBool},
	{"p", "permissions", kindPermissions},
	{"exp", "exp", kindTime},
	{"nbf", "nbf", kindTime},
	{"iat", "iat", kindTime},
}

var (
	specByClaim    = map[string]claimSpec{}
	specByProperty = map[string]claimSpec{}
)

func init() {
	for _, spec := range claimSpecs {
		specByClaim[spec.claim] = spec
		specByProperty[spec.property] = spec
	}
}

// maxNumericDate bounds time claims to the year 9999, so that converting a
// huge number to a time cannot overflow.
const maxNumericDate = 253402300799

// minNumericDate is the zero time.Time, 0001-01-01T00:00:00Z, in Unix
// seconds. Claims treats the zero time as an absent claim, so a time claim
// must be later: otherwise an exp of this value would read as no exp.
const minNumericDate = -62135596800

// DecodeClaims decodes a verified payload. The payload must be a JSON object.
// A known claim of the wrong JSON type, null included, is an error naming the
// claim, and no value is ever coerced. Unknown claims are kept in Extra.
//
// NOTE: a payload that repeats a claim name is decoded with the last value
// winning, as encoding/json and golang-jwt do. The payload is signed, so only
// the key holder can produce one.
func DecodeClaims(payload []byte) (*Claims, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(payload, &fields); err != nil || fields == nil {
		return nil, errorf(ErrMalformedToken, "token payload is not a JSON object")
	}

	c := &Claims{}
	for name, raw := range fields {
		spec, known := specByClaim[name]
		if !known {
			if c.Extra == nil {
				c.Extra = map[string]json.RawMessage{}
			}
			c.Extra[name] = raw
			continue
		}
		if err := c.set(spec, raw, spec.claim); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// set decodes raw as the claim of spec into c. label names the claim in errors.
func (c *Claims) set(spec claimSpec, raw json.RawMessage, label string) error {
	switch spec.kind {
	case kindString:
		s, err := decodeString(raw, label)
		if err != nil {
			return err
		}
		return c.setString(spec.claim, s, label)

	case kindBool:
		b, err := decodeBool(raw, label)
		if err != nil {
			return err
		}
		c.setBool(spec.claim, b)
		return nil

	case kindInteger:
		n, err := decodeInteger(raw, label)
		if err != nil {
			return err
		}
		c.EjectAfterElapsed = &n
		return nil

	case kindTime:
		t, err := decodeNumericDate(raw, label)
		if err != nil {
			return err
		}
		switch spec.claim {
		case "exp":
			c.Exp = t
		case "nbf":
			c.Nbf = t
		case "iat":
			c.Iat = t
		}
		return nil

	case kindObject:
		if !isObject(raw) {
			return errorf(ErrInvalidClaim, "claim %s must be a JSON object", label)
		}
		c.StartCloudRecordingOpts = append(json.RawMessage(nil), raw...)
		return nil

	case kindPermissions:
		p, err := decodePermissions(raw, label)
		if err != nil {
			return err
		}
		c.Permissions = p
		return nil
	}
	return errorf(ErrInvalidClaim, "claim %s has no decoder", label)
}

func (c *Claims) setString(claim, s, label string) error {
	switch claim {
	case "r":
		if s == "" {
			return errorf(ErrInvalidClaim, "claim %s (room name) is empty", label)
		}
		c.RoomName = s
	case "d":
		if s == "" {
			return errorf(ErrInvalidClaim, "claim %s (domain id) is empty", label)
		}
		c.DomainID = s
	case "ud":
		c.UserID = s
	case "u":
		c.UserName = s
	case "rome":
		c.RedirectOnMeetingExit = s
	case "er":
		c.EnableRecording = s
	case "mjh":
		c.MeetingJoinHook = s
	case "uil":
		c.Lang = s
	}
	return nil
}

func (c *Claims) setBool(claim string, b bool) {
	v := &b
	switch claim {
	case "o":
		c.IsOwner = v
	case "k":
		c.Knocking = v
	case "ctoe":
		c.CloseTabOnExit = v
	case "ij":
		c.IntercomJoinAlert = v
	case "sr":
		c.StartCloudRecording = v
	case "ast":
		c.AutoStartTranscription = v
	case "ss":
		c.EnableScreenshare = v
	case "vo":
		c.StartVideoOff = v
	case "ao":
		c.StartAudioOff = v
	case "ejt":
		c.EjectAtTokenExp = v
	case "erui":
		c.EnableRecordingUI = v
	}
}

// value returns the claim of spec as a JSON-encodable value, or nil when absent.
func (c *Claims) value(spec claimSpec) any {
	switch spec.claim {
	case "r":
		return nonEmpty(c.RoomName)
	case "d":
		return nonEmpty(c.DomainID)
	case "ud":
		return nonEmpty(c.UserID)
	case "u":
		return nonEmpty(c.UserName)
	case "rome":
		return nonEmpty(c.RedirectOnMeetingExit)
	case "er":
		return nonEmpty(c.EnableRecording)
	case "mjh":
		return nonEmpty(c.MeetingJoinHook)
	case "uil":
		return nonEmpty(c.Lang)
	case "o":
		return boolValue(c.IsOwner)
	case "k":
		return boolValue(c.Knocking)
	case "ctoe":
		return boolValue(c.CloseTabOnExit)
	case "ij":
		return boolValue(c.IntercomJoinAlert)
	case "sr":
		return boolValue(c.StartCloudRecording)
	case "ast":
		return boolValue(c.AutoStartTranscription)
	case "ss":
		return boolValue(c.EnableScreenshare)
	case "vo":
		return boolValue(c.StartVideoOff)
	case "ao":
		return boolValue(c.StartAudioOff)
	case "ejt":
		return boolValue(c.EjectAtTokenExp)
	case "erui":
		return boolValue(c.EnableRecordingUI)
	case "eje":
		if c.EjectAfterElapsed == nil {
			return nil
		}
		return *c.EjectAfterElapsed
	case "sro":
		if len(c.StartCloudRecordingOpts) == 0 {
			return nil
		}
		return c.StartCloudRecordingOpts
	case "exp":
		return numericDate(c.Exp)
	case "nbf":
		return numericDate(c.Nbf)
	case "iat":
		return numericDate(c.Iat)
	}
	return nil
}

// Payload returns the claims as a JSON object with short claim names, the
// form a token carries. Extra claims are included; a known claim wins over an
// Extra entry of the same name.
func (c *Claims) Payload() ([]byte, error) {
	out := map[string]any{}
	for name, raw := range c.Extra {
		out[name] = raw
	}
	for _, spec := range claimSpecs {
		if spec.kind == kindPermissions {
			if c.Permissions != nil {
				out[spec.claim] = c.Permissions.shortForm()
			}
			continue
		}
		if v := c.value(spec); v != nil {
			out[spec.claim] = v
		}
	}
	return json.Marshal(out)
}

// Properties returns the claims with the property names of Daily's REST API,
// permissions in their long form: the body of POST /meeting-tokens takes this
// object as "properties". Extra claims are not included, because the REST API
// rejects properties it does not know.
func (c *Claims) Properties() map[string]any {
	out := map[string]any{}
	for _, spec := range claimSpecs {
		if spec.kind == kindPermissions {
			if c.Permissions != nil {
				out[spec.property] = c.Permissions.LongForm()
			}
			continue
		}
		if v := c.value(spec); v != nil {
			out[spec.property] = v
		}
	}
	return out
}

// ClaimsFromProperties builds Claims from an object with the property names
// of Daily's REST API, such as the response body of GET /meeting-tokens/{token}. Types
// are checked as for a token payload; unknown properties are kept in Extra.
func ClaimsFromProperties(properties map[string]json.RawMessage) (*Claims, error) {
	c := &Claims{}
	for name, raw := range properties {
		spec, known := specByProperty[name]
		if !known {
			if c.Extra == nil {
				c.Extra = map[string]json.RawMessage{}
			}
			c.Extra[name] = raw
			continue
		}
		if spec.kind == kindPermissions {
			p, err := decodeLongPermissions(raw, name)
			if err != nil {
				return nil, err
			}
			c.Permissions = p
			continue
		}
		if err := c.set(spec, raw, name); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func decodeString(raw json.RawMessage, label string) (string, error) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", errorf(ErrInvalidClaim, "claim %s must be a string", label)
	}

	// encoding/json has validated the document, so a string without escapes
	// contains no control characters: take its bytes as they are.
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errorf(ErrInvalidClaim, "claim %s must be a string", label)
	}
	return s, nil
}

func decodeBool(raw json.RawMessage, label string) (bool, error) {
	if b, ok := jsonBool(raw); ok {
		return b, nil
	}
	return false, errorf(ErrInvalidClaim, "claim %s must be a boolean", label)
}

// jsonBool reports whether raw is a JSON boolean, and its value. Callers that
// accept other types too use it instead of decodeBool, which formats an error.
func jsonBool(raw json.RawMessage) (value, ok bool) {
	switch string(raw) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

func decodeInteger(raw json.RawMessage, label string) (int64, error) {
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || n < 0 {
		return 0, errorf(ErrInvalidClaim, "claim %s must be a non-negative integer", label)
	}
	return n, nil
}

// decodeNumericDate accepts a JSON number, integer or fractional (RFC 7519
// section 2), of seconds since the Unix epoch up to the year 9999.
func decodeNumericDate(raw json.RawMessage, label string) (time.Time, error) {
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return time.Time{}, errorf(ErrInvalidClaim, "claim %s must be a number of seconds", label)
	}
	seconds, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || seconds <= minNumericDate || seconds > maxNumericDate {
		return time.Time{}, errorf(ErrInvalidClaim, "claim %s is out of range", label)
	}
	// Round to the nearest nanosecond: truncating would turn 154.221569,
	// stored as 154.22156899999..., into ...568999 ns.
	whole, fraction := math.Modf(seconds)
	return time.Unix(int64(whole), int64(math.Round(fraction*1e9))).UTC(), nil
}

func isObject(raw json.RawMessage) bool {
	return len(raw) > 0 && raw[0] == '{'
}

func nonEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func boolValue(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

// numericDate encodes t as whole seconds, or as fractional seconds when t has
// a fraction, the way it arrived.
func numericDate(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	if t.Nanosecond() == 0 {
		return t.Unix()
	}
	// t.UnixNano would overflow after the year 2262.
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9
}
