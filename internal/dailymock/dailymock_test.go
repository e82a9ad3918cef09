package dailymock_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dailytoken/dailytoken/internal/dailymock"
	"github.com/dailytoken/dailytoken/tokencore"
)

const mockKey = "mock-test-key-9d3a"

// call sends a request to the mock with the given Authorization header and
// returns the status and the decoded JSON body.
func call(t *testing.T, method, url, authorization, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	var decoded map[string]any
	if err := json.Unmarshal(data, &decoded); err != nil {
		t.Fatalf("response %d is not a JSON object: %q", resp.StatusCode, data)
	}
	return resp.StatusCode, decoded
}

func wantResponse(t *testing.T, status int, body map[string]any, wantStatus int, wantError string) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("status: expected %d, got %d (%v)", wantStatus, status, body)
	}
	if wantError != "" && body["error"] != wantError {
		t.Errorf("error type: expected %q, got %v", wantError, body["error"])
	}
}

func claims(room string, now time.Time) *tokencore.Claims {
	owner := true
	return &tokencore.Claims{RoomName: room, UserName: "host", IsOwner: &owner, Iat: now, Exp: now.Add(time.Hour)}
}

func TestMockAuthorization(t *testing.T) {
	mock := dailymock.New(t, mockKey)
	token := mock.Token(claims("standup", time.Now()))
	url := mock.URL + "/meeting-tokens/" + token

	cases := []struct {
		name          string
		authorization string
		status        int
		errorType     string
	}{
		{"missing", "", 400, "authorization-header-error"},
		{"basic scheme", "Basic " + mockKey, 400, "authorization-header-error"},
		{"bearer without key", "Bearer ", 400, "authorization-header-error"},
		{"wrong key", "Bearer wrong", 401, "authentication-error"},
		{"right key", "Bearer " + mockKey, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := call(t, http.MethodGet, url, tc.authorization, "")
			wantResponse(t, status, body, tc.status, tc.errorType)
		})
	}
}

func TestMockIntrospectReturnsLongNames(t *testing.T) {
	mock := dailymock.New(t, mockKey)
	now := time.Now().Truncate(time.Second)
	token := mock.Token(claims("standup", now))

	status, body := call(t, http.MethodGet, mock.URL+"/meeting-tokens/"+token, "Bearer "+mockKey, "")
	wantResponse(t, status, body, 200, "")
	want := map[string]any{"room_name": "standup", "user_name": "host", "is_owner": true, "exp": float64(now.Add(time.Hour).Unix())}
	for name, value := range want {
		if body[name] != value {
			t.Errorf("property %s: expected %v, got %v", name, value, body[name])
		}
	}
	if _, ok := body["r"]; ok {
		t.Errorf("response: expected no short claim names, got %v", body)
	}
	if got := mock.Count(dailymock.EndpointIntrospect); got != 1 {
		t.Errorf("count: expected 1, got %d", got)
	}
}

func TestMockIntrospectRejections(t *testing.T) {
	mock := dailymock.New(t, mockKey)
	other := dailymock.New(t, "another-key")
	now := time.Now()
	notYet := claims("standup", now)
	notYet.Nbf = now.Add(time.Minute)

	cases := []struct {
		name   string
		path   string
		status int
	}{
		{"malformed", "/meeting-tokens/abc.def", 400},
		{"another key", "/meeting-tokens/" + other.Token(claims("standup", now)), 404},
		{"expired", "/meeting-tokens/" + mock.Token(claims("standup", now.Add(-2*time.Hour))), 400},
		{"not yet valid", "/meeting-tokens/" + mock.Token(notYet), 400},
		{"not yet valid, nbf ignored", "/meeting-tokens/" + mock.Token(notYet) + "?ignoreNbf=true", 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := call(t, http.MethodGet, mock.URL+tc.path, "Bearer "+mockKey, "")
			errorType := ""
			if tc.status != 200 {
				errorType = "invalid-request-error"
			}
			wantResponse(t, status, body, tc.status, errorType)
		})
	}
}

func TestMockMintRoundTrip(t *testing.T) {
	mock := dailymock.New(t, mockKey)
	exp := time.Now().Add(time.Hour).Unix()
	body := `{"properties":{"room_name":"standup","is_owner":true,"exp":` + jsonNumber(exp) + `}}`

	status, response := call(t, http.MethodPost, mock.URL+"/meeting-tokens", "Bearer "+mockKey, body)
	wantResponse(t, status, response, 200, "")
	token, _ := response["token"].(string)

	codec, err := tokencore.NewCodec([][]byte{[]byte(mockKey)}, 0)
	if err != nil {
		t.Fatalf("NewCodec: %v", err)
	}
	payload, err := codec.Verify(token)
	if err != nil {
		t.Fatalf("minted token does not verify with the key: %v", err)
	}
	var short map[string]any
	if err := json.Unmarshal(payload, &short); err != nil {
		t.Fatalf("payload: %v", err)
	}
	if short["r"] != "standup" || short["o"] != true || short["exp"] != float64(exp) || short["iat"] == nil {
		t.Errorf("payload: expected short claims r, o, exp and iat, got %v", short)
	}

	requests := mock.Requests()
	if len(requests) != 1 || string(requests[0].Body) != body || requests[0].Endpoint != dailymock.EndpointMint {
		t.Errorf("recorded requests: expected the one POST with its body, got %+v", requests)
	}
}

func TestMockMintRejectsBadProperties(t *testing.T) {
	mock := dailymock.New(t, mockKey)
	cases := map[string]string{
		"not JSON":         `{"properties":`,
		"unknown property": `{"properties":{"room":"standup"}}`,
		"iat":              `{"properties":{"iat":1700000000}}`,
		"wrong type":       `{"properties":{"is_owner":"yes"}}`,
		"long user_id":     `{"properties":{"user_id":"` + strings.Repeat("u", 37) + `"}}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			status, response := call(t, http.MethodPost, mock.URL+"/meeting-tokens", "Bearer "+mockKey, body)
			wantResponse(t, status, response, 400, "invalid-request-error")
		})
	}
}

func TestMockFaults(t *testing.T) {
	mock := dailymock.New(t, mockKey)
	url := mock.URL + "/meeting-tokens/" + mock.Token(claims("standup", time.Now()))

	mock.SetFault(dailymock.ServerError)
	status, body := call(t, http.MethodGet, url, "Bearer "+mockKey, "")
	wantResponse(t, status, body, 500, "server-error")

	mock.SetFault(dailymock.RateLimit)
	mock.SetRetryAfter("7")
	resp := get(t, url)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" {
		t.Errorf("rate limit: expected 429 with Retry-After 7, got %d with %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	mock.SetFault(dailymock.MalformedJSON)
	resp = get(t, url)
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Valid(data) {
		t.Errorf("malformed JSON: expected 200 with invalid JSON, got %d %q", resp.StatusCode, data)
	}

	mock.SetFault(dailymock.CloseConnection)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("close connection: expected a transport error, got %d", resp.StatusCode)
	}

	mock.SetFault(dailymock.NoFault)
	status, body = call(t, http.MethodGet, url, "Bearer "+mockKey, "")
	wantResponse(t, status, body, 200, "")
}

func TestMockStallEndsOnRelease(t *testing.T) {
	mock := dailymock.New(t, mockKey)
	url := mock.URL + "/meeting-tokens/" + mock.Token(claims("standup", time.Now()))
	mock.SetFault(dailymock.Stall)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+mockKey)
	done := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	for mock.Count(dailymock.EndpointIntrospect) == 0 {
		time.Sleep(time.Millisecond)
	}
	select {
	case status := <-done:
		t.Fatalf("stalled request: expected it to wait, got %d", status)
	default:
	}
	mock.Release()
	if status := <-done; status != 200 {
		t.Errorf("released request: expected 200, got %d", status)
	}
}

func TestMockDownAndUp(t *testing.T) {
	mock := dailymock.New(t, mockKey)
	url := mock.URL + "/meeting-tokens/" + mock.Token(claims("standup", time.Now()))

	mock.Down()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("server down: expected a connection error, got %d", resp.StatusCode)
	}

	mock.Up()
	status, body := call(t, http.MethodGet, url, "Bearer "+mockKey, "")
	wantResponse(t, status, body, 200, "")
}

func TestMockEchoSecrets(t *testing.T) {
	mock := dailymock.New(t, mockKey)
	mock.SetEchoSecrets(true)

	_, body := call(t, http.MethodGet, mock.URL+"/meeting-tokens/abc.def.ghi", "Bearer wrong-key", "")
	if info, _ := body["info"].(string); !strings.Contains(info, "wrong-key") {
		t.Errorf("info: expected the presented key quoted, got %q", info)
	}
	_, body = call(t, http.MethodGet, mock.URL+"/meeting-tokens/abc.def.ghi", "Bearer "+mockKey, "")
	if info, _ := body["info"].(string); !strings.Contains(info, "abc.def.ghi") {
		t.Errorf("info: expected the token quoted, got %q", info)
	}
}

func TestMockReset(t *testing.T) {
	mock := dailymock.New(t, mockKey)
	call(t, http.MethodGet, mock.URL+"/meeting-tokens/abc.def.ghi", "Bearer "+mockKey, "")
	mock.Reset()
	if got := mock.Count(dailymock.EndpointIntrospect); got != 0 {
		t.Errorf("count after Reset: expected 0, got %d", got)
	}
	if got := len(mock.Requests()); got != 0 {
		t.Errorf("requests after Reset: expected 0, got %d", got)
	}
}

func TestMockEndpointsMatchTokencore(t *testing.T) {
	if dailymock.EndpointIntrospect != tokencore.EndpointIntrospect || dailymock.EndpointMint != tokencore.EndpointMint {
		t.Error("endpoint names: expected the mock's to equal tokencore's")
	}
}

// get sends an authorized GET and returns the response; the body is closed at
// the end of the test.
func get(t *testing.T, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+mockKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func jsonNumber(n int64) string {
	data, _ := json.Marshal(n)
	return string(data)
}
