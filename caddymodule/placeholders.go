package caddymodule

import (
	"net/http"
	"regexp"
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/dailytoken/dailytoken/tokencore"
)

// Placeholders set after a token is validated or minted, so that later
// handlers, handle_errors and log formats can use the claims.
const (
	placeholderRoom        = "http.auth.daily.room"
	placeholderUserID      = "http.auth.daily.user_id"
	placeholderUserName    = "http.auth.daily.user_name"
	placeholderIsOwner     = "http.auth.daily.is_owner"
	placeholderDomainID    = "http.auth.daily.domain_id"
	placeholderExp         = "http.auth.daily.exp"
	placeholderFingerprint = "http.auth.daily.fingerprint"
)

// replacerOf returns the request's replacer, which Caddy's server puts in
// every request context; nil outside a Caddy server.
func replacerOf(r *http.Request) *caddy.Replacer {
	repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	return repl
}

// expander returns the function the core applies to configured text, and
// never to text from the request, to expand Caddy placeholders. Unknown
// placeholders stay as they are, as in Caddy's own respond handler.
func expander(repl *caddy.Replacer) func(string) string {
	if repl == nil {
		return nil
	}
	return func(s string) string {
		return repl.ReplaceKnown(s, "")
	}
}

// setClaimPlaceholders sets the {http.auth.daily.*} placeholders. Absent
// claims give empty values, so no placeholder keeps a value from an earlier
// handler.
func setClaimPlaceholders(repl *caddy.Replacer, c *tokencore.Claims, fingerprint string) {
	repl.Set(placeholderRoom, c.RoomName)
	repl.Set(placeholderUserID, c.UserID)
	repl.Set(placeholderUserName, c.UserName)
	repl.Set(placeholderIsOwner, isOwnerText(c))
	repl.Set(placeholderDomainID, c.DomainID)
	repl.Set(placeholderExp, expText(c))
	repl.Set(placeholderFingerprint, fingerprint)
}

// isOwnerText returns "true" or "false"; an absent is_owner claim is false.
func isOwnerText(c *tokencore.Claims) string {
	return strconv.FormatBool(c.IsOwner != nil && *c.IsOwner)
}

// expText returns exp in Unix seconds, or "" for a token without exp.
func expText(c *tokencore.Claims) string {
	if c.Exp.IsZero() {
		return ""
	}
	return strconv.FormatInt(c.Exp.Unix(), 10)
}

// Caddy's long forms of the request values the core resolves itself. The
// Caddyfile adapter rewrites {path.N}, {header.Name} and {query.name} into
// them before this module reads the text.
var (
	longPathValue   = regexp.MustCompile(`\{http\.request\.uri\.path\.([0-9]+)\}`)
	longHeaderValue = regexp.MustCompile(`\{http\.request\.header\.([^{}]+)\}`)
	longQueryValue  = regexp.MustCompile(`\{http\.request\.uri\.query\.([^{}]+)\}`)
)

// coreValueSyntax rewrites Caddy's long forms of path, header and query
// values into the core's request value syntax. The core rejects a missing or
// repeated value, where Caddy's replacer would give empty text or the values
// joined by commas: a room check or a minted claim must never rest on either.
func coreValueSyntax(s string) string {
	s = longPathValue.ReplaceAllString(s, "{path.$1}")
	s = longHeaderValue.ReplaceAllString(s, "{header.$1}")
	return longQueryValue.ReplaceAllString(s, "{query.$1}")
}
