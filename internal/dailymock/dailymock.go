// Package dailymock is a stand-in for the meeting-token endpoints of Daily's
// REST API, for tests. It listens on 127.0.0.1 only.
//
// Like the real API (https://api.daily.co/v1), it serves under the path
// prefix /v1, so Server.URL is the value for tokencore.RESTConfig.BaseURL:
//
//	GET  /v1/meeting-tokens/{token}  verifies the token, HS256 with the key,
//	                                 and returns 200 with its properties under
//	                                 their long REST names (room_name,
//	                                 is_owner, exp, ...). A token that is not
//	                                 a valid JWS gets 400, one signed with
//	                                 another key 404, one expired or not yet
//	                                 valid 400; all invalid-request-error.
//	                                 The query ignoreNbf=true skips nbf.
//	POST /v1/meeting-tokens          takes {"properties": {...}} with long
//	                                 names, signs them into a token with
//	                                 short claim names and iat set to now,
//	                                 and returns 200 {"token": "..."}. An
//	                                 unknown property (iat included), a
//	                                 value of the wrong type or a user_id
//	                                 over 36 characters gets 400
//	                                 invalid-request-error.
//
// Every request must carry "Authorization: Bearer <key>": a missing or
// malformed header gets 400 authorization-header-error and a wrong key 401
// authentication-error. Error bodies have Daily's shape,
// {"error": "<type>", "info": "<text>"}.
//
// The server records every request (Requests) and counts them per endpoint
// (Count). SetFault makes it fail on purpose, before the key is checked: 500 server-error, a stall,
// 429 rate-limit-error with a Retry-After header, a 200 whose body is not
// JSON, or a connection closed without a response. Down and Up stop and
// restart it on the same address, for a client that must recover without a
// restart. The server closes itself when the test ends.
package dailymock

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dailytoken/dailytoken/tokencore"
)

// Endpoints, as Count and Request.Endpoint name them. They are the values of
// tokencore.EndpointIntrospect and tokencore.EndpointMint.
const (
	EndpointIntrospect = "GET /meeting-tokens/{token}"
	EndpointMint       = "POST /meeting-tokens"
)

// maxUserIDLength is Daily's limit on user_id, in characters.
const maxUserIDLength = 36

// Fault is a failure the server produces on purpose, for every request until
// the fault is changed.
type Fault int

// Faults.
const (
	// NoFault serves requests normally.
	NoFault Fault = iota

	// ServerError returns 500 server-error.
	ServerError

	// Stall blocks each request until its context ends (the client gave up
	// or the connection closed) or Release is called. A request released
	// is then served normally.
	Stall

	// RateLimit returns 429 rate-limit-error with the Retry-After header set
	// by SetRetryAfter ("1" unless set; an empty value omits the header).
	RateLimit

	// MalformedJSON returns 200 with a body that is not JSON.
	MalformedJSON

	// CloseConnection closes the connection without a response.
	CloseConnection
)

// String returns the fault's name.
func (f Fault) String() string {
	switch f {
	case NoFault:
		return "no fault"
	case ServerError:
		return "server error"
	case Stall:
		return "stall"
	case RateLimit:
		return "rate limit"
	case MalformedJSON:
		return "malformed JSON"
	case CloseConnection:
		return "close connection"
	}
	return "unknown fault"
}

// Request is a request the server received, recorded before any fault or
// check applied.
type Request struct {
	// Method is the HTTP method.
	Method string
	// Path is the escaped path, such as "/v1/meeting-tokens/eyJ...".
	Path string
	// RawQuery is the query without "?", such as "ignoreNbf=true".
	RawQuery string
	// Authorization is the Authorization header as sent.
	Authorization string
	// Body is the request body.
	Body []byte
	// Endpoint is EndpointIntrospect, EndpointMint, or "" for any other
	// method and path.
	Endpoint string
}

// Server is a running mock of Daily's REST API. Its methods are safe for
// concurrent use.
type Server struct {
	// URL is the base URL for tokencore.RESTConfig.BaseURL, such as
	// "http://127.0.0.1:40123/v1". It stays the same across Down and Up.
	URL string

	// Key is the API key the server expects and signs with.
	Key string

	t     testing.TB
	codec *tokencore.Codec
	addr  string

	mu          sync.Mutex
	server      *httptest.Server
	fault       Fault
	retryAfter  string
	echoSecrets bool
	now         func() time.Time
	counts      map[string]int
	requests    []Request
	release     chan struct{}
}

// New starts a server that expects key and signs with it. It fails the test
// if key is empty or the server cannot start, and closes the server when the
// test ends.
func New(t testing.TB, key string) *Server {
	t.Helper()

	codec, err := tokencore.NewCodec([][]byte{[]byte(key)}, 0)
	if err != nil {
		t.Fatalf("dailymock: %v", err)
	}
	s := &Server{
		Key:        key,
		t:          t,
		codec:      codec,
		retryAfter: "1",
		now:        time.Now,
		counts:     map[string]int{},
		release:    make(chan struct{}),
	}

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("dailymock: listen on 127.0.0.1: %v", err)
	}
	s.addr = listener.Addr().String()
	s.URL = "http://" + s.addr + "/v1"
	s.start(listener)

	t.Cleanup(s.Close)
	return s
}

func (s *Server) start(listener net.Listener) {
	server := httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	server.Listener.Close()
	server.Listener = listener
	server.Start()

	s.mu.Lock()
	s.server = server
	s.mu.Unlock()
}

// Close releases stalled requests and stops the server. It is safe to call
// more than once.
func (s *Server) Close() {
	s.Release()
	s.Down()
}

// Down stops the server: calls fail to connect until Up. It closes every
// client connection, which also ends stalled requests.
func (s *Server) Down() {
	s.mu.Lock()
	server := s.server
	s.server = nil
	s.mu.Unlock()

	if server != nil {
		server.CloseClientConnections()
		server.Close()
	}
}

// Up starts a stopped server again on the same address. It fails the test if
// the address cannot be bound again.
func (s *Server) Up() {
	s.t.Helper()

	s.mu.Lock()
	running := s.server != nil
	s.mu.Unlock()
	if running {
		return
	}

	listener, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatalf("dailymock: listen again on %s: %v", s.addr, err)
	}
	s.start(listener)
}

// SetFault makes every later request fail with f; NoFault ends the failure.
// Requests already stalled stay stalled until Release.
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	s.fault = f
	s.mu.Unlock()
}

// SetRetryAfter sets the Retry-After header of RateLimit responses, such as
// "7" or an HTTP date; an empty value omits the header.
func (s *Server) SetRetryAfter(value string) {
	s.mu.Lock()
	s.retryAfter = value
	s.mu.Unlock()
}

// Release ends a Stall fault and lets every stalled request be served
// normally.
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fault == Stall {
		s.fault = NoFault
	}
	close(s.release)
	s.release = make(chan struct{})
}

// SetEchoSecrets makes error responses quote the token and the Authorization
// header they got in their info text, which Daily is not known to do, to
// test that clients keep both out of their own errors and logs.
func (s *Server) SetEchoSecrets(echo bool) {
	s.mu.Lock()
	s.echoSecrets = echo
	s.mu.Unlock()
}

// SetNow sets the clock for exp, nbf and iat, so that the server agrees with
// a client's test clock. Nil restores time.Now.
func (s *Server) SetNow(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
}

// Count returns how many requests to endpoint the server received, faulty
// and refused ones included.
func (s *Server) Count(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[endpoint]
}

// Requests returns a copy of the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Reset clears the counts and the recorded requests.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = map[string]int{}
	s.requests = nil
}

// Token signs claims with the server's key, as a self-signing client or the
// POST endpoint does. It fails the test if the claims cannot be encoded.
func (s *Server) Token(claims *tokencore.Claims) string {
	s.t.Helper()

	token, err := s.sign(claims)
	if err != nil {
		s.t.Fatalf("dailymock: %v", err)
	}
	return token
}

func (s *Server) sign(claims *tokencore.Claims) (string, error) {
	payload, err := claims.Payload()
	if err != nil {
		return "", fmt.Errorf("encoding claims: %v", err)
	}
	return s.codec.Sign(payload), nil
}

// serveHTTP records the request, applies the fault, checks the key and
// serves the endpoint.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	endpoint, token := route(r)

	s.mu.Lock()
	s.requests = append(s.requests, Request{
		Method:        r.Method,
		Path:          r.URL.EscapedPath(),
		RawQuery:      r.URL.RawQuery,
		Authorization: r.Header.Get("Authorization"),
		Body:          body,
		Endpoint:      endpoint,
	})
	s.counts[endpoint]++
	fault := s.fault
	retryAfter := s.retryAfter
	echo := s.echoSecrets
	now := s.now()
	release := s.release
	s.mu.Unlock()

	// fault
	switch fault {
	case ServerError:
		writeError(w, http.StatusInternalServerError, "server-error", "the mock is set to fail")
		return
	case Stall:
		select {
		case <-r.Context().Done():
			return
		case <-release:
		}
	case RateLimit:
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		writeError(w, http.StatusTooManyRequests, "rate-limit-error", "too many requests")
		return
	case MalformedJSON:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"room_name": "half an obj`)
		return
	case CloseConnection:
		closeConnection(w)
		return
	}

	// key
	authorization := r.Header.Get("Authorization")
	scheme, presented, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || presented == "" {
		writeError(w, http.StatusBadRequest, "authorization-header-error", "Authorization header must be 'Bearer <API key>'")
		return
	}
	if presented != s.Key {
		info := "the API key is not valid"
		if echo {
			info = "the API key " + presented + " is not valid"
		}
		writeError(w, http.StatusUnauthorized, "authentication-error", info)
		return
	}

	// endpoint
	switch endpoint {
	case EndpointIntrospect:
		s.introspect(w, r, token, now, echo)
	case EndpointMint:
		s.mint(w, body, now)
	default:
		writeError(w, http.StatusNotFound, "not-found", "no such endpoint: "+r.Method+" "+r.URL.Path)
	}
}

// route returns the endpoint of r and, for an introspection, the token from
// the path.
func route(r *http.Request) (endpoint, token string) {
	const prefix = "/v1/meeting-tokens"
	path := r.URL.Path
	switch {
	case r.Method == http.MethodPost && path == prefix:
		return EndpointMint, ""
	case r.Method == http.MethodGet && strings.HasPrefix(path, prefix+"/") && len(path) > len(prefix)+1:
		return EndpointIntrospect, path[len(prefix)+1:]
	}
	return "", ""
}

func (s *Server) introspect(w http.ResponseWriter, r *http.Request, token string, now time.Time, echo bool) {
	quoted := "the meeting token"
	if echo {
		quoted = "meeting token " + token
	}

	payload, err := s.codec.Verify(token)
	if err != nil {
		if errors.Is(err, tokencore.ErrInvalidSignature) {
			writeError(w, http.StatusNotFound, "invalid-request-error", quoted+" was not found for this domain")
			return
		}
		writeError(w, http.StatusBadRequest, "invalid-request-error", quoted+" is not valid")
		return
	}
	claims, err := tokencore.DecodeClaims(payload)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid-request-error", quoted+" has invalid claims")
		return
	}
	if !claims.Exp.IsZero() && !now.Before(claims.Exp) {
		writeError(w, http.StatusBadRequest, "invalid-request-error", quoted+" has expired")
		return
	}
	if !claims.Nbf.IsZero() && now.Before(claims.Nbf) && r.URL.Query().Get("ignoreNbf") != "true" {
		writeError(w, http.StatusBadRequest, "invalid-request-error", quoted+" is not valid yet")
		return
	}
	writeJSON(w, http.StatusOK, claims.Properties())
}

func (s *Server) mint(w http.ResponseWriter, body []byte, now time.Time) {
	var request struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(body, &request); err != nil {
		writeError(w, http.StatusBadRequest, "invalid-request-error", "the body is not a JSON object with properties")
		return
	}
	if _, ok := request.Properties["iat"]; ok {
		writeError(w, http.StatusBadRequest, "invalid-request-error", "iat is not a meeting token property")
		return
	}
	claims, err := tokencore.ClaimsFromProperties(request.Properties)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid-request-error", err.Error())
		return
	}
	for name := range claims.Extra {
		writeError(w, http.StatusBadRequest, "invalid-request-error", name+" is not a meeting token property")
		return
	}
	if utf8.RuneCountInString(claims.UserID) > maxUserIDLength {
		writeError(w, http.StatusBadRequest, "invalid-request-error", "user_id must be at most 36 characters")
		return
	}
	claims.Iat = now.Truncate(time.Second)
	token, err := s.sign(claims)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "server-error", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": token})
}

// closeConnection closes the client's connection without a response.
func closeConnection(w http.ResponseWriter) {
	hijacker, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hijacker.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

func writeError(w http.ResponseWriter, status int, errorType, info string) {
	writeJSON(w, status, map[string]string{"error": errorType, "info": info})
}

func writeJSON(w http.ResponseWriter, status int, value any) {
	body, err := json.Marshal(value)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":"server-error","info":"the mock could not encode its response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}
