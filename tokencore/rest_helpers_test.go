package tokencore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dailytoken/dailytoken/internal/dailymock"
	"github.com/dailytoken/dailytoken/tokencore"
)

// restTestKey is the API key the mock expects, in place of a Daily key.
const restTestKey = "mock-api-key-0c8e4f1a9b2d7e6f5a3c"

// restTestTimeout is the fixture's call timeout: long enough that a call
// never times out by accident on a loaded machine, for tests that do not
// test the timeout.
const restTestTimeout = 30 * time.Second

// testClock is a clock that moves only when Advance is called.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Now().Truncate(time.Second)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// restFixture is a mock API and a client and introspector aimed at it, all
// on one test clock. The mock quotes the token and the key in its error
// texts, and every error the fixture's methods return is checked at the end
// of the test for the key and every token the test made.
type restFixture struct {
	t            *testing.T
	mock         *dailymock.Server
	clock        *testClock
	client       *tokencore.RESTClient
	introspector *tokencore.Introspector

	mu      sync.Mutex
	secrets []string
	errs    []error
}

// newRESTFixture starts the mock and builds the client from cfg, whose
// BaseURL, Now and, when empty, APIKey and Timeout the fixture fills in.
func newRESTFixture(t *testing.T, cfg tokencore.RESTConfig, introspection tokencore.IntrospectorConfig) *restFixture {
	t.Helper()

	f := &restFixture{t: t, mock: dailymock.New(t, restTestKey), clock: newTestClock()}
	f.mock.SetNow(f.clock.Now)
	f.mock.SetEchoSecrets(true)
	f.secrets = []string{restTestKey}

	cfg.BaseURL = f.mock.URL
	cfg.Now = f.clock.Now
	if cfg.APIKey == "" {
		cfg.APIKey = restTestKey
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = restTestTimeout
	}
	f.secrets = append(f.secrets, cfg.APIKey)
	client, err := tokencore.NewRESTClient(cfg)
	if err != nil {
		t.Fatalf("NewRESTClient: %v", err)
	}
	f.client = client

	introspection.Client = client
	introspector, err := tokencore.NewIntrospector(introspection)
	if err != nil {
		t.Fatalf("NewIntrospector: %v", err)
	}
	f.introspector = introspector

	t.Cleanup(f.checkSecrets)
	return f
}

// token returns a token signed by the mock for room, valid for lifetime
// from the fixture's clock, and registers it as a secret.
func (f *restFixture) token(room string, owner bool, lifetime time.Duration) string {
	f.t.Helper()
	return f.tokenFor(claimsFor(room, owner, f.clock.Now(), lifetime))
}

// tokenFor returns a token for claims signed by the mock and registers it as
// a secret.
func (f *restFixture) tokenFor(claims *tokencore.Claims) string {
	f.t.Helper()
	token := f.mock.Token(claims)
	f.addSecret(token)
	return token
}

func (f *restFixture) addSecret(secret string) {
	f.mu.Lock()
	f.secrets = append(f.secrets, secret)
	f.mu.Unlock()
}

// verify calls the introspector and records the error for checkSecrets.
func (f *restFixture) verify(ctx context.Context, token string) (*tokencore.Claims, error) {
	claims, _, err := f.introspector.VerifyToken(ctx, token)
	f.record(err)
	return claims, err
}

func (f *restFixture) record(err error) {
	if err == nil {
		return
	}
	f.mu.Lock()
	f.errs = append(f.errs, err)
	f.mu.Unlock()
}

// checkSecrets fails the test if any recorded error shows a secret in its
// message, its formatted value or its RESTError fields. A secret is a key, a
// token, or a piece of a token long enough to identify it, because a
// shortened message can cut a token short.
func (f *restFixture) checkSecrets() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, err := range f.errs {
		for _, text := range errorTexts(err) {
			for _, secret := range f.secrets {
				for _, piece := range secretPieces(secret) {
					if strings.Contains(text, piece) {
						f.t.Errorf("error text %q contains a secret (a token or the API key)", text)
					}
				}
			}
		}
	}
}

// secretPieces returns secret and, for a token, the first 16 characters of
// its payload and its signature. The header is left out: every token here
// has the same one.
func secretPieces(secret string) []string {
	pieces := []string{secret}
	segments := strings.Split(secret, ".")
	if len(segments) == 3 {
		if len(segments[1]) > 16 {
			pieces = append(pieces, segments[1][:16])
		}
		pieces = append(pieces, segments[2])
	}
	return pieces
}

// errorTexts returns every text an adapter could log or send for err.
func errorTexts(err error) []string {
	texts := []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), string(tokencore.ErrorBody(err)), tokencore.Challenge("daily", err)}
	if e, ok := tokencore.AsError(err); ok {
		texts = append(texts, e.Description, fmt.Sprintf("%#v", *e))
	}
	if e, ok := tokencore.AsRESTError(err); ok {
		texts = append(texts, e.Info, e.APIError, e.Endpoint, fmt.Sprintf("%#v", *e))
	}
	return texts
}

// claimsFor returns claims for room with iat now and exp after lifetime.
func claimsFor(room string, owner bool, now time.Time, lifetime time.Duration) *tokencore.Claims {
	return &tokencore.Claims{
		RoomName: room,
		UserName: "tester",
		IsOwner:  &owner,
		Iat:      now,
		Exp:      now.Add(lifetime),
	}
}

// wantErrorKind fails the test unless err is of kind want, and returns the
// *Error.
func wantErrorKind(t *testing.T, err error, want *tokencore.Error) *tokencore.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("expected error %s, got nil", want.Reason)
	}
	if !errors.Is(err, want) {
		t.Fatalf("expected error %s, got %T %q", want.Reason, err, err)
	}
	e, ok := tokencore.AsError(err)
	if !ok {
		t.Fatalf("AsError(%q): expected an *Error, got none", err)
	}
	if got := tokencore.StatusOf(err); got != want.Status {
		t.Errorf("StatusOf: expected %d, got %d", want.Status, got)
	}
	return e
}

// wantRESTError fails the test unless err carries a *RESTError, and returns it.
func wantRESTError(t *testing.T, err error) *tokencore.RESTError {
	t.Helper()
	e, ok := tokencore.AsRESTError(err)
	if !ok {
		t.Fatalf("AsRESTError(%q): expected a *RESTError, got %T", err, err)
	}
	return e
}

// wantCalls fails the test unless the mock got want requests to endpoint.
func wantCalls(t *testing.T, mock *dailymock.Server, endpoint string, want int) {
	t.Helper()
	if got := mock.Count(endpoint); got != want {
		t.Errorf("calls to %s: expected %d, got %d", endpoint, want, got)
	}
}

// waitUntil polls condition until it holds, and fails the test if it does
// not within a generous bound. It waits for goroutines to reach a state; it
// measures nothing.
func waitUntil(t *testing.T, what string, condition func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !condition() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
