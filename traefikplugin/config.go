package traefikplugin

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

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

	// MaxLifetime, if set, rejects a token valid for longer than this, from
	// iat to exp and from now to exp, and a token without exp. Default: no
	// limit beyond the token's own exp.
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

	// UnknownOptions receives every option that matches no field above, so
	// that New rejects a misspelt option instead of running without it.
	// It is not an option itself. Traefik's decoder, mapstructure, fills it
	// because of the ",remain" tag.
	UnknownOptions map[string]interface{} `json:"-" mapstructure:",remain"`
}

// The core's DefaultLeeway and DefaultLifetime as users write them.
const (
	defaultLeeway   = "30s"
	defaultLifetime = "1h"
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
	}
}

// kubernetesSecretPrefix starts a reference to a Kubernetes secret, such as
// urn:k8s:secret:daily-api:key, which Traefik's Kubernetes CRD provider
// replaces with the secret's value in plugin options.
const kubernetesSecretPrefix = "urn:k8s:secret:"

// loadKeys collects the keys in their documented order: keys, then keyFile,
// then keyEnv. Errors name the option and never contain a key.
func (c *Config) loadKeys() ([][]byte, error) {
	var keys [][]byte
	for i := 0; i < len(c.Keys); i++ {
		if c.Keys[i] == "" {
			return nil, fmt.Errorf("keys[%d] is empty", i)
		}
		if strings.HasPrefix(c.Keys[i], kubernetesSecretPrefix) {
			// Used as it is, the reference itself would be the key, and
			// anyone who can read the configuration could sign tokens.
			return nil, fmt.Errorf("keys[%d] is a Kubernetes secret reference that Traefik did not resolve: Traefik resolves %s only in the plugin options of a Kubernetes Middleware resource", i, kubernetesSecretPrefix)
		}
		keys = append(keys, []byte(c.Keys[i]))
	}

	if c.KeyFile != "" {
		fileKeys, err := readKeyFile(c.KeyFile)
		if err != nil {
			return nil, err
		}
		keys = append(keys, fileKeys...)
	}

	if c.KeyEnv != "" {
		value, found := os.LookupEnv(c.KeyEnv)
		if !found {
			return nil, fmt.Errorf("keyEnv: environment variable %s is not set", c.KeyEnv)
		}
		if value == "" {
			return nil, fmt.Errorf("keyEnv: environment variable %s is empty", c.KeyEnv)
		}
		keys = append(keys, []byte(value))
	}

	if len(keys) == 0 {
		return nil, fmt.Errorf("no key configured: set keys, keyFile or keyEnv")
	}
	return keys, nil
}

// readKeyFile returns the keys in path, one per line.
func readKeyFile(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keyFile: %v", err)
	}

	lines := strings.Split(string(data), "\n")
	if lines[len(lines)-1] == "" {
		// the newline that ends the last line
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("keyFile %s is empty", path)
	}

	keys := make([][]byte, 0, len(lines))
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSuffix(lines[i], "\r")
		if line == "" {
			return nil, fmt.Errorf("keyFile %s: line %d is empty", path, i+1)
		}
		keys = append(keys, []byte(line))
	}
	return keys, nil
}

// parseDuration parses the duration option named option. A negative value is
// an error. An empty value returns fallback.
func parseDuration(option, value string, fallback time.Duration) (time.Duration, error) {
	if value == "" {
		return fallback, nil
	}
	d, err := time.ParseDuration(value)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a duration, such as 30s, 5m or 1h: %v", option, value, err)
	}
	if d < 0 {
		return 0, fmt.Errorf("%s %q is negative", option, value)
	}
	return d, nil
}

// validatorConfig translates the options of a validating middleware into the
// core's configuration, checking each option so that an error names it.
func (c *Config) validatorConfig(keys [][]byte) (tokencore.ValidatorConfig, error) {
	cfg := tokencore.ValidatorConfig{
		Keys:           keys,
		Sources:        c.Sources,
		Room:           c.Room,
		StripToken:     c.StripToken,
		HeaderPrefix:   c.HeaderPrefix,
		AllowPreflight: c.AllowPreflight,
		MaxTokenSize:   c.MaxTokenSize,
		Policy: tokencore.Policy{
			AllowMissingExp: c.AllowMissingExp,
			AllowRoomless:   c.AllowRoomless,
			DomainID:        c.DomainID,
			RequireOwner:    c.RequireOwner,
		},
	}

	// durations
	leeway, err := parseDuration("leeway", c.Leeway, tokencore.DefaultLeeway)
	if err != nil {
		return cfg, err
	}
	if leeway == 0 {
		// The core reads zero as its default and a negative leeway as none.
		leeway = -1
	}
	cfg.Policy.Leeway = leeway
	cfg.Policy.MaxLifetime, err = parseDuration("maxLifetime", c.MaxLifetime, 0)
	if err != nil {
		return cfg, err
	}

	// token sources
	for i := 0; i < len(c.Sources); i++ {
		if _, err := tokencore.ParseSource(c.Sources[i]); err != nil {
			return cfg, fmt.Errorf("sources[%d]: %v", i, err)
		}
	}
	if c.MaxTokenSize < 0 {
		return cfg, fmt.Errorf("maxTokenSize %d is negative", c.MaxTokenSize)
	}
	if _, err := tokencore.NewExtractor(c.Sources, c.MaxTokenSize); err != nil {
		return cfg, fmt.Errorf("sources: %v", err)
	}

	// room, domain and grants
	if c.Room != "" {
		if _, err := tokencore.ParseRequestValue(c.Room); err != nil {
			return cfg, fmt.Errorf("room: %v", err)
		}
	}
	if c.DomainID != strings.TrimSpace(c.DomainID) {
		return cfg, fmt.Errorf("domainId %q has leading or trailing spaces", c.DomainID)
	}
	for i := 0; i < len(c.RequirePermissions); i++ {
		permission, err := tokencore.ParsePermission(c.RequirePermissions[i])
		if err != nil {
			return cfg, fmt.Errorf("requirePermissions[%d]: %v", i, err)
		}
		cfg.Policy.RequiredPermissions = append(cfg.Policy.RequiredPermissions, permission)
	}

	// claim headers
	if _, err := tokencore.NewClaimHeaders(c.HeaderPrefix); err != nil {
		return cfg, fmt.Errorf("headerPrefix: %v", err)
	}
	return cfg, nil
}

// minterConfig translates the options of a minting middleware into the
// core's configuration.
func (c *Config) minterConfig(keys [][]byte) (tokencore.MinterConfig, error) {
	cfg := tokencore.MinterConfig{
		Keys:         keys,
		Claims:       c.Claims,
		SetNotBefore: c.NotBefore,
		Target:       c.Target,
	}

	lifetime, err := parseDuration("lifetime", c.Lifetime, tokencore.DefaultLifetime)
	if err != nil {
		return cfg, err
	}
	if lifetime == 0 {
		return cfg, fmt.Errorf("lifetime %q must be positive", c.Lifetime)
	}
	cfg.Lifetime = lifetime

	// The target is checked alone first, so that an error from the core
	// names the right option.
	if _, err := tokencore.NewMinter(tokencore.MinterConfig{Keys: keys, Target: c.Target}); err != nil {
		return cfg, fmt.Errorf("target: %v", err)
	}
	if _, err := tokencore.NewClaimHeaders(c.HeaderPrefix); err != nil {
		return cfg, fmt.Errorf("headerPrefix: %v", err)
	}
	return cfg, nil
}

// checkUnknownOptions rejects options that match no field, such as
// domain_id for domainId. Traefik itself ignores them, so a misspelt
// restriction would otherwise be lost without a word.
func (c *Config) checkUnknownOptions() error {
	if len(c.UnknownOptions) == 0 {
		return nil
	}
	names := make([]string, 0, len(c.UnknownOptions))
	for name := range c.UnknownOptions {
		names = append(names, name)
	}
	sort.Strings(names)
	return fmt.Errorf("unknown option %s: check the spelling against the options %s", strings.Join(names, ", "), optionNames)
}

// optionNames lists the options for error messages.
const optionNames = "mode, keys, keyFile, keyEnv, sources, leeway, maxLifetime, allowMissingExp, room, allowRoomless, " +
	"domainId, requireOwner, requirePermissions, stripToken, headerPrefix, allowPreflight, maxTokenSize, realm, " +
	"claims, lifetime, notBefore, target"

// checkModeOptions rejects an option of the other mode set to something
// other than its default, such as room on a minting middleware. The option
// would be ignored, so the route would not do what its configuration states.
func (c *Config) checkModeOptions() error {
	defaults := CreateConfig()
	var misplaced []string
	if c.Mode == ModeMint {
		if !sameStrings(c.Sources, defaults.Sources) {
			misplaced = append(misplaced, "sources")
		}
		if c.Leeway != defaults.Leeway {
			misplaced = append(misplaced, "leeway")
		}
		if c.MaxLifetime != "" {
			misplaced = append(misplaced, "maxLifetime")
		}
		if c.AllowMissingExp {
			misplaced = append(misplaced, "allowMissingExp")
		}
		if c.Room != "" {
			misplaced = append(misplaced, "room")
		}
		if c.AllowRoomless {
			misplaced = append(misplaced, "allowRoomless")
		}
		if c.DomainID != "" {
			misplaced = append(misplaced, "domainId")
		}
		if c.RequireOwner {
			misplaced = append(misplaced, "requireOwner")
		}
		if len(c.RequirePermissions) > 0 {
			misplaced = append(misplaced, "requirePermissions")
		}
		if c.StripToken {
			misplaced = append(misplaced, "stripToken")
		}
		if c.AllowPreflight {
			misplaced = append(misplaced, "allowPreflight")
		}
		if c.MaxTokenSize != defaults.MaxTokenSize {
			misplaced = append(misplaced, "maxTokenSize")
		}
		if c.Realm != "" {
			misplaced = append(misplaced, "realm")
		}
	} else {
		if len(c.Claims) > 0 {
			misplaced = append(misplaced, "claims")
		}
		if c.Lifetime != defaults.Lifetime {
			misplaced = append(misplaced, "lifetime")
		}
		if c.NotBefore {
			misplaced = append(misplaced, "notBefore")
		}
		if c.Target != defaults.Target {
			misplaced = append(misplaced, "target")
		}
	}

	switch len(misplaced) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("option %s is not used in mode %s: remove it or change the mode", misplaced[0], c.Mode)
	}
	return fmt.Errorf("options %s are not used in mode %s: remove them or change the mode", strings.Join(misplaced, ", "), c.Mode)
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
