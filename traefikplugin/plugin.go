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

	"github.com/dailytoken/dailytoken/tokencore"
)

// Middleware is one configured dailytoken middleware. It keeps no state
// between requests and starts no goroutine, so Traefik can create and drop
// one per router on every configuration reload.
type Middleware struct {
	next      http.Handler
	realm     string
	validator *tokencore.Validator
	minter    *tokencore.Minter
	headers   *tokencore.ClaimHeaders
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

	// keys
	keys, err := config.loadKeys()
	if err != nil {
		return nil, err
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
		m.validator, err = tokencore.NewValidator(cfg)
		if err != nil {
			return nil, err
		}
	} else {
		cfg, err := config.minterConfig(keys)
		if err != nil {
			return nil, err
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
		m.reject(w, err)
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
		m.reject(w, err)
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

// reject writes the response to a rejected request: the status of err's kind, a JSON body
// {"error": reason, "info": description}, and for 401 and 403 a
// WWW-Authenticate challenge. The description never contains a token or key.
func (m *Middleware) reject(w http.ResponseWriter, err error) {
	status := tokencore.StatusOf(err)
	header := w.Header()
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		header.Set("WWW-Authenticate", tokencore.Challenge(m.realm, err))
	}
	header.Set("Content-Type", "application/json")
	header.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(tokencore.ErrorBody(err))
}

// warnRelaxations prints the relaxed security settings of a middleware that
// started. Traefik logs what a plugin prints at debug level. It must be
// fmt.Printf: Yaegi sends fmt.Print* to Traefik's log, but a write to
// os.Stdout goes to the process's standard output and bypasses it.
func (c *Config) warnRelaxations(name string) {
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
