package caddymodule

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
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
)

// The WebSocket test speaks the protocol (RFC 6455) by hand, with text
// frames under 126 bytes only, to keep the module free of a WebSocket
// dependency.

// websocketGUID is the constant of RFC 6455 section 1.3 that the accept
// key is derived with.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func websocketAccept(key string) string {
	sum := sha1.Sum([]byte(key + websocketGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// writeFrame writes one final text frame. Frames from a client must be
// masked, frames from a server must not (RFC 6455 section 5.1).
func writeFrame(w io.Writer, payload string, masked bool) error {
	if len(payload) > 125 {
		return errors.New("payload too long for this test helper")
	}
	frame := []byte{0x81, byte(len(payload))}
	data := []byte(payload)
	if masked {
		mask := []byte{0x12, 0x34, 0x56, 0x78}
		frame[1] |= 0x80
		frame = append(frame, mask...)
		for i := range data {
			data[i] ^= mask[i%4]
		}
	}
	_, err := w.Write(append(frame, data...))
	return err
}

// readFrame reads one final text frame and unmasks it if needed.
func readFrame(r io.Reader) (string, error) {
	head := make([]byte, 2)
	if _, err := io.ReadFull(r, head); err != nil {
		return "", err
	}
	if head[0] != 0x81 {
		return "", fmt.Errorf("frame starts with %#x, expected a final text frame 0x81", head[0])
	}
	length := int(head[1] & 0x7f)
	if length > 125 {
		return "", errors.New("frame too long for this test helper")
	}
	var mask []byte
	if head[1]&0x80 != 0 {
		mask = make([]byte, 4)
		if _, err := io.ReadFull(r, mask); err != nil {
			return "", err
		}
	}
	data := make([]byte, length)
	if _, err := io.ReadFull(r, data); err != nil {
		return "", err
	}
	for i := range data {
		if mask != nil {
			data[i] ^= mask[i%4]
		}
	}
	return string(data), nil
}

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
			websocketAccept(r.Header.Get("Sec-WebSocket-Key")))
		if err := writeFrame(rw, "hello from upstream", false); err != nil {
			t.Errorf("upstream: writing greeting: %v", err)
			return
		}
		rw.Flush()
		message, err := readFrame(rw)
		if err != nil {
			t.Errorf("upstream: reading message: %v", err)
			return
		}
		writeFrame(rw, "echo: "+message, false)
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
	if accept := resp.Header.Get("Sec-WebSocket-Accept"); accept != websocketAccept(key) {
		t.Errorf("Sec-WebSocket-Accept = %q, expected %q", accept, websocketAccept(key))
	}

	// frames flow both ways
	greeting, err := readFrame(reader)
	if err != nil || greeting != "hello from upstream" {
		t.Fatalf("first frame = %q (%v), expected the upstream's greeting", greeting, err)
	}
	if err := writeFrame(conn, "hello from client", true); err != nil {
		t.Fatal(err)
	}
	reply, err := readFrame(reader)
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
