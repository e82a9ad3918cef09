package caddymodule

import (
	"fmt"
	"net/http"

	"go.uber.org/zap"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/caddyauth"
	"github.com/dailytoken/dailytoken/tokencore"
)

func init() {
	caddy.RegisterModule(Provider{})
}

// Provider authenticates requests by their Daily meeting token inside
// Caddy's authentication handler, where it can sit next to other providers
// such as http_basic: a request is let in when any provider accepts it.
// It validates exactly as the daily_token handler in validate mode and sets
// the same claim headers and placeholders.
//
// The authentication handler responds to every rejection with 401, so a
// token for another room, which the daily_token handler rejects with 403,
// gets 401 here.
// With several providers, the authentication handler sends one failed
// provider's challenge, which may be this WWW-Authenticate: Bearer or
// another provider's. Use the handler when the 403 matters.
//
// When another provider accepts the request first, this one does not run
// and cannot remove X-Daily-* headers the client sent. Pair it with
// request_header -X-Daily-* before the authentication handler.
//
// The user of an accepted request has the token's user id as ID (else its
// user name, else its fingerprint) and the metadata room, user_id,
// user_name, is_owner, domain_id, exp and fingerprint, which become
// {http.auth.user.*} placeholders. A rejected token gives a candidate
// user, {http.auth.candidate.*}, with the fingerprint as ID (when there is
// a token) and the metadata reason, the core's rejection reason. With
// allow_preflight, a CORS preflight is let in as a user without an ID.
type Provider struct {
	// Daily API keys, as in the handler: a token signed with any of them
	// verifies, and {env.NAME} and {file.PATH} placeholders are resolved once
	// when the config is loaded. Required.
	Keys []string `json:"keys,omitempty"`

	// Check tokens through Daily's REST API instead of locally with the
	// keys, as in the handler. Default: local
	DailyAPI *DailyAPI `json:"daily_api,omitempty"`

	ValidatorOptions

	validation *validation
}

// CaddyModule returns the Caddy module information.
func (Provider) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.authentication.providers.daily_token",
		New: func() caddy.Module { return new(Provider) },
	}
}

// Provision resolves the keys and builds the validator.
func (p *Provider) Provision(ctx caddy.Context) error {
	logger := ctx.Logger()

	// resolve the keys
	keys, err := resolveKeys(p.Keys)
	if err != nil {
		return err
	}

	// register the counters
	c, err := newCounters(ctx.GetMetricsRegistry())
	if err != nil {
		return fmt.Errorf("registering metrics: %v", err)
	}

	// build the validator
	p.validation, err = newValidation(&p.ValidatorOptions, keys, p.DailyAPI, logger, c)
	if err != nil {
		return err
	}
	logger.Info("authenticating with Daily meeting tokens",
		zap.Int("keys", len(keys)),
		zap.String("verifier", signerName(p.DailyAPI)),
		zap.String("room", coreValueSyntax(p.Room)))
	return nil
}

// Authenticate validates the request's token. A token that is missing or
// rejected is not an error, only an unauthenticated request; the error is
// for server-side failures.
func (p *Provider) Authenticate(w http.ResponseWriter, r *http.Request) (caddyauth.User, bool, error) {
	result, err := p.validation.authorize(w, r)
	if err == nil {
		if result.Preflight {
			return caddyauth.User{}, true, nil
		}
		return authenticatedUser(result), true, nil
	}

	e, ok := tokencore.AsError(err)
	if !ok {
		return caddyauth.User{}, false, err
	}
	candidate := caddyauth.User{Metadata: map[string]string{"reason": e.Reason}}
	if result != nil {
		candidate.ID = result.Fingerprint
	}
	return candidate, false, nil
}

// authenticatedUser describes the holder of a verified token.
func authenticatedUser(result *tokencore.Result) caddyauth.User {
	c := result.Claims
	return caddyauth.User{
		ID: userID(c, result.Fingerprint),
		Metadata: map[string]string{
			"room":        c.RoomName,
			"user_id":     c.UserID,
			"user_name":   c.UserName,
			"is_owner":    isOwnerText(c),
			"domain_id":   c.DomainID,
			"exp":         expText(c),
			"fingerprint": result.Fingerprint,
		},
	}
}

// Interface guards
var (
	_ caddy.Provisioner       = (*Provider)(nil)
	_ caddyauth.Authenticator = (*Provider)(nil)
)
