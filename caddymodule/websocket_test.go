package caddymodule

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dailytoken/dailytoken/internal/wstest"
)

// The WebSocket test speaks the protocol (RFC 6455) through internal/wstest,
// with text frames under 126 bytes only.

// echoWebSocket is an upstream that accepts a WebSocket upgrade, greets the
// client, and echoes one message back. It records the upgrade request.
type echoWebSocket struct {
	server *httptest.Server
	mu     sync.Mutex
	last   *http.Request
}

func newEchoWebSocket(t *testing.T) *echoWebSocket {
	e := &echoWebSocket{}
	e.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.last = r.Clone(r.Context())
		e.mu.Unlock()

		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "expected a WebSocket upgrade", http.StatusBadRequest)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("upstream: hijack: %v", err)
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))

		fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			wstest.Accept(r.Header.Get("Sec-WebSocket-Key")))
		if err := wstest.WriteFrame(rw, "hello from upstream", false); err != nil {
			t.Errorf("upstream: writing greeting: %v", err)
			return
		}
		rw.Flush()
		message, err := wstest.ReadFrame(rw)
		if err != nil {
			t.Errorf("upstream: reading message: %v", err)
			return
		}
		wstest.WriteFrame(rw, "echo: "+message, false)
		rw.Flush()
	}))
	t.Cleanup(e.server.Close)
	return e
}

func TestWebSocketWithQueryToken(t *testing.T) {
	echo := newEchoWebSocket(t)
	loadCaddyfile(t, fmt.Sprintf(`http://:%d {
	daily_token {
		keys %s
		room {path.1}
		strip_token
	}
	reverse_proxy %s
}
`, sitePort, testKey, strings.TrimPrefix(echo.server.URL, "http://")))

	// a browser cannot set headers on a WebSocket, so the token is in ?t=
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", sitePort), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))

	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	fmt.Fprintf(conn, "GET /rooms/hello?t=%s&v=1 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
		roomToken("hello"), sitePort, key)
	reader := bufio.NewReader(conn)
	resp, err := http.ReadResponse(reader, nil)
	if err != nil {
		t.Fatalf("reading the upgrade response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status = %d, expected 101", resp.StatusCode)
	}
	if accept := resp.Header.Get("Sec-WebSocket-Accept"); accept != wstest.Accept(key) {
		t.Errorf("Sec-WebSocket-Accept = %q, expected %q", accept, wstest.Accept(key))
	}

	// frames flow both ways
	greeting, err := wstest.ReadFrame(reader)
	if err != nil || greeting != "hello from upstream" {
		t.Fatalf("first frame = %q (%v), expected the upstream's greeting", greeting, err)
	}
	if err := wstest.WriteFrame(conn, "hello from client", true); err != nil {
		t.Fatal(err)
	}
	reply, err := wstest.ReadFrame(reader)
	if err != nil || reply != "echo: hello from client" {
		t.Fatalf("reply = %q (%v), expected the echo of the client's frame", reply, err)
	}

	echo.mu.Lock()
	upgrade := echo.last
	echo.mu.Unlock()
	if upgrade.URL.RawQuery != "v=1" {
		t.Errorf("upstream query = %q, expected v=1 without the token", upgrade.URL.RawQuery)
	}
	if room := upgrade.Header.Get("X-Daily-Room"); room != "hello" {
		t.Errorf("upstream X-Daily-Room = %q, expected hello", room)
	}
}

func TestWebSocketWithoutTokenRejected(t *testing.T) {
	echo := newEchoWebSocket(t)
	loadCaddyfile(t, fmt.Sprintf(`http://:%d {
	daily_token {
		keys %s
	}
	reverse_proxy %s
}
`, sitePort, testKey, strings.TrimPrefix(echo.server.URL, "http://")))

	resp := get(t, "/rooms/hello", "Upgrade: websocket", "Connection: Upgrade",
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13")
	if resp.status != http.StatusUnauthorized {
		t.Errorf("status = %d, expected 401", resp.status)
	}
	echo.mu.Lock()
	defer echo.mu.Unlock()
	if echo.last != nil {
		t.Errorf("the upstream received the upgrade without a token")
	}
}
