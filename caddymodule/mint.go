package caddymodule

import (
	"fmt"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/dailytoken/dailytoken/tokencore"
)

// MinterOptions configure the handler in mint mode.
type MinterOptions struct {
	// The claims of each minted token, by the property names of Daily's REST
	// API (room_name, user_id, user_name, is_owner, permissions, lang, ...).
	// A string value may take parts from the request: {path.N},
	// {header.Name} and {query.name} are resolved by the module, which
	// rejects the request with 400 when such a value is missing or repeated,
	// and any other Caddy placeholder, such as {http.auth.user.id} set by
	// basic_auth, is expanded by Caddy. Booleans and integers may be given
	// as strings ("true", "3600"). permissions takes the long form of the
	// REST API. exp, nbf and iat are set from lifetime and not_before.
	// Request values must come from a source the client cannot forge, such
	// as headers set by forward_auth: a minting route signs whatever they
	// contain. Default: no claims, which makes a token for every room of
	// the domain.
	Claims map[string]any `json:"claims,omitempty"`

	// How long a minted token is valid. Default: 1h
	Lifetime caddy.Duration `json:"lifetime,omitempty"`

	// Add an nbf claim set to the time of minting. Default: false
	NotBefore bool `json:"not_before,omitempty"`

	// The destination of the token: "header:Name" (into the upstream
	// request's header Name, and "Bearer <token>" in Authorization),
	// "query:name" (into the upstream request's query parameter), or
	// "response", which responds to the client with {"token": "..."}, the body
	// of Daily's POST /meeting-tokens, with Cache-Control: no-store, instead
	// of calling the next handler. A value the client sent under the same
	// name is replaced. Default: header:Authorization
	Target string `json:"target,omitempty"`
}

// setOptions returns the JSON names of the options that are set, for the
// error about options that do not fit the handler's mode.
func (o *MinterOptions) setOptions() []string {
	var names []string
	if len(o.Claims) > 0 {
		names = append(names, "claims")
	}
	if o.Lifetime != 0 {
		names = append(names, "lifetime")
	}
	if o.NotBefore {
		names = append(names, "not_before")
	}
	if o.Target != "" {
		names = append(names, "target")
	}
	return names
}

// newMinter translates the options into a core Minter, which signs with
// Daily's REST API when api is set.
func (o *MinterOptions) newMinter(keys [][]byte, api *DailyAPI) (*tokencore.Minter, error) {
	if o.Lifetime < 0 {
		return nil, fmt.Errorf("lifetime: %s is negative", time.Duration(o.Lifetime))
	}
	var signer tokencore.TokenSigner
	if api != nil {
		var err error
		signer, err = api.signer(keys)
		if err != nil {
			return nil, err
		}
		keys = nil
	}
	claims := make(map[string]any, len(o.Claims))
	for name, value := range o.Claims {
		if s, ok := value.(string); ok {
			value = coreValueSyntax(s)
		}
		claims[name] = value
	}
	return tokencore.NewMinter(tokencore.MinterConfig{
		Keys:          keys,
		Signer:        signer,
		Claims:        claims,
		Lifetime:      time.Duration(o.Lifetime),
		SetNotBefore:  o.NotBefore,
		Target:        o.Target,
		LenientValues: true,
	})
}

// serveMint mints a token for r and either responds to the client with it
// or puts it into the request and calls next. Client headers under the claim
// header prefix are removed first, as on a validating route, so neither the
// template nor the upstream can take a claim header from the client.
func (h *Handler) serveMint(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	h.claimHeaders.RemoveClientHeaders(r.Header)

	repl := replacerOf(r)
	token, claims, err := h.minter.Mint(r, expander(repl))
	if err != nil {
		reject(w, h.logger, h.counters, jobMint, "", err)
		return caddyhttp.Error(tokencore.StatusOf(err), err)
	}
	if repl != nil {
		setClaimPlaceholders(repl, claims, tokencore.Fingerprint(token))
	}
	h.counters.minted.Inc()

	if h.minter.RespondsDirectly() {
		header := w.Header()
		header.Set("Content-Type", "application/json")
		header.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, err := w.Write(tokencore.TokenResponse(token))
		return err
	}
	h.minter.Inject(r, token)
	return next.ServeHTTP(w, r)
}
