package casetable

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kinds of load requests: the token each carries.
const (
	LoadValid     = "valid"      // a valid token for the room of the path
	LoadExpired   = "expired"    // expired an hour ago
	LoadTampered  = "tampered"   // a valid token with its payload changed
	LoadOtherKey  = "other key"  // signed with OtherKey
	LoadWrongRoom = "wrong room" // valid, for another room
	LoadMissing   = "missing"    // no token
)

// loadKinds is the order in which a load plan cycles through the kinds.
var loadKinds = []string{LoadValid, LoadExpired, LoadValid, LoadTampered, LoadValid, LoadOtherKey, LoadWrongRoom, LoadMissing}

// Headers a load request carries so that the upstream can check what it was
// given: the kind of the request and the user id of its token.
const (
	LoadKindHeader = "X-Load-Kind"
	LoadUserHeader = "X-Load-User"
)

// LoadRequest is one request of a load run, to a validating route that
// expects room Room from the path /rooms/{room}.
type LoadRequest struct {
	Kind   string
	Target string
	Header http.Header

	// UserID is the user id (ud) of the token, which the upstream must get
	// in X-Daily-User-Id; empty for a request without a valid token.
	UserID string

	// Token is the token sent, empty for LoadMissing.
	Token string
}

// LoadPlan returns n requests signed with key at now, cycling through the
// kinds. Each kind draws its tokens from pool distinct ones, so a run repeats
// tokens, as clients do, and also sends new ones.
func LoadPlan(n, pool int, key string, now time.Time) []LoadRequest {
	plan := make([]LoadRequest, n)
	for i := range plan {
		kind := loadKinds[i%len(loadKinds)]
		user := "load-user-" + strconv.Itoa((i/len(loadKinds))%pool)
		claims := With(ValidClaims(now), map[string]any{"ud": user})
		room := Room
		request := LoadRequest{Kind: kind, Header: http.Header{LoadKindHeader: {kind}}}

		switch kind {
		case LoadValid:
			request.Token = Sign(key, HS256Header, claims)
			request.UserID = user
		case LoadExpired:
			request.Token = Sign(key, HS256Header, With(claims, map[string]any{
				"iat": now.Add(-2 * time.Hour).Unix(),
				"exp": now.Add(-time.Hour).Unix(),
			}))
		case LoadTampered:
			request.Token = Tamper(Sign(key, HS256Header, claims))
		case LoadOtherKey:
			request.Token = Sign(OtherKey, HS256Header, claims)
		case LoadWrongRoom:
			request.Token = Sign(key, HS256Header, claims)
			room = "retro"
		}
		request.Target = "/rooms/" + room
		if request.Token != "" {
			request.Header.Set("Authorization", "Bearer "+request.Token)
		}
		if request.UserID != "" {
			request.Header.Set(LoadUserHeader, request.UserID)
		}
		plan[i] = request
	}
	return plan
}

// LoadResult is the outcome of one load request.
type LoadResult struct {
	Status int
	Err    error

	// Done is when the response was read, for ordering against the calls
	// an APIRecorder saw.
	Done time.Time
}

// RunLoad sends every request of plan to baseURL with workers concurrent
// clients and returns the results in the order of plan. Requests that ctx's
// end prevents get ctx's error.
func RunLoad(ctx context.Context, client *http.Client, baseURL string, plan []LoadRequest, workers int) []LoadResult {
	results := make([]LoadResult, len(plan))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = sendLoad(ctx, client, baseURL, plan[i])
			}
		}()
	}

	for i := range plan {
		select {
		case next <- i:
		case <-ctx.Done():
			for j := i; j < len(plan); j++ {
				results[j].Err = ctx.Err()
			}
			close(next)
			wg.Wait()
			return results
		}
	}
	close(next)
	wg.Wait()
	return results
}

func sendLoad(ctx context.Context, client *http.Client, baseURL string, request LoadRequest) LoadResult {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+request.Target, nil)
	if err != nil {
		return LoadResult{Err: err}
	}
	for name, values := range request.Header {
		req.Header[name] = append([]string(nil), values...)
	}
	resp, err := client.Do(req)
	if err != nil {
		return LoadResult{Err: err}
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return LoadResult{Status: resp.StatusCode, Err: err}
	}
	return LoadResult{Status: resp.StatusCode, Done: time.Now()}
}

// LoadUpstream is the next handler of a load run. It counts the requests
// it receives and records a sentence for each that it must not have got.
// That is a request whose kind is not LoadValid, or whose X-Daily-User-Id
// is not the user of the token the client sent, as if claims went to the
// wrong request.
type LoadUpstream struct {
	mu       sync.Mutex
	count    int
	problems []string
}

func (u *LoadUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind := r.Header.Get(LoadKindHeader)
	user := r.Header.Get(LoadUserHeader)
	claimed := r.Header.Values("X-Daily-User-Id")

	u.mu.Lock()
	u.count++
	if kind != LoadValid {
		u.problems = append(u.problems, fmt.Sprintf("upstream got a request of kind %q", kind))
	} else if len(claimed) != 1 || claimed[0] != user {
		u.problems = append(u.problems, fmt.Sprintf("upstream got X-Daily-User-Id %q for a token of user %q", claimed, user))
	}
	u.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// Count returns the number of requests received.
func (u *LoadUpstream) Count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.count
}

// Problems returns a sentence for each request the upstream must not have
// received.
func (u *LoadUpstream) Problems() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.problems...)
}

// CheckLoadLocal checks the results of a run against a route that verifies
// tokens locally with the plan's key: every request gets the status of its
// kind, and the upstream gets exactly the valid ones.
func CheckLoadLocal(plan []LoadRequest, results []LoadResult, upstream *LoadUpstream) []string {
	expected := map[string]int{
		LoadValid:     http.StatusOK,
		LoadExpired:   http.StatusUnauthorized,
		LoadTampered:  http.StatusUnauthorized,
		LoadOtherKey:  http.StatusUnauthorized,
		LoadWrongRoom: http.StatusForbidden,
		LoadMissing:   http.StatusUnauthorized,
	}
	var problems []string
	valid := 0
	for i, result := range results {
		kind := plan[i].Kind
		if kind == LoadValid {
			valid++
		}
		if result.Err != nil {
			problems = append(problems, fmt.Sprintf("request %d (%s): %v", i, kind, result.Err))
			continue
		}
		if result.Status != expected[kind] {
			problems = append(problems, fmt.Sprintf("request %d (%s): status %d, expected %d", i, kind, result.Status, expected[kind]))
		}
	}
	if upstream.Count() != valid {
		problems = append(problems, fmt.Sprintf("upstream got %d requests, expected the %d valid ones", upstream.Count(), valid))
	}
	return append(problems, upstream.Problems()...)
}

// CheckLoadREST checks the results of a run against a route that verifies
// tokens with Daily's REST API while the API fails part of the time. Every
// response must be fail-closed: 200 only for a valid token that the API
// accepted before the response (recorded by api), else 401, 403 or 503 as
// the kind allows, and never 500. The upstream gets only valid tokens.
func CheckLoadREST(plan []LoadRequest, results []LoadResult, upstream *LoadUpstream, api *APIRecorder) []string {
	allowed := map[string][]int{
		LoadValid:     {http.StatusOK, http.StatusServiceUnavailable},
		LoadExpired:   {http.StatusUnauthorized, http.StatusServiceUnavailable},
		LoadTampered:  {http.StatusUnauthorized, http.StatusServiceUnavailable},
		LoadOtherKey:  {http.StatusUnauthorized, http.StatusServiceUnavailable},
		LoadWrongRoom: {http.StatusForbidden, http.StatusServiceUnavailable},
		LoadMissing:   {http.StatusUnauthorized},
	}
	var problems []string
	passed := 0
	for i, result := range results {
		request := plan[i]
		if result.Err != nil {
			problems = append(problems, fmt.Sprintf("request %d (%s): %v", i, request.Kind, result.Err))
			continue
		}
		ok := false
		for _, status := range allowed[request.Kind] {
			ok = ok || result.Status == status
		}
		if !ok {
			problems = append(problems, fmt.Sprintf("request %d (%s): status %d, expected one of %v", i, request.Kind, result.Status, allowed[request.Kind]))
		}
		if result.Status != http.StatusOK {
			continue
		}
		passed++
		if accepted, found := api.AcceptedAt(request.Token); !found || accepted.After(result.Done) {
			problems = append(problems, fmt.Sprintf("request %d (%s): status 200 without an earlier acceptance by the API", i, request.Kind))
		}
	}
	if upstream.Count() != passed {
		problems = append(problems, fmt.Sprintf("upstream got %d requests, expected the %d answered with 200", upstream.Count(), passed))
	}
	return append(problems, upstream.Problems()...)
}

// APIRecorder is a reverse proxy in front of a Daily REST API mock that
// records when the API first accepted each token in
// GET /meeting-tokens/{token}. The mock's own faults decide its responses.
type APIRecorder struct {
	// URL is the base URL to configure in place of the mock's, such as
	// "http://127.0.0.1:40124/v1".
	URL string

	proxy      *httputil.ReverseProxy
	mu         sync.Mutex
	calls      int
	beforeCall func(call int)
	accepted   map[string]time.Time
}

// NewAPIRecorder returns a recorder that forwards to the API at baseURL,
// which ends in /v1. start serves the recorder's handler, as with
// httptest.NewServer, and returns the server's URL.
func NewAPIRecorder(baseURL string, start func(http.Handler) string) (*APIRecorder, error) {
	target, err := url.Parse(strings.TrimSuffix(baseURL, "/v1"))
	if err != nil {
		return nil, err
	}
	r := &APIRecorder{accepted: map[string]time.Time{}}
	r.proxy = httputil.NewSingleHostReverseProxy(target)
	r.proxy.ModifyResponse = func(resp *http.Response) error {
		token, found := strings.CutPrefix(resp.Request.URL.Path, "/v1/meeting-tokens/")
		if found && resp.Request.Method == http.MethodGet && resp.StatusCode == http.StatusOK {
			token, err := url.PathUnescape(token)
			if err == nil {
				r.mu.Lock()
				if _, seen := r.accepted[token]; !seen {
					r.accepted[token] = time.Now()
				}
				r.mu.Unlock()
			}
		}
		return nil
	}
	// A call that the client ends, as after a stall, is an expected error.
	r.proxy.ErrorLog = log.New(io.Discard, "", 0)
	r.URL = start(http.HandlerFunc(r.forward)) + "/v1"
	return r, nil
}

func (r *APIRecorder) forward(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.calls++
	call := r.calls
	beforeCall := r.beforeCall
	r.mu.Unlock()
	if beforeCall != nil {
		beforeCall(call)
	}
	r.proxy.ServeHTTP(w, req)
}

// SetBeforeCall sets a function that is called with the number of each
// later call, counted from 1, before the call is forwarded. A test sets the
// mock's fault there, so that faults follow the calls instead of the clock.
func (r *APIRecorder) SetBeforeCall(f func(call int)) {
	r.mu.Lock()
	r.beforeCall = f
	r.mu.Unlock()
}

// Calls returns the number of calls forwarded.
func (r *APIRecorder) Calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// AcceptedAt returns when the API first accepted token, if it did.
func (r *APIRecorder) AcceptedAt(token string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, found := r.accepted[token]
	return at, found
}

// FaultPhase is a number of consecutive API calls that meet one fault.
type FaultPhase[F any] struct {
	Fault F
	Calls int
}

// FaultAt returns the fault of call, counted from 1, in a schedule that
// repeats phases.
func FaultAt[F any](phases []FaultPhase[F], call int) F {
	total := 0
	for _, phase := range phases {
		total += phase.Calls
	}
	position := (call - 1) % total
	for _, phase := range phases {
		if position < phase.Calls {
			return phase.Fault
		}
		position -= phase.Calls
	}
	return phases[0].Fault
}

// Resources are the goroutines and the heap in use, for checking that a run
// leaves nothing behind.
type Resources struct {
	Goroutines int
	Heap       uint64 // bytes in use, after a collection
}

// Allowed growth between the baseline before a run and the state after it,
// once finished goroutines have exited and the heap is collected. A leak of
// one goroutine or one request per request of a 2000-request run exceeds
// both.
const (
	GoroutineSlack = 32
	HeapSlack      = 16 << 20
)

// MeasureResources collects garbage and returns the resources in use.
func MeasureResources() Resources {
	runtime.GC()
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	return Resources{Goroutines: runtime.NumGoroutine(), Heap: stats.HeapInuse}
}

// Baseline returns the resources in use once the goroutines of earlier work
// have exited: when their count stays the same over two rounds, or after a
// bounded number of rounds. Close the client's idle connections first, as
// before the state after a run is measured.
func Baseline() Resources {
	current := MeasureResources()
	for round := 0; round < 50; round++ {
		time.Sleep(20 * time.Millisecond)
		next := MeasureResources()
		if next.Goroutines == current.Goroutines {
			return next
		}
		current = next
	}
	return current
}

// CheckSettled waits, a bounded number of rounds, for the resources to come
// back within GoroutineSlack and HeapSlack of base, and returns them and a
// sentence for each that did not.
func CheckSettled(base Resources) (Resources, []string) {
	limit := Resources{Goroutines: base.Goroutines + GoroutineSlack, Heap: base.Heap + HeapSlack}
	after := MeasureResources()
	for round := 0; round < 100 && (after.Goroutines > limit.Goroutines || after.Heap > limit.Heap); round++ {
		time.Sleep(20 * time.Millisecond)
		after = MeasureResources()
	}

	var problems []string
	if after.Goroutines > limit.Goroutines {
		problems = append(problems, fmt.Sprintf("goroutines = %d after the run, expected at most %d (baseline %d)", after.Goroutines, limit.Goroutines, base.Goroutines))
	}
	if after.Heap > limit.Heap {
		problems = append(problems, fmt.Sprintf("heap in use = %d KB after the run, expected at most %d KB (baseline %d KB)", after.Heap>>10, limit.Heap>>10, base.Heap>>10))
	}
	return after, problems
}
