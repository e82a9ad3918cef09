package traefiktest

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/dailytoken/dailytoken/internal/casetable"
	"github.com/dailytoken/dailytoken/internal/wstest"
)

// The WebSocket test puts the interpreted middleware in front of
// net/http/httputil.ReverseProxy, which Traefik's HTTP proxy is built on,
// and a WebSocket upstream. It shows that a validated upgrade request
// reaches the upstream and that the connection the middleware passes on can
// be hijacked, which the proxy needs to switch protocols. It does not run
// Traefik itself.

// websocketUpstream accepts an upgrade, greets the client with the room it
// got in X-Daily-Room, and echoes one frame.
func websocketUpstream(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			http.Error(w, "expected a WebSocket upgrade", http.StatusBadRequest)
			return
		}
		connection, buffered, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("upstream hijack: %v", err)
			return
		}
		defer connection.Close()

		fmt.Fprintf(buffered, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			wstest.Accept(r.Header.Get("Sec-WebSocket-Key")))
		if err := wstest.WriteFrame(buffered, "welcome to "+r.Header.Get("X-Daily-Room"), false); err != nil {
			t.Errorf("upstream write: %v", err)
			return
		}
		if err := buffered.Flush(); err != nil {
			t.Errorf("upstream flush: %v", err)
			return
		}

		message, err := wstest.ReadFrame(buffered)
		if err != nil {
			t.Errorf("upstream read: %v", err)
			return
		}
		if err := wstest.WriteFrame(connection, "echo: "+message, false); err != nil {
			t.Errorf("upstream echo: %v", err)
		}
	})
}

// dialWebSocket sends an upgrade request for target to server and returns
// the response and the connection.
func dialWebSocket(t *testing.T, serverURL, target string) (*http.Response, *bufio.Reader, net.Conn) {
	t.Helper()
	address, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	connection, err := net.DialTimeout("tcp", address.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { connection.Close() })
	if err := connection.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}

	key := base64.StdEncoding.EncodeToString([]byte("sixteen byte key"))
	request, err := http.NewRequest(http.MethodGet, serverURL+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	request.Header.Set("Upgrade", "websocket")
	request.Header.Set("Connection", "Upgrade")
	request.Header.Set("Sec-WebSocket-Key", key)
	request.Header.Set("Sec-WebSocket-Version", "13")
	if err := request.Write(connection); err != nil {
		t.Fatal(err)
	}

	reader := bufio.NewReader(connection)
	response, err := http.ReadResponse(reader, request)
	if err != nil {
		t.Fatal(err)
	}
	if response.StatusCode == http.StatusSwitchingProtocols && response.Header.Get("Sec-WebSocket-Accept") != wstest.Accept(key) {
		t.Errorf("Sec-WebSocket-Accept = %q, expected %q", response.Header.Get("Sec-WebSocket-Accept"), wstest.Accept(key))
	}
	return response, reader, connection
}

func TestWebSocketThroughYaegiMiddleware(t *testing.T) {
	upstream := serve(t, websocketUpstream(t))
	upstreamURL, err := url.Parse(upstream.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(upstreamURL)

	plugin := loadPlugin(t)
	handler, err := plugin.NewMiddleware(context.Background(), map[string]any{
		"mode":       "validate",
		"keys":       casetable.Key,
		"room":       "{path.1}",
		"stripToken": true,
	}, proxy, "websocket@file")
	if err != nil {
		t.Fatal(err)
	}
	front := serve(t, handler)

	t.Run("valid token in query t", func(t *testing.T) {
		token := casetable.ValidToken(time.Now())
		response, reader, connection := dialWebSocket(t, front.URL, "/rooms/"+casetable.Room+"?t="+token)
		if response.StatusCode != http.StatusSwitchingProtocols {
			body, _ := io.ReadAll(response.Body)
			t.Fatalf("status = %d, expected 101; body %s", response.StatusCode, body)
		}

		greeting, err := wstest.ReadFrame(reader)
		if err != nil || greeting != "welcome to "+casetable.Room {
			t.Fatalf("first frame from upstream = %q (%v), expected the room greeting", greeting, err)
		}
		if err := wstest.WriteFrame(connection, "hello", true); err != nil {
			t.Fatal(err)
		}
		echo, err := wstest.ReadFrame(reader)
		if err != nil || echo != "echo: hello" {
			t.Errorf("echo from upstream = %q (%v), expected \"echo: hello\"", echo, err)
		}
	})

	t.Run("no token", func(t *testing.T) {
		response, _, _ := dialWebSocket(t, front.URL, "/rooms/"+casetable.Room)
		if response.StatusCode != http.StatusUnauthorized {
			t.Errorf("status = %d, expected 401", response.StatusCode)
		}
	})
}
