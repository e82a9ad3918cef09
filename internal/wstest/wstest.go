// Package wstest speaks just enough of the WebSocket protocol (RFC 6455)
// for the tests of both adapters: the accept key and unfragmented text
// frames under 126 bytes. Writing it by hand keeps the project free of a
// WebSocket dependency.
package wstest

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
)

// guid is the constant of RFC 6455 section 1.3 that the accept key is
// derived with.
const guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// Accept returns the Sec-WebSocket-Accept value for a Sec-WebSocket-Key.
func Accept(key string) string {
	sum := sha1.Sum([]byte(key + guid))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// WriteFrame writes one final text frame. Frames from a client must be
// masked and frames from a server must not be (RFC 6455 section 5.1).
func WriteFrame(w io.Writer, payload string, masked bool) error {
	if len(payload) > 125 {
		return fmt.Errorf("payload of %d bytes needs an extended length, which this helper does not write", len(payload))
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

// ReadFrame reads one final text frame, unmasks it if it is masked, and
// returns its payload.
func ReadFrame(r io.Reader) (string, error) {
	head := make([]byte, 2)
	if _, err := io.ReadFull(r, head); err != nil {
		return "", err
	}
	if head[0] != 0x81 {
		return "", fmt.Errorf("frame starts with %#x, expected a final text frame 0x81", head[0])
	}
	length := int(head[1] & 0x7f)
	if length > 125 {
		return "", fmt.Errorf("frame length code %d needs an extended length, which this helper does not read", length)
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
	if mask != nil {
		for i := range data {
			data[i] ^= mask[i%4]
		}
	}
	return string(data), nil
}
