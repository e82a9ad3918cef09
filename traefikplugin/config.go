package traefikplugin

import (
	"github.com/dailytoken/dailytoken/tokencore"
)

// Modes of the middleware.
const (
	ModeValidate = "validate"
	ModeMint     = "mint"
)

// Config is the dynamic configuration of one dailytoken middleware: the
// options under `plugin.dailytoken` in a Traefik middleware definition.
//
// Traefik's decoder ignores keys that match no field. This plugin collects
// them in UnknownOptions and fails to start when there are any, and every
// default is the secure one in case an option is still lost on the way.
// Mode has no default, so a middleware without one fails to start.
//
// Durations are strings in Go syntax ("30s", "5m", "1h30m"), because Traefik
// decodes a plugin's options without a duration conversion. Lists may be
// written as YAML or TOML lists, or as one comma-separated string, the form
// Docker labels take.
type Config struct {
	// Mode is the job of the middleware: "validate" checks the meeting token
	// of each request, and "mint" creates a token for each request. Required,
	// no default.
	Mode string `json:"mode,omitempty"`

	// Keys are HMAC keys: the REST API keys of your Daily domain. A token
	// signed with any of them is valid, so a key can be rotated without
	// downtime. The first key signs minted tokens. Keys from keyFile and
	// keyEnv follow the ones listed here. At least one key is required, and
	// an empty key is an error. Default: none.
	Keys []string `json:"keys,omitempty"`

	// KeyFile is the path of a file with one key per line, such as a mounted
	// Docker or Kubernetes secret. Line endings are removed and nothing else,
	// and an empty line other than the last is an error. The file is read
	// when the middleware starts. Default: none.
	KeyFile string `json:"keyFile,omitempty"`

	// KeyEnv is the name of an environment variable of the Traefik process
	// that contains one key. Traefik gives a plugin the environment it had
	// when it started. A variable that is unset or empty is an error.
	// Default: none.
	KeyEnv string `json:"keyEnv,omitempty"`

	// Sources are the places a validating middleware takes the token from:
	// "bearer" (the Authorization header with the Bearer scheme),
	// "header:Name", "query:name" or "cookie:name". A token found in several
	// sources must be the same in all of them. Default: bearer, query:t
	// (the parameter of Daily room URLs).
	Sources []string `json:"sources,omitempty"`

	// Leeway is the clock skew allowed when checking exp, nbf and iat.
	// "0s" allows none. Default: 30s.
	Leeway string `json:"leeway,omitempty"`

	// MaxLifetime rejects a token valid for longer than this, from iat to
	// exp and from now to exp. "off" removes the limit. Tokens without exp,
	// accepted only with allowMissingExp, are not limited. Default: 24h.
	MaxLifetime string `json:"maxLifetime,omitempty"`

	// AllowMissingExp accepts tokens without an exp claim. Daily treats such
	// a token as valid forever. Default: false.
	AllowMissingExp bool `json:"allowMissingExp,omitempty"`

	// Room is the room a request must be for: a fixed room name, or a value
	// from the request, such as "{path.1}" (the second path segment),
	// "{header.X-Room}" or "{query.room}". A token for another room gets 403.
	// Default: none, so a token for any room of the domain is accepted.
	Room string `json:"room,omitempty"`

	// AllowRoomless accepts a token without a room name (r) where room is
	// set. Daily treats such a token as valid for every room of the domain.
	// Default: false.
	AllowRoomless bool `json:"allowRoomless,omitempty"`

	// DomainID is the Daily domain id (claim d) every token must carry,
	// as returned by GET /v1/ in the domain_id field. A token without it or
	// with another gets 401. Default: none, so it is not checked.
	DomainID string `json:"domainId,omitempty"`

	// RequireOwner demands meeting owner privileges (is_owner true), and
	// other tokens get 403. Default: false.
	RequireOwner bool `json:"requireOwner,omitempty"`

	// RequirePermissions are permissions every token must grant, or the
	// request gets 403: "hasPresence", "canSend", "canSend:screenVideo",
	// "canAdmin", "canAdmin:participants" and so on. "canSend" alone requires
	// permission to send every medium. Default: none.
	RequirePermissions []string `json:"requirePermissions,omitempty"`

	// StripToken removes the token from the request before it goes upstream:
	// from the Authorization header, the query parameter, the cookie or the
	// header it was found in. Other values are left as they were.
	// Default: false.
	StripToken bool `json:"stripToken,omitempty"`

	// HeaderPrefix is the prefix of the claim headers the upstream receives,
	// such as X-Daily-Room and X-Daily-User-Id. Every header the client sent
	// under this prefix is removed first, in both modes. Default: X-Daily-.
	HeaderPrefix string `json:"headerPrefix,omitempty"`

	// AllowPreflight lets CORS preflight requests (OPTIONS with Origin and
	// Access-Control-Request-Method) through to the next handler without a
	// token. Default: false, so a preflight without a token gets 401.
	AllowPreflight bool `json:"allowPreflight,omitempty"`

	// MaxTokenSize is the largest token accepted, in bytes. A larger one is
	// rejected before its signature is checked. Default: 4096.
	MaxTokenSize int `json:"maxTokenSize,omitempty"`

	// Realm is the realm parameter of the WWW-Authenticate header sent with
	// 401 and 403 responses. Default: none, so the parameter is left out.
	Realm string `json:"realm,omitempty"`

	// Claims is the template of a minted token: Daily's REST property names
	// (room_name, user_id, user_name, is_owner, permissions, ...) mapped to
	// values. A string value may take parts from the request, such as
	// "{path.1}", "{header.X-User-Id}" or "{query.name}". Take them only from
	// headers your own authentication sets, because the client controls the
	// rest. Booleans and integers may be written as strings, and permissions
	// as a JSON string. exp, nbf and iat cannot be set here. Default: none.
	//
	// NOTE: the values are interface{} because Traefik's decoder, with weak
	// typing on, turns a YAML true into "1" in a map of strings and rejects
	// a nested map such as permissions.
	Claims map[string]interface{} `json:"claims,omitempty"`

	// Lifetime is how long a minted token is valid: exp is the time of
	// minting plus this. Default: 1h.
	Lifetime string `json:"lifetime,omitempty"`

	// NotBefore adds an nbf claim set to the time of minting. Default: false.
	NotBefore bool `json:"notBefore,omitempty"`

	// Target is the destination of a minted token: "header:Name" (the
	// Authorization header gets the Bearer scheme), "query:name", or
	// "response", which returns {"token": "..."} to the client and does not
	// call the upstream. Default: header:Authorization.
	Target string `json:"target,omitempty"`

	// DailyAPI makes the middleware use Daily's REST API instead of checking
	// or signing tokens itself. A validating middleware calls
	// GET /meeting-tokens/{token} to check each token, takes its claims from
	// the response, and applies every other option to them as usual. A minting middleware gets its tokens from POST /meeting-tokens
	// and reuses a token for requests with the same claims. keys, keyFile
	// and keyEnv must then give exactly one key, the REST API key of the
	// domain. Results are cached, and a request the API does not respond to
	// in time gets 503, never a pass. Default: false.
	DailyAPI bool `json:"dailyApi,omitempty"`

	// DailyAPIBaseURL is the base URL of Daily's REST API. It must be https,
	// or http to a loopback address such as a local mock of the API,
	// because the API key and the tokens travel in each call. Used only with
	// dailyApi. Default: https://api.daily.co/v1.
	DailyAPIBaseURL string `json:"dailyApiBaseUrl,omitempty"`

	// DailyAPITimeout bounds each call to the API, connecting included. A
	// request waiting for a call that runs out of time gets 503. Used only
	// with dailyApi. Default: 3s.
	DailyAPITimeout string `json:"dailyApiTimeout,omitempty"`

	// DailyAPICacheTTL is how long a token the API accepted is accepted
	// again without another call, and never past its exp. It bounds how long
	// a token keeps working here after Daily stops accepting it. "0s" turns
	// this cache off. Validate mode with dailyApi only. Default: 1m.
	DailyAPICacheTTL string `json:"dailyApiCacheTtl,omitempty"`

	// DailyAPINegativeCacheTTL is how long a token the API rejected is
	// rejected again without another call. "0s" turns this cache off.
	// Validate mode with dailyApi only. Default: 10s.
	DailyAPINegativeCacheTTL string `json:"dailyApiNegativeCacheTtl,omitempty"`

	// DailyAPICacheSize bounds the cache of accepted tokens and, separately,
	// that of rejected tokens when validating, or the minted tokens kept for
	// reuse when minting, in entries. A full cache drops its oldest entry.
	// A negative value turns caching off, so every request calls the API.
	// Used only with dailyApi. Default: 0, which means 10000 when validating
	// and 1000 when minting.
	DailyAPICacheSize int `json:"dailyApiCacheSize,omitempty"`

	// DailyAPIMaxBackoff caps the pause after a 429 Too Many Requests
	// response of the API. During the pause no call is made, and requests that need one
	// get 503 with Retry-After. The pause is the API's Retry-After, or else
	// 1s doubled with each 429 in a row. At least 1s. Used only with
	// dailyApi. Default: 1m.
	DailyAPIMaxBackoff string `json:"dailyApiMaxBackoff,omitempty"`

	// UnknownOptions receives every option that matches no field above, so
	// that New rejects a misspelt option instead of running without it.
	// It is not an option itself. Traefik's decoder, mapstructure, fills it
	// because of the ",remain" tag.
	UnknownOptions map[string]interface{} `json:"-" mapstructure:",remain"`
}

// The core's defaults for the duration options, as users write them.
const (
	defaultLeeway              = "30s"
	defaultLifetime            = "1h"
	defaultAPITimeout          = "3s"
	defaultAPICacheTTL         = "1m"
	defaultAPINegativeCacheTTL = "10s"
	defaultAPIMaxBackoff       = "1m"
)

// CreateConfig returns the default configuration. Traefik decodes the
// middleware's options over it.
func CreateConfig() *Config {
	// Sources is a fresh slice: the decoder writes list options into the
	// default's backing array.
	return &Config{
		Sources:      append([]string(nil), tokencore.DefaultSources...),
		Leeway:       defaultLeeway,
		HeaderPrefix: tokencore.DefaultHeaderPrefix,
		MaxTokenSize: tokencore.DefaultMaxTokenSize,
		Lifetime:     defaultLifetime,
		Target:       tokencore.DefaultTarget,

		DailyAPIBaseURL:          tokencore.DefaultRESTBaseURL,
		DailyAPITimeout:          defaultAPITimeout,
		DailyAPICacheTTL:         defaultAPICacheTTL,
		DailyAPINegativeCacheTTL: defaultAPINegativeCacheTTL,
		DailyAPIMaxBackoff:       defaultAPIMaxBackoff,
	}
}
