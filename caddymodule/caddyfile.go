package caddymodule

import (
	"encoding/json"
	"strconv"

	"github.com/dustin/go-humanize"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("daily_token", parseCaddyfile)

	// After basic_auth and forward_auth, so the operator's own
	// authentication decides first and a minting route can take claim
	// values from the headers forward_auth copied from its auth service.
	// Before request_header, rewrites inside handle blocks, and the
	// handlers that write responses (respond, reverse_proxy, file_server),
	// so the token is checked or injected before anything reaches the
	// upstream.
	httpcaddyfile.RegisterDirectiveOrder("daily_token", httpcaddyfile.After, "forward_auth")
}

// parseCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	daily_token [<matcher>] [validate|mint] {
//	    keys <key>...
//	    header_prefix <prefix>
//	    daily_api [<base_url>] {
//	        timeout <duration>
//	        max_backoff <duration>
//	        cache_size <entries>
//	        cache_ttl <duration>
//	        negative_cache_ttl <duration>
//	    }
//
//	    # validate (the default)
//	    sources <bearer|header:Name|query:name|cookie:name>...
//	    leeway <duration>
//	    max_lifetime <duration>|off
//	    allow_missing_exp
//	    room <value>
//	    allow_roomless
//	    domain_id <id>
//	    require_owner
//	    require_permissions <permission>...
//	    strip_token
//	    allow_preflight
//	    max_token_size <size>
//	    realm <realm>
//
//	    # mint
//	    claim <property> <value>
//	    lifetime <duration>
//	    not_before
//	    target <header:Name|query:name|response>
//	}
//
// keys and require_permissions may repeat, adding to the list; claim
// repeats once per property. A claim value that is a JSON object, such as
// permissions, is written in backticks: claim permissions `{"canSend": false}`.
func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	handler := new(Handler)
	err := handler.UnmarshalCaddyfile(h.Dispenser)
	return handler, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens; see
// parseCaddyfile for the syntax.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume directive name

	// mode
	args := d.RemainingArgs()
	switch len(args) {
	case 0:
	case 1:
		if args[0] != ModeValidate && args[0] != ModeMint {
			return d.Errf("unknown mode '%s', expected %s or %s", args[0], ModeValidate, ModeMint)
		}
		h.Mode = args[0]
	default:
		return d.ArgErr()
	}
	mode := h.Mode
	if mode == "" {
		mode = ModeValidate
	}

	// subdirectives
	for d.NextBlock(0) {
		name := d.Val()
		switch name {
		case "keys":
			keys := d.RemainingArgs()
			if len(keys) == 0 {
				return d.ArgErr()
			}
			h.Keys = append(h.Keys, keys...)
			continue
		case "header_prefix":
			prefix, err := parseValue(d)
			if err != nil {
				return err
			}
			h.HeaderPrefix = prefix
			continue
		case "daily_api":
			api, err := parseDailyAPI(d)
			if err != nil {
				return err
			}
			h.DailyAPI = api
			continue
		}

		known, err := parseValidatorOption(d, &h.ValidatorOptions)
		if err != nil {
			return err
		}
		if known {
			if mode == ModeMint {
				return d.Errf("'%s' is a validate option, and this daily_token mints", name)
			}
			continue
		}

		known, err = parseMinterOption(d, &h.MinterOptions)
		if err != nil {
			return err
		}
		if known {
			if mode == ModeValidate {
				return d.Errf("'%s' is a mint option; write 'daily_token mint' to mint tokens", name)
			}
			continue
		}
		return d.Errf("unrecognized daily_token subdirective '%s'", name)
	}
	return nil
}

// parseValidatorOption parses the subdirective at d into opts. known is
// false when the subdirective is not a validate option.
func parseValidatorOption(d *caddyfile.Dispenser, opts *ValidatorOptions) (known bool, err error) {
	switch d.Val() {
	case "sources":
		opts.Sources, err = parseList(d, opts.Sources)
	case "leeway":
		var leeway caddy.Duration
		leeway, err = parseDuration(d)
		opts.Leeway = &leeway
	case "max_lifetime":
		if d.CountRemainingArgs() == 1 && d.NextArg() {
			if d.Val() == "off" {
				opts.MaxLifetime = -1
				break
			}
			d.Prev()
		}
		opts.MaxLifetime, err = parseDuration(d)
	case "allow_missing_exp":
		opts.AllowMissingExp, err = true, parseFlag(d)
	case "room":
		opts.Room, err = parseValue(d)
	case "allow_roomless":
		opts.AllowRoomless, err = true, parseFlag(d)
	case "domain_id":
		opts.DomainID, err = parseValue(d)
	case "require_owner":
		opts.RequireOwner, err = true, parseFlag(d)
	case "require_permissions":
		opts.RequirePermissions, err = parseList(d, opts.RequirePermissions)
	case "strip_token":
		opts.StripToken, err = true, parseFlag(d)
	case "allow_preflight":
		opts.AllowPreflight, err = true, parseFlag(d)
	case "max_token_size":
		opts.MaxTokenSize, err = parseSize(d)
	case "realm":
		opts.Realm, err = parseValue(d)
	default:
		return false, nil
	}
	return true, err
}

// parseMinterOption parses the subdirective at d into opts. known is false
// when the subdirective is not a mint option.
func parseMinterOption(d *caddyfile.Dispenser, opts *MinterOptions) (known bool, err error) {
	switch d.Val() {
	case "claim":
		var property, value string
		if !d.AllArgs(&property, &value) {
			return true, d.ArgErr()
		}
		if _, exists := opts.Claims[property]; exists {
			return true, d.Errf("claim '%s' is set twice", property)
		}
		if opts.Claims == nil {
			opts.Claims = map[string]any{}
		}
		opts.Claims[property] = claimValue(value)
	case "lifetime":
		opts.Lifetime, err = parseDuration(d)
	case "not_before":
		opts.NotBefore, err = true, parseFlag(d)
	case "target":
		opts.Target, err = parseValue(d)
	default:
		return false, nil
	}
	return true, err
}

// parseDailyAPI reads the daily_api subdirective and its block.
func parseDailyAPI(d *caddyfile.Dispenser) (*DailyAPI, error) {
	api := &DailyAPI{}
	args := d.RemainingArgs()
	switch len(args) {
	case 0:
	case 1:
		api.BaseURL = args[0]
	default:
		return nil, d.ArgErr()
	}

	var err error
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch d.Val() {
		case "timeout":
			api.Timeout, err = parseDuration(d)
		case "max_backoff":
			api.MaxBackoff, err = parseDuration(d)
		case "cache_size":
			api.CacheSize, err = parseInt(d)
		case "cache_ttl":
			api.CacheTTL, err = parseDuration(d)
		case "negative_cache_ttl":
			api.NegativeCacheTTL, err = parseDuration(d)
		default:
			return nil, d.Errf("unrecognized daily_api subdirective '%s'", d.Val())
		}
		if err != nil {
			return nil, err
		}
	}
	return api, nil
}

// parseInt reads one integer argument.
func parseInt(d *caddyfile.Dispenser) (int, error) {
	name := d.Val()
	value, err := parseValue(d)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(value)
	if err != nil {
		return 0, d.Errf("%s: invalid integer '%s'", name, value)
	}
	return n, nil
}

// claimValue keeps a JSON object, such as a permissions value, as JSON, so
// that the adapted config shows it as an object. Every other value stays
// text, and the core converts it to the claim's type.
func claimValue(value string) any {
	if len(value) > 0 && value[0] == '{' && json.Valid([]byte(value)) {
		return json.RawMessage(value)
	}
	return value
}

// parseValue reads the one argument of the subdirective at d.
func parseValue(d *caddyfile.Dispenser) (string, error) {
	var value string
	if !d.AllArgs(&value) {
		return "", d.ArgErr()
	}
	return value, nil
}

// parseList reads one or more arguments and appends them to list.
func parseList(d *caddyfile.Dispenser, list []string) ([]string, error) {
	args := d.RemainingArgs()
	if len(args) == 0 {
		return list, d.ArgErr()
	}
	return append(list, args...), nil
}

// parseFlag checks that the subdirective at d, an on switch, has no argument.
func parseFlag(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

// parseDuration reads one duration argument, such as 30s, 15m or 1d.
func parseDuration(d *caddyfile.Dispenser) (caddy.Duration, error) {
	name := d.Val()
	value, err := parseValue(d)
	if err != nil {
		return 0, err
	}
	duration, err := caddy.ParseDuration(value)
	if err != nil {
		return 0, d.Errf("%s: invalid duration '%s': %v", name, value, err)
	}
	return caddy.Duration(duration), nil
}

// parseSize reads one size argument in bytes, such as 4096 or 8KiB.
func parseSize(d *caddyfile.Dispenser) (int, error) {
	name := d.Val()
	value, err := parseValue(d)
	if err != nil {
		return 0, err
	}
	size, err := humanize.ParseBytes(value)
	if err != nil {
		return 0, d.Errf("%s: invalid size '%s': %v", name, value, err)
	}
	if size > 1<<30 {
		return 0, d.Errf("%s: %s is over the maximum of 1GiB", name, value)
	}
	return int(size), nil
}

// Interface guards
var (
	_ caddyfile.Unmarshaler = (*Handler)(nil)
)
