package traefiktest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/traefik/yaegi/interp"

	"github.com/dailytoken/dailytoken/internal/casetable"
	"github.com/dailytoken/dailytoken/test/yaegiharness"
	"github.com/dailytoken/dailytoken/tokencore"
)

// Yaegi v0.16.1 keeps the cases of each select statement in one slice, which
// every goroutine running the statement writes before it waits. Two
// goroutines that reach the same select at once can therefore swap
// channels, and one then wakes when another's channel is ready. For that
// reason the core waits for a call to Daily's REST API with reflect.Select.
// The tests below run that wait under Yaegi: many waits for distinct tokens
// at once, each of which must get the claims of its own token, and a wait
// that its request's context ends. An in-memory transport responds to the
// calls, so that they are fast enough for waits to overlap. A plain run
// rarely shows the swap, but go test -race reports it in the interpreter's
// select statement.

// concurrencySource runs in the interpreter.
const concurrencySource = `
import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/dailytoken/dailytoken/tokencore"
)

// verifyConcurrently verifies each list of tokens in its own goroutine with
// one Introspector that caches nothing, so every verification waits for a
// call. It returns a description of every verification whose result is not
// the room of its token.
func verifyConcurrently(httpClient *http.Client, tokens [][]string, rooms [][]string) []string {
	client, err := tokencore.NewRESTClient(tokencore.RESTConfig{APIKey: "in-memory-key", BaseURL: "http://127.0.0.1:9/v1", HTTPClient: httpClient})
	if err != nil {
		return []string{err.Error()}
	}
	introspector, err := tokencore.NewIntrospector(tokencore.IntrospectorConfig{Client: client, CacheSize: -1})
	if err != nil {
		return []string{err.Error()}
	}

	var mu sync.Mutex
	var wrong []string
	var wg sync.WaitGroup
	for g := 0; g < len(tokens); g++ {
		wg.Add(1)
		go func(tokens, rooms []string) {
			defer wg.Done()
			for k := 0; k < len(tokens); k++ {
				problem := verifyOne(introspector, tokens[k], rooms[k])
				if problem != "" {
					mu.Lock()
					wrong = append(wrong, problem)
					mu.Unlock()
				}
			}
		}(tokens[g], rooms[g])
	}
	wg.Wait()
	return wrong
}

// verifyUntilCanceled verifies token and returns the status and the
// description of the error, or 200. The call itself ends within 500ms.
func verifyUntilCanceled(ctx context.Context, httpClient *http.Client, token string) (int, string) {
	client, err := tokencore.NewRESTClient(tokencore.RESTConfig{APIKey: "in-memory-key", BaseURL: "http://127.0.0.1:9/v1", HTTPClient: httpClient, Timeout: 500 * time.Millisecond})
	if err != nil {
		return 0, err.Error()
	}
	introspector, err := tokencore.NewIntrospector(tokencore.IntrospectorConfig{Client: client})
	if err != nil {
		return 0, err.Error()
	}
	_, _, err = introspector.VerifyToken(ctx, token)
	if err != nil {
		return tokencore.StatusOf(err), err.Error()
	}
	return 200, ""
}

func verifyOne(introspector *tokencore.Introspector, token, room string) (problem string) {
	defer func() {
		if recovered := recover(); recovered != nil {
			problem = fmt.Sprintf("room %s: panic: %v", room, recovered)
		}
	}()
	claims, _, err := introspector.VerifyToken(context.Background(), token)
	if err != nil {
		return "room " + room + ": " + err.Error()
	}
	if claims == nil {
		return "room " + room + ": no claims and no error"
	}
	if claims.RoomName != room {
		return "room " + room + ": got the claims of room " + claims.RoomName
	}
	return ""
}
`

// inMemoryIntrospection responds to GET /v1/meeting-tokens/{token} with the
// properties in the token's payload, without checking the signature.
type inMemoryIntrospection struct{}

func (inMemoryIntrospection) RoundTrip(r *http.Request) (*http.Response, error) {
	token := strings.TrimPrefix(r.URL.Path, "/v1/meeting-tokens/")
	status := http.StatusOK
	var body []byte
	parts := strings.Split(token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1%len(parts)])
	claims, decodeErr := tokencore.DecodeClaims(payload)
	if err != nil || decodeErr != nil {
		status = http.StatusBadRequest
		body = []byte(`{"error":"invalid-request-error","info":"not a token"}`)
	} else {
		body, _ = json.Marshal(claims.Properties())
	}
	return &http.Response{
		StatusCode: status,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(bytes.NewReader(body)),
		Request:    r,
	}, nil
}

// blockingTransport holds every call until its request's context ends.
type blockingTransport struct {
	entered chan struct{}
}

func (b blockingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	b.entered <- struct{}{}
	<-r.Context().Done()
	return nil, r.Context().Err()
}

// concurrencyInterpreter loads the core and concurrencySource into a new
// interpreter.
func concurrencyInterpreter(t *testing.T) *interp.Interpreter {
	t.Helper()
	i := yaegiharness.NewInterpreter(t, moduleRoot)
	yaegiharness.Eval(t, i, `import "github.com/dailytoken/dailytoken/tokencore"`)
	yaegiharness.Eval(t, i, concurrencySource)
	return i
}

// TestRESTConcurrentTokensUnderYaegi verifies 8 lists of 200 distinct
// tokens at once through the interpreted core.
func TestRESTConcurrentTokensUnderYaegi(t *testing.T) {
	i := concurrencyInterpreter(t)
	verify, ok := yaegiharness.Eval(t, i, "verifyConcurrently").Interface().(func(*http.Client, [][]string, [][]string) []string)
	if !ok {
		t.Fatal("verifyConcurrently has an unexpected type")
	}

	const goroutines, perGoroutine = 8, 200
	now := time.Now()
	tokens := make([][]string, goroutines)
	rooms := make([][]string, goroutines)
	for g := range tokens {
		for k := 0; k < perGoroutine; k++ {
			room := "room-" + strconv.Itoa(g) + "-" + strconv.Itoa(k)
			claims := casetable.With(casetable.ValidClaims(now), map[string]any{"r": room})
			tokens[g] = append(tokens[g], casetable.Sign(casetable.Key, casetable.HS256Header, claims))
			rooms[g] = append(rooms[g], room)
		}
	}

	wrong := verify(&http.Client{Transport: inMemoryIntrospection{}}, tokens, rooms)
	if len(wrong) > 0 {
		t.Errorf("%d of %d verifications did not return the claims of their own token, the first: %s", len(wrong), goroutines*perGoroutine, wrong[0])
	}
}

// TestRESTWaitEndsWithRequestUnderYaegi ends a request's context while its
// call to the API is in flight, and checks that the interpreted core stops
// waiting with 503.
func TestRESTWaitEndsWithRequestUnderYaegi(t *testing.T) {
	i := concurrencyInterpreter(t)
	verify, ok := yaegiharness.Eval(t, i, "verifyUntilCanceled").Interface().(func(context.Context, *http.Client, string) (int, string))
	if !ok {
		t.Fatal("verifyUntilCanceled has an unexpected type")
	}

	transport := blockingTransport{entered: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	type outcome struct {
		status      int
		description string
	}
	done := make(chan outcome, 1)
	go func() {
		status, description := verify(ctx, &http.Client{Transport: transport}, casetable.ValidToken(time.Now()))
		done <- outcome{status, description}
	}()

	<-transport.entered
	cancel()
	result := <-done
	if result.status != http.StatusServiceUnavailable {
		t.Errorf("status = %d (%s), expected 503", result.status, result.description)
	}
	mustContain(t, "error", result.description, "the request ended while waiting")
}
