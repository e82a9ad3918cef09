package tokencore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultLifetime is the lifetime of a minted token unless configured. Daily
// advises short-lived tokens because a token cannot be revoked.
const DefaultLifetime = time.Hour

// maxUserIDLength is Daily's limit on user_id, in characters.
const maxUserIDLength = 36

// Languages Daily's prebuilt UI accepts for lang.
var dailyLanguages = map[string]bool{
	"da": true, "de": true, "en": true, "es": true, "fi": true, "fr": true, "it": true,
	"jp": true, "ka": true, "nl": true, "no": true, "pt": true, "pt-BR": true, "pl": true,
	"ru": true, "sv": true, "tr": true, "user": true,
}

// Recording types Daily documents for enable_recording.
var recordingTypes = map[string]bool{"cloud": true, "local": true, "raw-tracks": true}

// Targets for a minted token, besides "header:Name" and "query:name".
const (
	// TargetResponse responds to the client with {"token": "..."}, the body of
	// Daily's POST /meeting-tokens, instead of calling the upstream.
	TargetResponse = "response"

	// DefaultTarget puts the token into the upstream request's Authorization
	// header with the Bearer scheme.
	DefaultTarget = "header:Authorization"
)

// TokenSigner turns claims into a token: locally with a Codec, or through
// Daily's REST API.
type TokenSigner interface {
	SignClaims(ctx context.Context, claims *Claims) (string, error)
}

// LocalSigner signs claims with a Codec's first key.
type LocalSigner struct {
	Codec *Codec
}

// SignClaims implements TokenSigner.
func (l *LocalSigner) SignClaims(_ context.Context, claims *Claims) (string, error) {
	payload, err := claims.Payload()
	if err != nil {
		return "", fmt.Errorf("encoding claims: %v", err)
	}
	return l.Codec.Sign(payload), nil
}

// MinterConfig configures a Minter.
type MinterConfig struct {
	// Keys are the HMAC keys; the first one signs. Required unless Signer is set.
	Keys [][]byte

	// Signer, if set, replaces local signing, for instance by Daily's REST API.
	Signer TokenSigner

	// Claims is the template: Daily's REST property names (room_name,
	// user_id, is_owner, permissions, ...) mapped to values. A string value
	// may take parts from the request in RequestValue syntax. Booleans and
	// integers may be given as strings, as Caddyfiles and Docker labels do.
	// exp, nbf and iat are set by the Minter and cannot be templated.
	Claims map[string]any

	// Lifetime is how long a minted token is valid. Zero means DefaultLifetime.
	Lifetime time.Duration

	// SetNotBefore adds nbf, set to the time of minting.
	SetNotBefore bool

	// Target is the destination of the token: "header:Name", "query:name" or
	// "response". Empty means DefaultTarget.
	Target string

	// LenientValues keeps placeholders unknown to RequestValue as text for
	// the adapter to expand.
	LenientValues bool

	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
}

// Minter mints tokens on a minting route from the route's claims template.
// It is safe for concurrent use.
type Minter struct {
	signer       TokenSigner
	codec        *Codec // set for local signing, which takes the fast path in Mint
	fields       []templateField
	base         Claims // the fixed claims of the template
	fixedJSON    []byte // the fixed claims as JSON members, each followed by a comma
	lifetime     time.Duration
	setNotBefore bool
	target       Source // Kind "header", "query" or "response"
	now          func() time.Time
}

// templateField is one property of the template: a value fixed at start-up,
// or one resolved from each request.
type templateField struct {
	spec    claimSpec
	fixed   json.RawMessage
	dynamic *RequestValue
}

// NewMinter checks cfg, including every fixed template value against Daily's
// rules, and returns a Minter.
func NewMinter(cfg MinterConfig) (*Minter, error) {
	m := &Minter{lifetime: cfg.Lifetime, setNotBefore: cfg.SetNotBefore, now: cfg.Now}
	if m.now == nil {
		m.now = time.Now
	}
	if m.lifetime == 0 {
		m.lifetime = DefaultLifetime
	}
	if m.lifetime < 0 {
		return nil, fmt.Errorf("lifetime %s is negative", m.lifetime)
	}

	// signer
	m.signer = cfg.Signer
	if m.signer == nil {
		codec, err := NewCodec(cfg.Keys, 0)
		if err != nil {
			return nil, err
		}
		m.signer = &LocalSigner{Codec: codec}
		m.codec = codec
	}

	// target
	target, err := parseTarget(cfg.Target)
	if err != nil {
		return nil, err
	}
	m.target = target

	// template, in a stable order so that errors and tokens are reproducible
	names := make([]string, 0, len(cfg.Claims))
	for name := range cfg.Claims {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		field, err := compileField(name, cfg.Claims[name], cfg.LenientValues)
		if err != nil {
			return nil, err
		}
		m.fields = append(m.fields, field)
	}

	// Check the fixed values now, so that a bad template fails at start-up,
	// and encode them once instead of on every request.
	for _, field := range m.fields {
		if field.dynamic != nil {
			continue
		}
		if err := m.base.set(field.spec, field.fixed, field.spec.property); err != nil {
			// The message names the claim already.
			return nil, errors.New(describe(err))
		}
		m.fixedJSON = appendMember(m.fixedJSON, field.spec.claim, field.fixed)
	}
	if err := checkDailyRules(&m.base); err != nil {
		return nil, fmt.Errorf("claims: %s", describe(err))
	}
	return m, nil
}

func parseTarget(spec string) (Source, error) {
	if spec == "" {
		spec = DefaultTarget
	}
	if spec == TargetResponse {
		return Source{Kind: TargetResponse}, nil
	}
	kind, name, _ := strings.Cut(spec, ":")
	switch kind {
	case SourceHeader:
		if name == "" {
			return Source{}, fmt.Errorf("target %q: missing header name", spec)
		}
		return Source{Kind: kind, Name: textproto.CanonicalMIMEHeaderKey(name)}, nil
	case SourceQuery:
		if name == "" {
			return Source{}, fmt.Errorf("target %q: missing query parameter name", spec)
		}
		return Source{Kind: kind, Name: name}, nil
	}
	return Source{}, fmt.Errorf("target %q: expected header:Name, query:name or response", spec)
}

// compileField checks one template entry and encodes a fixed value as JSON.
func compileField(name string, value any, lenient bool) (templateField, error) {
	spec, known := specByProperty[name]
	if !known {
		return templateField{}, fmt.Errorf("claim %q is not a Daily meeting token property", name)
	}
	if spec.kind == kindTime {
		return templateField{}, fmt.Errorf("claim %q is set from the lifetime and cannot be templated", name)
	}

	field := templateField{spec: spec}
	if s, ok := value.(string); ok && spec.kind != kindObject && spec.kind != kindPermissions {
		rv, err := parseRequestValue(s, lenient)
		if err != nil {
			return templateField{}, fmt.Errorf("claim %s: %v", name, err)
		}
		if !rv.IsFixed() {
			field.dynamic = rv
			return field, nil
		}
		raw, err := stringToJSON(spec, s, name)
		if err != nil {
			return templateField{}, errors.New(describe(err))
		}
		field.fixed = raw
		return field, nil
	}

	// A string for an object is its JSON text, as a Caddyfile would give it.
	// The text goes into every token as it is, so it must be valid JSON.
	if s, ok := value.(string); ok {
		if !json.Valid([]byte(s)) {
			return templateField{}, fmt.Errorf("claim %s: value %q is not valid JSON", name, truncate(s, 40))
		}
		field.fixed = json.RawMessage(s)
	} else {
		if spec.kind == kindPermissions {
			value = booleanStrings(value)
		}
		raw, err := json.Marshal(value)
		if err != nil {
			return templateField{}, fmt.Errorf("claim %s: %v", name, err)
		}
		field.fixed = raw
	}
	if spec.kind == kindPermissions {
		// Templates use the long form that Daily's REST API documents.
		p, err := decodeLongPermissions(field.fixed, name)
		if err != nil {
			return templateField{}, errors.New(describe(err))
		}
		field.fixed, _ = json.Marshal(p.shortForm())
	}
	return field, nil
}

// booleanStrings returns v with every "true" and "false" string inside it
// turned into a boolean. Traefik's file provider and labels hand every
// value of a nested map over as a string, and no permission takes the text
// "true" or "false" as a value, so the conversion cannot change a meaning.
func booleanStrings(v any) any {
	switch value := v.(type) {
	case string:
		if value == "true" {
			return true
		}
		if value == "false" {
			return false
		}
		return value
	case map[string]any:
		out := make(map[string]any, len(value))
		for key, item := range value {
			out[key] = booleanStrings(item)
		}
		return out
	case []any:
		out := make([]any, len(value))
		for i, item := range value {
			out[i] = booleanStrings(item)
		}
		return out
	}
	return v
}

// stringToJSON converts a string to the JSON value of spec's type: a boolean
// must be "true" or "false" and an integer decimal digits.
func stringToJSON(spec claimSpec, s, label string) (json.RawMessage, error) {
	switch spec.kind {
	case kindBool:
		if s != "true" && s != "false" {
			return nil, errorf(ErrInvalidRequestValue, "claim %s must be true or false, got %q", label, truncate(s, 40))
		}
		return json.RawMessage(s), nil
	case kindInteger:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return nil, errorf(ErrInvalidRequestValue, "claim %s must be a non-negative integer, got %q", label, truncate(s, 40))
		}
		return json.RawMessage(strconv.FormatInt(n, 10)), nil
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, errorf(ErrInvalidRequestValue, "claim %s: %v", label, err)
	}
	return raw, nil
}

// checkDailyRules applies the limits Daily puts on claim values.
func checkDailyRules(c *Claims) error {
	if n := utf8.RuneCountInString(c.UserID); n > maxUserIDLength {
		return errorf(ErrInvalidRequestValue, "user_id is %d characters, and Daily allows at most %d", n, maxUserIDLength)
	}
	if c.Lang != "" && !dailyLanguages[c.Lang] {
		return errorf(ErrInvalidRequestValue, "lang %q is not one of Daily's languages (%s)", truncate(c.Lang, 20), keyList(dailyLanguages))
	}
	if c.EnableRecording != "" && !recordingTypes[c.EnableRecording] {
		return errorf(ErrInvalidRequestValue, "enable_recording %q is not one of %s", truncate(c.EnableRecording, 20), keyList(recordingTypes))
	}
	return nil
}

// describe returns the message of err without its kind.
func describe(err error) string {
	if e, ok := AsError(err); ok {
		return e.Description
	}
	return err.Error()
}

// Claims returns the claims for request r without iat, nbf and exp: the
// template with every request value resolved and checked. expand, if not
// nil, expands the adapter's placeholders in configured text.
func (m *Minter) Claims(r *http.Request, expand func(string) string) (*Claims, error) {
	c, _, err := m.resolve(r, expand, false)
	return c, err
}

// resolve returns the template's claims for r and, if members is true, the
// JSON members of the payload without the time claims: the fixed ones
// encoded at start-up followed by those taken from the request.
func (m *Minter) resolve(r *http.Request, expand func(string) string, members bool) (*Claims, []byte, error) {
	c := new(Claims)
	*c = m.base
	var payload []byte
	if members {
		payload = make([]byte, 0, len(m.fixedJSON)+128)
		payload = append(payload, m.fixedJSON...)
	}

	for _, field := range m.fields {
		if field.dynamic == nil {
			continue
		}
		s, err := field.dynamic.Resolve(r, expand)
		if err != nil {
			return nil, nil, errorf(ErrInvalidRequestValue, "claim %s: %s", field.spec.property, describe(err))
		}
		raw, err := stringToJSON(field.spec, s, field.spec.property)
		if err != nil {
			return nil, nil, err
		}
		if err := c.set(field.spec, raw, field.spec.property); err != nil {
			return nil, nil, errorf(ErrInvalidRequestValue, "%s", describe(err))
		}
		if members {
			payload = appendMember(payload, field.spec.claim, raw)
		}
	}
	if err := checkDailyRules(c); err != nil {
		return nil, nil, err
	}
	return c, payload, nil
}

// appendMember appends "name":value, to a JSON object under construction.
func appendMember(dst []byte, name string, value json.RawMessage) []byte {
	dst = append(dst, '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	dst = append(dst, value...)
	return append(dst, ',')
}

// Mint returns a token for request r: the template's claims, iat now, exp
// now plus the lifetime and, if configured, nbf now.
//
// With local signing the payload is assembled from the members encoded at
// start-up and the request's values, without encoding the claims again.
func (m *Minter) Mint(r *http.Request, expand func(string) string) (string, *Claims, error) {
	c, payload, err := m.resolve(r, expand, m.codec != nil)
	if err != nil {
		return "", nil, err
	}

	now := m.now().Truncate(time.Second)
	c.Iat = now
	c.Exp = now.Add(m.lifetime)
	if m.setNotBefore {
		c.Nbf = now
	}

	if m.codec != nil {
		payload = appendMember(payload, "iat", strconv.AppendInt(nil, c.Iat.Unix(), 10))
		if m.setNotBefore {
			payload = appendMember(payload, "nbf", strconv.AppendInt(nil, c.Nbf.Unix(), 10))
		}
		payload = append(payload, `"exp":`...)
		payload = strconv.AppendInt(payload, c.Exp.Unix(), 10)
		payload = append(payload, '}')
		return m.codec.Sign(append([]byte{'{'}, payload...)), c, nil
	}
	token, err := m.signer.SignClaims(r.Context(), c)
	if err != nil {
		return "", nil, err
	}
	return token, c, nil
}

// RespondsDirectly reports whether the token goes back to the client as
// {"token": "..."} instead of into the upstream request.
func (m *Minter) RespondsDirectly() bool {
	return m.target.Kind == TargetResponse
}

// Target returns where the token goes, in MinterConfig.Target syntax.
func (m *Minter) Target() string {
	if m.target.Kind == TargetResponse {
		return TargetResponse
	}
	return m.target.String()
}

// Inject puts token into the upstream request, after removing any value the
// client sent under the same header or query parameter name. In the
// Authorization header the token is sent with the Bearer scheme.
func (m *Minter) Inject(r *http.Request, token string) {
	switch m.target.Kind {
	case SourceHeader:
		value := token
		if m.target.Name == "Authorization" {
			value = "Bearer " + token
		}
		r.Header.Set(m.target.Name, value)
	case SourceQuery:
		query := removeQueryParam(r.URL.RawQuery, m.target.Name)
		param := url.QueryEscape(m.target.Name) + "=" + token
		if query == "" {
			query = param
		} else {
			query += "&" + param
		}
		r.URL.RawQuery = query
		r.RequestURI = r.URL.RequestURI()
	}
}

// TokenResponse returns the body of a direct response, {"token": "..."}.
func TokenResponse(token string) []byte {
	body, _ := json.Marshal(map[string]string{"token": token})
	return body
}
