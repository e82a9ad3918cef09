// Package traefikplugin is the Traefik v3 middleware plugin of dailytoken:
// it validates Daily meeting tokens on incoming requests, or mints tokens and
// passes them upstream or back to the client. Traefik runs it in the Yaegi
// interpreter, so it uses the standard library and tokencore only, and every
// decision is made by tokencore.
package traefikplugin

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/dailytoken/dailytoken/tokencore"
)

// Middleware is one configured dailytoken middleware. It starts no
// goroutine, so Traefik can create and drop one per router on every
// configuration reload. The state it keeps between requests is its own: in
// REST API mode the core's caches, and the counts of its failure log. A
// call to Daily's REST API runs in a goroutine of the core that ends with
// the call, within dailyApiTimeout.
type Middleware struct {
	next      http.Handler
	realm     string
	validator *tokencore.Validator
	minter    *tokencore.Minter
	headers   *tokencore.ClaimHeaders
	failures  *failureLog

	// extractor finds the token of a request again when a server failure
	// is printed, to keep the token out of the output.
	extractor *tokencore.Extractor
}

// New checks config and returns the middleware for one router. Traefik calls
// it with the router's next handler and the middleware's qualified name, such
// as "daily-auth@file", on start-up and on every configuration reload. Errors
// name the option at fault.
func New(ctx context.Context, next http.Handler, config *Config, name string) (http.Handler, error) {
	m, err := newMiddleware(next, config, name)
	if err != nil {
		return nil, fmt.Errorf("dailytoken: %v", err)
	}
	return m, nil
}

func newMiddleware(next http.Handler, config *Config, name string) (*Middleware, error) {
	if config == nil {
		return nil, fmt.Errorf("no configuration")
	}
	if next == nil {
		return nil, fmt.Errorf("no next handler")
	}
	m := &Middleware{next: next, realm: config.Realm}

	// options
	if err := config.checkUnknownOptions(); err != nil {
		return nil, err
	}

	// mode
	if config.Mode == "" {
		return nil, fmt.Errorf("mode is not set: set it to %s or %s", ModeValidate, ModeMint)
	}
	if config.Mode != ModeValidate && config.Mode != ModeMint {
		return nil, fmt.Errorf("mode %q is unknown: expected %s or %s", config.Mode, ModeValidate, ModeMint)
	}
	if err := config.checkModeOptions(); err != nil {
		return nil, err
	}
	if err := config.checkDailyAPIOptions(); err != nil {
		return nil, err
	}

	// keys
	keys, err := config.loadKeys()
	if err != nil {
		return nil, err
	}
	m.failures = newFailureLog(name, keys)

	// Daily's REST API, which checks or signs tokens in place of the keys
	var client *tokencore.RESTClient
	if config.DailyAPI {
		client, err = config.restClient(keys)
		if err != nil {
			return nil, err
		}
	}

	// claim headers, which a minting middleware also removes from the request
	headers, err := tokencore.NewClaimHeaders(config.HeaderPrefix)
	if err != nil {
		return nil, fmt.Errorf("headerPrefix: %v", err)
	}
	m.headers = headers

	// the core
	if config.Mode == ModeValidate {
		cfg, err := config.validatorConfig(keys)
		if err != nil {
			return nil, err
		}
		if client != nil {
			introspectorCfg, err := config.introspectorConfig(client)
			if err != nil {
				return nil, err
			}
			// NOTE: Yaegi v0.16.1 panics when a call's results are assigned
			// to an interface field and err together, so the result goes to
			// a variable first.
			introspector, err := tokencore.NewIntrospector(introspectorCfg)
			if err != nil {
				return nil, fmt.Errorf("dailyApi: %v", err)
			}
			cfg.Verifier = introspector
		}
		m.validator, err = tokencore.NewValidator(cfg)
		if err != nil {
			return nil, err
		}
		m.extractor, err = tokencore.NewExtractor(cfg.Sources, cfg.MaxTokenSize)
		if err != nil {
			return nil, fmt.Errorf("sources: %v", err)
		}
	} else {
		cfg, err := config.minterConfig(keys)
		if err != nil {
			return nil, err
		}
		if client != nil {
			signer, err := tokencore.NewRESTSigner(config.signerConfig(client))
			if err != nil {
				return nil, fmt.Errorf("dailyApi: %v", err)
			}
			cfg.Signer = signer
		}
		m.minter, err = tokencore.NewMinter(cfg)
		if err != nil {
			return nil, fmt.Errorf("claims: %v", err)
		}
	}

	config.warnRelaxations(name)
	return m, nil
}

// ServeHTTP validates or mints the token of r.
func (m *Middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if m.validator != nil {
		m.serveValidate(w, r)
		return
	}
	m.serveMint(w, r)
}

// serveValidate passes r to the next handler with the claim headers set, or
// rejects it with the reason.
func (m *Middleware) serveValidate(w http.ResponseWriter, r *http.Request) {
	if _, err := m.validator.Authorize(r, nil); err != nil {
		m.reject(w, r, err)
		return
	}
	m.next.ServeHTTP(w, r)
}

// serveMint mints a token for r and injects it into the upstream request or
// returns it to the client in the response.
func (m *Middleware) serveMint(w http.ResponseWriter, r *http.Request) {
	m.headers.RemoveClientHeaders(r.Header)

	token, _, err := m.minter.Mint(r, nil)
	if err != nil {
		m.reject(w, r, err)
		return
	}

	if m.minter.RespondsDirectly() {
		header := w.Header()
		header.Set("Content-Type", "application/json")
		header.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(tokencore.TokenResponse(token))
		return
	}
	m.minter.Inject(r, token)
	m.next.ServeHTTP(w, r)
}

// reject writes the response to a rejected request r: the status of err's
// kind, a JSON body {"error": reason, "info": description}, for 401 and 403
// a WWW-Authenticate challenge, and Retry-After when err carries a retry
// delay, as when Daily's REST API rate-limits this proxy. The description
// never contains a token or key. A server failure (5xx) is also printed.
// err must be the error as the core returned it: under Yaegi a wrapper hides
// the *RESTError and its retry delay.
func (m *Middleware) reject(w http.ResponseWriter, r *http.Request, err error) {
	status := tokencore.StatusOf(err)
	header := w.Header()
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		header.Set("WWW-Authenticate", tokencore.Challenge(m.realm, err))
	}
	if e, ok := tokencore.AsError(err); ok && e.RetryAfter > 0 {
		header.Set("Retry-After", strconv.FormatInt(int64((e.RetryAfter+time.Second-1)/time.Second), 10))
	}
	header.Set("Content-Type", "application/json")
	header.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(tokencore.ErrorBody(err))

	if status >= http.StatusInternalServerError {
		m.failures.record(status, err, m.requestToken(r))
	}
}

// requestToken returns the token of a rejected validating request, or "" on
// a minting route or when there is none.
func (m *Middleware) requestToken(r *http.Request) string {
	if m.extractor == nil {
		return ""
	}
	extraction, err := m.extractor.Extract(r)
	if err != nil {
		return ""
	}
	return extraction.Token
}

// warnRelaxations prints the relaxed security settings of a middleware that
// started. Traefik logs what a plugin prints at debug level. It must be
// fmt.Printf: Yaegi sends fmt.Print* to Traefik's log, but a write to
// os.Stdout goes to the process's standard output and bypasses it.
func (c *Config) warnRelaxations(name string) {
	if c.Mode == ModeMint {
		if _, scoped := c.Claims["room_name"]; !scoped {
			fmt.Printf("dailytoken: middleware %s: claims has no room_name, so minted tokens are valid for every room of the domain\n", name)
		}
		return
	}
	if c.Mode != ModeValidate {
		return
	}
	if c.AllowMissingExp {
		fmt.Printf("dailytoken: middleware %s: allowMissingExp is on, so tokens without exp never expire\n", name)
	}
	if c.Room != "" && c.AllowRoomless {
		fmt.Printf("dailytoken: middleware %s: allowRoomless is on, so tokens valid for every room pass\n", name)
	}
}
