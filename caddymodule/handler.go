package caddymodule

import (
	"fmt"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/dailytoken/dailytoken/tokencore"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Modes of the handler.
const (
	ModeValidate = "validate"
	ModeMint     = "mint"
)

// Handler validates or mints Daily meeting tokens, as its mode selects.
//
// In validate mode it takes the token from the request, verifies its HS256
// signature with the keys and applies the route's policy. A request without
// a valid token is rejected with 401 and a WWW-Authenticate: Bearer
// challenge carrying an RFC 6750 error code. A valid token that the route
// does not allow (another room, not an owner, a missing permission) gets
// 403. Both are returned as errors, so handle_errors can render them. An
// accepted request goes on with the verified claims in X-Daily-* headers,
// and with the placeholders {http.auth.daily.room}, .user_id, .user_name,
// .is_owner, .domain_id, .exp and .fingerprint, and {http.auth.user.id}
// (the user id, else the user name, else the fingerprint) for the access
// log.
//
// In mint mode it makes a token from the claims template for each request
// and puts it into the upstream request or responds to the client with it.
// The same {http.auth.daily.*} placeholders then describe the minted token.
// A request whose values do not make valid claims gets 400.
type Handler struct {
	// The job of this route: "validate" or "mint". Default: validate
	Mode string `json:"mode,omitempty"`

	// Daily API keys, the HMAC secrets of the tokens. Validation accepts a
	// token signed with any of them, so a key can be rotated without
	// downtime; minting signs with the first. A key may be or contain
	// {env.NAME} and {file.PATH} placeholders, which are resolved once when
	// the config is loaded, keeping the key out of the config text. A key
	// that is empty, or a placeholder that resolves to nothing, fails the
	// config. Required.
	Keys []string `json:"keys,omitempty"`

	// Check or mint tokens through Daily's REST API instead of locally with
	// the keys; keys then holds the one REST API key. Default: local
	DailyAPI *DailyAPI `json:"daily_api,omitempty"`

	ValidatorOptions
	MinterOptions

	validation   *validation
	minter       *tokencore.Minter
	claimHeaders *tokencore.ClaimHeaders
	counters     *counters
	logger       *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.daily_token",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision resolves the keys and builds the validator or the minter.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()

	// check that the options fit the mode
	if h.Mode == "" {
		h.Mode = ModeValidate
	}
	var misplaced []string
	switch h.Mode {
	case ModeValidate:
		misplaced = h.MinterOptions.setOptions()
	case ModeMint:
		misplaced = h.ValidatorOptions.setOptions()
	default:
		return fmt.Errorf("mode: %q is not %s or %s", h.Mode, ModeValidate, ModeMint)
	}
	if len(misplaced) > 0 {
		return fmt.Errorf("mode %s does not use %s", h.Mode, strings.Join(misplaced, ", "))
	}

	// resolve the keys
	keys, err := resolveKeys(h.Keys)
	if err != nil {
		return err
	}

	// register the counters
	h.counters, err = newCounters(ctx.GetMetricsRegistry())
	if err != nil {
		return fmt.Errorf("registering metrics: %v", err)
	}

	// build the validator or the minter
	if h.Mode == ModeMint {
		h.claimHeaders, err = tokencore.NewClaimHeaders(h.HeaderPrefix)
		if err != nil {
			return err
		}
		h.minter, err = h.MinterOptions.newMinter(keys, h.DailyAPI)
		if err != nil {
			return err
		}
		h.logger.Info("minting Daily meeting tokens",
			zap.Int("keys", len(keys)),
			zap.String("signer", signerName(h.DailyAPI)),
			zap.String("target", h.minter.Target()),
			zap.Int("claims", len(h.Claims)))
		if _, scoped := h.Claims["room_name"]; !scoped {
			// Daily accepts a token without a room for every room of the domain.
			h.logger.Warn("minted tokens have no room_name claim, so they are valid for every room of the domain")
		}
		return nil
	}
	h.validation, err = newValidation(&h.ValidatorOptions, keys, h.DailyAPI, h.logger, h.counters)
	if err != nil {
		return err
	}
	sources := h.Sources
	if len(sources) == 0 {
		sources = tokencore.DefaultSources
	}
	h.logger.Info("validating Daily meeting tokens",
		zap.Int("keys", len(keys)),
		zap.String("verifier", signerName(h.DailyAPI)),
		zap.Strings("sources", sources),
		zap.String("room", coreValueSyntax(h.Room)),
		zap.Bool("strip_token", h.StripToken))
	return nil
}

// ServeHTTP validates or mints, as configured.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if h.minter != nil {
		return h.serveMint(w, r, next)
	}
	if _, err := h.validation.authorize(w, r); err != nil {
		return caddyhttp.Error(tokencore.StatusOf(err), err)
	}
	return next.ServeHTTP(w, r)
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
