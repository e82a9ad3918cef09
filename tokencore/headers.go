package tokencore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// DefaultHeaderPrefix is the prefix of the claim headers unless configured.
const DefaultHeaderPrefix = "X-Daily-"

// Names of the claim headers after the prefix.
const (
	HeaderRoom     = "Room"
	HeaderDomainID = "Domain-Id"
	HeaderUserID   = "User-Id"
	HeaderUserName = "User-Name"
	HeaderIsOwner  = "Is-Owner"
	HeaderExpires  = "Exp"
	HeaderClaims   = "Claims" // the whole verified payload as JSON on one line
)

// controlCharacters are the bytes that must never reach a header value as-is.
const controlCharacters = "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f" +
	"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f"

// ClaimHeaders writes verified claims into request headers for the upstream.
type ClaimHeaders struct {
	prefix     string
	normalized string   // the prefix in lower case, with '_' as '-'
	canonical  []string // the full names of claimHeaderOrder, canonicalized
}

// NewClaimHeaders returns ClaimHeaders for prefix, or DefaultHeaderPrefix if
// prefix is empty. The prefix must be a valid header name start.
func NewClaimHeaders(prefix string) (*ClaimHeaders, error) {
	if prefix == "" {
		prefix = DefaultHeaderPrefix
	}
	for i := 0; i < len(prefix); i++ {
		if !isTokenChar(prefix[i]) {
			return nil, fmt.Errorf("claim header prefix %q: character %q is not allowed in a header name", prefix, prefix[i])
		}
	}

	h := &ClaimHeaders{prefix: prefix, normalized: normalizeHeaderName(prefix)}
	for _, name := range claimHeaderOrder {
		h.canonical = append(h.canonical, textproto.CanonicalMIMEHeaderKey(prefix+name))
	}
	return h, nil
}

// Prefix returns the configured prefix.
func (h *ClaimHeaders) Prefix() string {
	return h.prefix
}

// RemoveClientHeaders deletes every header whose name starts with the prefix,
// compared case-insensitively and with '_' taken as '-': CGI-style upstreams
// read X_Daily_Room as X-Daily-Room, so a client must not send either.
func (h *ClaimHeaders) RemoveClientHeaders(header http.Header) {
	first := h.normalized[0]
	for name := range header {
		// Most names differ in the first byte; compare it without a call.
		if len(name) < len(h.normalized) || (name[0]|0x20 != first && name[0] != first) {
			continue
		}
		start := name[:len(h.normalized)]
		if strings.EqualFold(start, h.prefix) || (strings.IndexByte(start, '_') >= 0 && normalizeHeaderName(start) == h.normalized) {
			delete(header, name)
		}
	}
}

// Set writes the claim headers for verified claims. payload is the verified
// token payload; when nil, as after REST introspection, it is encoded from c.
// A value with control characters is written with each of them replaced by
// U+FFFD, so a claim can never end a header or start another. The exact
// value is in the Claims header, where JSON escapes it.
func (h *ClaimHeaders) Set(header http.Header, c *Claims, payload []byte) error {
	values, err := claimHeaderValues(c, payload)
	if err != nil {
		return err
	}
	h.setValues(header, values)
	return nil
}

// claimHeaderOrder lists the claim headers in the order of the values that
// claimHeaderValues returns.
var claimHeaderOrder = []string{HeaderRoom, HeaderDomainID, HeaderUserID, HeaderUserName, HeaderIsOwner, HeaderExpires, HeaderClaims}

// claimHeaderValues returns the sanitized value of each header in
// claimHeaderOrder, empty for a header not to write. The values depend on
// the claims only, so a verifier can compute them once per token.
func claimHeaderValues(c *Claims, payload []byte) ([]string, error) {
	values := make([]string, len(claimHeaderOrder))
	values[0] = sanitizeHeaderValue(c.RoomName)
	values[1] = sanitizeHeaderValue(c.DomainID)
	values[2] = sanitizeHeaderValue(c.UserID)
	values[3] = sanitizeHeaderValue(c.UserName)
	values[4] = strconv.FormatBool(c.IsOwner != nil && *c.IsOwner)
	if !c.Exp.IsZero() {
		values[5] = strconv.FormatInt(c.Exp.Unix(), 10)
	}

	if payload == nil {
		encoded, err := c.Payload()
		if err != nil {
			return nil, fmt.Errorf("encoding claims header: %v", err)
		}
		payload = encoded
	}

	// JSON whitespace includes tab, line feed and carriage return, which
	// compaction removes; a payload without them is used as it is. Any other
	// control character is replaced by sanitizeHeaderValue.
	if bytes.IndexByte(payload, '\n') >= 0 || bytes.IndexByte(payload, '\r') >= 0 || bytes.IndexByte(payload, '\t') >= 0 {
		var compact bytes.Buffer
		if err := json.Compact(&compact, payload); err != nil {
			return nil, fmt.Errorf("compacting claims header: %v", err)
		}
		payload = compact.Bytes()
	}
	values[6] = sanitizeHeaderValue(string(payload))
	return values, nil
}

// setValues writes values from claimHeaderValues. Each request gets its own
// copy, capped so that an append by a later handler cannot write into the
// values of another request.
func (h *ClaimHeaders) setValues(header http.Header, values []string) {
	own := make([]string, len(values))
	copy(own, values)
	for i := range own {
		if own[i] != "" {
			header[h.canonical[i]] = own[i : i+1 : i+1]
		}
	}
}

// Names returns the full names of the claim headers Set can write.
func (h *ClaimHeaders) Names() []string {
	return []string{
		h.prefix + HeaderRoom, h.prefix + HeaderDomainID, h.prefix + HeaderUserID,
		h.prefix + HeaderUserName, h.prefix + HeaderIsOwner, h.prefix + HeaderExpires,
		h.prefix + HeaderClaims,
	}
}

// controlReplacer replaces each of the controlCharacters with U+FFFD. It is
// built once because strings.ContainsAny builds its byte set on every call,
// and its Replace returns a string without control characters unchanged.
var controlReplacer = newControlReplacer()

func newControlReplacer() *strings.Replacer {
	pairs := make([]string, 0, 2*len(controlCharacters))
	for i := 0; i < len(controlCharacters); i++ {
		pairs = append(pairs, controlCharacters[i:i+1], "\uFFFD")
	}
	return strings.NewReplacer(pairs...)
}

func sanitizeHeaderValue(s string) string {
	return controlReplacer.Replace(s)
}

func normalizeHeaderName(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), "_", "-")
}

// isTokenChar reports whether b may appear in a header name (RFC 9110 token).
func isTokenChar(b byte) bool {
	if b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}
