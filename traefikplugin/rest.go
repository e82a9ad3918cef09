package traefikplugin

import (
	"fmt"

	"github.com/dailytoken/dailytoken/tokencore"
)

// urlCheckKey is a stand-in API key for checking dailyApiBaseUrl alone.
const urlCheckKey = "placeholder-for-the-url-check"

// restClient checks the options of Daily's REST API mode and returns the
// client that makes the calls. The one key is the API key: Daily's REST API
// key is also the HMAC key of the domain's tokens, and the API, not this
// middleware, then checks them.
func (c *Config) restClient(keys [][]byte) (*tokencore.RESTClient, error) {
	if len(keys) != 1 {
		return nil, fmt.Errorf("dailyApi: keys, keyFile and keyEnv must give exactly one key, the REST API key, and they give %d", len(keys))
	}

	// base URL and durations
	if err := checkBaseURL(c.DailyAPIBaseURL); err != nil {
		return nil, err
	}
	timeout, err := parseDuration("dailyApiTimeout", c.DailyAPITimeout, tokencore.DefaultRESTTimeout)
	if err != nil {
		return nil, err
	}
	if timeout == 0 {
		return nil, fmt.Errorf("dailyApiTimeout %q must be positive", c.DailyAPITimeout)
	}
	maxBackoff, err := parseDuration("dailyApiMaxBackoff", c.DailyAPIMaxBackoff, tokencore.DefaultRESTMaxBackoff)
	if err != nil {
		return nil, err
	}
	// The core checks the back-off; a stand-in key lets the error name the option.
	if _, err := tokencore.NewRESTClient(tokencore.RESTConfig{APIKey: urlCheckKey, MaxBackoff: maxBackoff}); err != nil {
		return nil, fmt.Errorf("dailyApiMaxBackoff: %v", err)
	}

	client, err := tokencore.NewRESTClient(tokencore.RESTConfig{
		APIKey:     string(keys[0]),
		BaseURL:    c.DailyAPIBaseURL,
		Timeout:    timeout,
		MaxBackoff: maxBackoff,
	})
	if err != nil {
		// checkBaseURL passed, so the core rejected the key, which must fit
		// in the Authorization header of each call.
		return nil, fmt.Errorf("dailyApi: the key: %v", err)
	}
	return client, nil
}

// checkBaseURL checks dailyApiBaseUrl. The core checks the URL together
// with the key when it builds the client. Checking the URL alone first, with
// a stand-in key, lets an error name the option.
func checkBaseURL(raw string) error {
	if _, err := tokencore.NewRESTClient(tokencore.RESTConfig{APIKey: urlCheckKey, BaseURL: raw}); err != nil {
		return fmt.Errorf("dailyApiBaseUrl: %v", err)
	}
	return nil
}

// introspectorConfig translates the cache options of a validating
// middleware into the core's configuration. In the options "0s" turns a
// cache off, and in the core a negative TTL does.
func (c *Config) introspectorConfig(client *tokencore.RESTClient) (tokencore.IntrospectorConfig, error) {
	cfg := tokencore.IntrospectorConfig{
		Client:       client,
		MaxTokenSize: c.MaxTokenSize,
		CacheSize:    c.DailyAPICacheSize,
	}

	ttl, err := parseDuration("dailyApiCacheTtl", c.DailyAPICacheTTL, tokencore.DefaultIntrospectionCacheTTL)
	if err != nil {
		return cfg, err
	}
	if ttl == 0 {
		ttl = -1
	}
	cfg.CacheTTL = ttl

	negativeTTL, err := parseDuration("dailyApiNegativeCacheTtl", c.DailyAPINegativeCacheTTL, tokencore.DefaultNegativeCacheTTL)
	if err != nil {
		return cfg, err
	}
	if negativeTTL == 0 {
		negativeTTL = -1
	}
	cfg.NegativeCacheTTL = negativeTTL
	return cfg, nil
}

// signerConfig translates the cache option of a minting middleware into the
// core's configuration.
func (c *Config) signerConfig(client *tokencore.RESTClient) tokencore.RESTSignerConfig {
	return tokencore.RESTSignerConfig{Client: client, CacheSize: c.DailyAPICacheSize}
}
