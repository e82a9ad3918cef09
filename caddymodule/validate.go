package caddymodule

import (
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/caddyserver/caddy/v2"
	"github.com/dailytoken/dailytoken/tokencore"
)

// ValidatorOptions configure token validation. The handler in validate
// mode and the authentication provider share them.
type ValidatorOptions struct {
	// The token sources, tried in order: "bearer" (the Authorization header
	// with the Bearer scheme), "header:Name" (the whole value of a header),
	// "query:name" or "cookie:name". When a request carries a token in
	// several of them, it must be the same token everywhere.
	// Default: ["bearer", "query:t"], the header and the query parameter
	// that Daily room URLs use.
	Sources []string `json:"sources,omitempty"`

	// The clock skew allowed on the exp, nbf and iat claims. Zero means no
	// skew is allowed. Default: 30s
	Leeway *caddy.Duration `json:"leeway,omitempty"`

	// The maximum validity period of a token, from iat to exp and from now
	// to exp. A token cannot be revoked before its exp, so a short limit
	// bounds the damage of a leaked one. A negative value, written "off" in
	// the Caddyfile, removes the limit. Tokens without exp, accepted only
	// with allow_missing_exp, are not limited. Default: 24h
	MaxLifetime caddy.Duration `json:"max_lifetime,omitempty"`

	// Accept tokens without an exp claim. Daily treats such a token as valid
	// forever. Default: false
	AllowMissingExp bool `json:"allow_missing_exp,omitempty"`

	// The room the request must be for: a fixed room name, or a value taken
	// from the request, such as "{path.1}" (the second path segment),
	// "{header.X-Room}" or "{query.room}". The module resolves these three
	// itself, also in the long forms the Caddyfile turns them into
	// ({http.request.uri.path.1}, ...): a missing or repeated value rejects
	// the request instead of becoming empty text. Any other Caddy
	// placeholder is expanded by Caddy. A token whose room name (r) differs
	// gets 403. Default: any room
	Room string `json:"room,omitempty"`

	// Accept a token without a room name (r) on a route that sets room.
	// Daily treats such a token as valid for every room of the domain.
	// Default: false
	AllowRoomless bool `json:"allow_roomless,omitempty"`

	// The domain id (d) every token must carry, as returned by Daily's
	// GET /v1/ in domain_id. Default: any domain
	DomainID string `json:"domain_id,omitempty"`

	// Demand meeting owner privileges (is_owner true); other tokens get 403.
	// Default: false
	RequireOwner bool `json:"require_owner,omitempty"`

	// Permissions the token must grant, each "hasPresence", "canSend",
	// "canSend:<medium>" (video, audio, screenVideo, screenAudio,
	// customVideo, customAudio), "canAdmin" or "canAdmin:<area>"
	// (participants, streaming, transcription). Only what the token states
	// counts, not the room's defaults. Default: none
	RequirePermissions []string `json:"require_permissions,omitempty"`

	// Remove the token from the request before it goes upstream: from the
	// Authorization header, the query parameter, the cookie or the header
	// it was found in. Other values are kept as they were. Default: false
	StripToken bool `json:"strip_token,omitempty"`

	// The prefix of the claim headers set for the upstream (X-Daily-Room,
	// X-Daily-User-Id, X-Daily-User-Name, X-Daily-Is-Owner,
	// X-Daily-Domain-Id, X-Daily-Exp and X-Daily-Claims, the verified
	// payload as JSON). Every header the client sent under this prefix is
	// removed first, with '_' taken as '-', in mint mode too, so a claims
	// template cannot take a value from such a header. Default: X-Daily-
	HeaderPrefix string `json:"header_prefix,omitempty"`

	// Let CORS preflight requests (OPTIONS with Origin and
	// Access-Control-Request-Method) through without a token, because
	// browsers send them without credentials. Default: false, so a
	// preflight without a token gets 401.
	AllowPreflight bool `json:"allow_preflight,omitempty"`

	// The largest token accepted, in bytes. Daily recommends tokens under
	// 2048 characters. Default: 4096
	MaxTokenSize int `json:"max_token_size,omitempty"`

	// The realm of the WWW-Authenticate challenge. Default: none
	Realm string `json:"realm,omitempty"`
}

// setOptions returns the JSON names of the options that are set, for the
// error about options that do not fit the handler's mode. header_prefix
// fits both modes and is not listed.
func (o *ValidatorOptions) setOptions() []string {
	var names []string
	add := func(set bool, name string) {
		if set {
			names = append(names, name)
		}
	}
	add(len(o.Sources) > 0, "sources")
	add(o.Leeway != nil, "leeway")
	add(o.MaxLifetime != 0, "max_lifetime")
	add(o.AllowMissingExp, "allow_missing_exp")
	add(o.Room != "", "room")
	add(o.AllowRoomless, "allow_roomless")
	add(o.DomainID != "", "domain_id")
	add(o.RequireOwner, "require_owner")
	add(len(o.RequirePermissions) > 0, "require_permissions")
	add(o.StripToken, "strip_token")
	add(o.AllowPreflight, "allow_preflight")
	add(o.MaxTokenSize != 0, "max_token_size")
	add(o.Realm != "", "realm")
	return names
}

// relaxations returns the options that accept tokens the default policy
// rejects, so that provisioning can log them.
func (o *ValidatorOptions) relaxations() []string {
	var names []string
	if o.AllowMissingExp {
		names = append(names, "allow_missing_exp")
	}
	if o.AllowRoomless {
		names = append(names, "allow_roomless")
	}
	if o.AllowPreflight {
		names = append(names, "allow_preflight")
	}
	if o.Leeway != nil && time.Duration(*o.Leeway) > tokencore.DefaultLeeway {
		names = append(names, "leeway "+time.Duration(*o.Leeway).String())
	}
	return names
}

// validatorConfig translates the options into the core's configuration.
func (o *ValidatorOptions) validatorConfig(keys [][]byte) (tokencore.ValidatorConfig, error) {
	cfg := tokencore.ValidatorConfig{
		Keys:           keys,
		MaxTokenSize:   o.MaxTokenSize,
		Sources:        o.Sources,
		Room:           coreValueSyntax(o.Room),
		LenientValues:  true,
		StripToken:     o.StripToken,
		HeaderPrefix:   o.HeaderPrefix,
		AllowPreflight: o.AllowPreflight,
		Policy: tokencore.Policy{
			AllowMissingExp: o.AllowMissingExp,
			MaxLifetime:     time.Duration(o.MaxLifetime),
			AllowRoomless:   o.AllowRoomless,
			DomainID:        o.DomainID,
			RequireOwner:    o.RequireOwner,
		},
	}

	// The core reads a zero leeway as its default and a negative one as none.
	if o.Leeway != nil {
		cfg.Policy.Leeway = time.Duration(*o.Leeway)
		if cfg.Policy.Leeway < 0 {
			return cfg, fmt.Errorf("leeway: %s is negative", cfg.Policy.Leeway)
		}
		if cfg.Policy.Leeway == 0 {
			cfg.Policy.Leeway = -1
		}
	}
	if o.MaxTokenSize < 0 {
		return cfg, fmt.Errorf("max_token_size: %d is negative", o.MaxTokenSize)
	}

	for i, spec := range o.RequirePermissions {
		permission, err := tokencore.ParsePermission(spec)
		if err != nil {
			return cfg, fmt.Errorf("require_permissions[%d]: %v", i, err)
		}
		cfg.Policy.RequiredPermissions = append(cfg.Policy.RequiredPermissions, permission)
	}
	return cfg, nil
}

// validation runs a validator for Caddy: it expands Caddy placeholders in
// configured values, sets placeholders after success, and on rejection sets
// the challenge, logs and counts.
type validation struct {
	validator *tokencore.Validator
	realm     string
	logger    *zap.Logger
	counters  *counters
}

// newValidation builds the validator from the options, with Daily's REST
// API as the verifier when api is set, and logs a warning when the options
// relax the default policy.
func newValidation(opts *ValidatorOptions, keys [][]byte, api *DailyAPI, logger *zap.Logger, c *counters) (*validation, error) {
	cfg, err := opts.validatorConfig(keys)
	if err != nil {
		return nil, err
	}
	if api != nil {
		cfg.Verifier, err = api.verifier(keys, opts.MaxTokenSize)
		if err != nil {
			return nil, err
		}
		cfg.Keys = nil
	}
	validator, err := tokencore.NewValidator(cfg)
	if err != nil {
		return nil, err
	}
	if relaxed := opts.relaxations(); len(relaxed) > 0 {
		logger.Warn("token checks relaxed by configuration", zap.Strings("options", relaxed))
	}
	return &validation{validator: validator, realm: opts.Realm, logger: logger, counters: c}, nil
}

// authorize decides on r and prepares it for the upstream. On success it
// sets the {http.auth.daily.*} placeholders and {http.auth.user.id}. On
// rejection it sets WWW-Authenticate on w and returns the error, a
// *tokencore.Error for every client mistake.
func (v *validation) authorize(w http.ResponseWriter, r *http.Request) (*tokencore.Result, error) {
	repl := replacerOf(r)
	result, err := v.validator.Authorize(r, expander(repl))
	if err != nil {
		fingerprint := ""
		if result != nil {
			fingerprint = result.Fingerprint
		}
		if status := tokencore.StatusOf(err); status == http.StatusUnauthorized || status == http.StatusForbidden {
			w.Header().Set("WWW-Authenticate", tokencore.Challenge(v.realm, err))
		}
		reject(w, v.logger, v.counters, jobValidate, fingerprint, err)
		return result, err
	}

	if result.Preflight {
		v.counters.preflight.Inc()
		return result, nil
	}
	if repl != nil {
		setClaimPlaceholders(repl, result.Claims, result.Fingerprint)
		repl.Set("http.auth.user.id", userID(result.Claims, result.Fingerprint))
	}
	v.counters.validated.Inc()
	return result, nil
}

// userID names the holder of a verified token for the access log: the
// user id, else the user name, else the token's fingerprint.
func userID(c *tokencore.Claims, fingerprint string) string {
	if c.UserID != "" {
		return c.UserID
	}
	if c.UserName != "" {
		return c.UserName
	}
	return fingerprint
}
