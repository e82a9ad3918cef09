package traefikplugin

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dailytoken/dailytoken/tokencore"
)

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
	// The core reads zero as its default and a negative limit as none.
	if c.MaxLifetime == "off" {
		cfg.Policy.MaxLifetime = -1
	} else {
		cfg.Policy.MaxLifetime, err = parseDuration("maxLifetime", c.MaxLifetime, 0)
		if err != nil {
			return cfg, err
		}
		if c.MaxLifetime != "" && cfg.Policy.MaxLifetime == 0 {
			return cfg, fmt.Errorf("maxLifetime %q is zero: set a positive duration, or off for no limit", c.MaxLifetime)
		}
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
	"claims, lifetime, notBefore, target, dailyApi, dailyApiBaseUrl, dailyApiTimeout, dailyApiCacheTtl, " +
	"dailyApiNegativeCacheTtl, dailyApiCacheSize, dailyApiMaxBackoff"

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
		if c.DailyAPICacheTTL != defaults.DailyAPICacheTTL {
			misplaced = append(misplaced, "dailyApiCacheTtl")
		}
		if c.DailyAPINegativeCacheTTL != defaults.DailyAPINegativeCacheTTL {
			misplaced = append(misplaced, "dailyApiNegativeCacheTtl")
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

// checkDailyAPIOptions rejects an option of Daily's REST API mode set to
// something other than its default while dailyApi is off, because the
// middleware would not call the API at all.
func (c *Config) checkDailyAPIOptions() error {
	if c.DailyAPI {
		return nil
	}
	defaults := CreateConfig()
	var unused []string
	if c.DailyAPIBaseURL != defaults.DailyAPIBaseURL {
		unused = append(unused, "dailyApiBaseUrl")
	}
	if c.DailyAPITimeout != defaults.DailyAPITimeout {
		unused = append(unused, "dailyApiTimeout")
	}
	if c.DailyAPICacheTTL != defaults.DailyAPICacheTTL {
		unused = append(unused, "dailyApiCacheTtl")
	}
	if c.DailyAPINegativeCacheTTL != defaults.DailyAPINegativeCacheTTL {
		unused = append(unused, "dailyApiNegativeCacheTtl")
	}
	if c.DailyAPICacheSize != defaults.DailyAPICacheSize {
		unused = append(unused, "dailyApiCacheSize")
	}
	if c.DailyAPIMaxBackoff != defaults.DailyAPIMaxBackoff {
		unused = append(unused, "dailyApiMaxBackoff")
	}

	switch len(unused) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("option %s is used only with dailyApi: true: set dailyApi or remove the option", unused[0])
	}
	return fmt.Errorf("options %s are used only with dailyApi: true: set dailyApi or remove them", strings.Join(unused, ", "))
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
