package traefiktest

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
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
)

// The WebSocket test puts the interpreted middleware in front of
// net/http/httputil.ReverseProxy, which Traefik's HTTP proxy is built on,
// and a WebSocket upstream. It shows that a validated upgrade request
// reaches the upstream and that the connection the middleware passes on can
// be hijacked, which the proxy needs to switch protocols. It does not run
// Traefik itself.

// websocketGUID is the key suffix of the Sec-WebSocket-Accept computation
// (RFC 6455 section 1.3).
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func websocketAccept(key string) string {
	sum := sha1.Sum([]byte(key + websocketGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// writeFrame writes one unfragmented text frame with a payload under 126
// bytes. Frames from a client are masked (RFC 6455 section 5.3).
func writeFrame(w io.Writer, payload string, masked bool) error {
	if len(payload) >= 126 {
		return fmt.Errorf("payload of %d bytes needs an extended length", len(payload))
	}
	frame := []byte{0x81, byte(len(payload))}
	data := []byte(payload)
	if masked {
		frame[1] |= 0x80
		mask := make([]byte, 4)
		if _, err := rand.Read(mask); err != nil {
			return err
		}
		frame = append(frame, mask...)
		for i := range data {
			data[i] ^= mask[i%4]
		}
	}
	_, err := w.Write(append(frame, data...))
	return err
}

// readFrame reads one unfragmented text frame with a payload under 126
// bytes and returns its payload.
func readFrame(r io.Reader) (string, error) {
	header := make([]byte, 2)
	if _, err := io.ReadFull(r, header); err != nil {
		return "", err
	}
	if header[0] != 0x81 {
		return "", fmt.Errorf("frame starts with %#x, expected a final text frame 0x81", header[0])
	}
	length := int(header[1] & 0x7f)
	if length >= 126 {
		return "", fmt.Errorf("frame length %d needs an extended length", length)
	}
	var mask []byte
	if header[1]&0x80 != 0 {
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
			websocketAccept(r.Header.Get("Sec-WebSocket-Key")))
		if err := writeFrame(buffered, "welcome to "+r.Header.Get("X-Daily-Room"), false); err != nil {
			t.Errorf("upstream write: %v", err)
			return
		}
		if err := buffered.Flush(); err != nil {
			t.Errorf("upstream flush: %v", err)
			return
		}

		message, err := readFrame(buffered)
		if err != nil {
			t.Errorf("upstream read: %v", err)
			return
		}
		if err := writeFrame(connection, "echo: "+message, false); err != nil {
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
	if response.StatusCode == http.StatusSwitchingProtocols && response.Header.Get("Sec-WebSocket-Accept") != websocketAccept(key) {
		t.Errorf("Sec-WebSocket-Accept = %q, expected %q", response.Header.Get("Sec-WebSocket-Accept"), websocketAccept(key))
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

		greeting, err := readFrame(reader)
		if err != nil || greeting != "welcome to "+casetable.Room {
			t.Fatalf("first frame from upstream = %q (%v), expected the room greeting", greeting, err)
		}
		if err := writeFrame(connection, "hello", true); err != nil {
			t.Fatal(err)
		}
		echo, err := readFrame(reader)
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
