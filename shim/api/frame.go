package api

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Stream ids of a frame (the first byte of its header).
const (
	FrameStdin  byte = 0 // client → shim: bytes for the process's stdin
	FrameStdout byte = 1 // shim → client: bytes the process wrote to stdout (or its tty)
	FrameStderr byte = 2 // shim → client: bytes the process wrote to stderr
	FrameResize byte = 3 // client → shim: 4 bytes, height then width, big-endian uint16
	FrameClose  byte = 4 // client → shim: no more stdin from this client
	FrameExit   byte = 5 // shim → client: JSON ExitStatus; the last frame
)

// MaxFrame is the largest payload a frame may carry.
const MaxFrame = 1 << 20

// ErrFrameTooLarge is returned for a frame header announcing more than MaxFrame bytes.
var ErrFrameTooLarge = errors.New("frame too large")

// WriteFrame writes one frame: stream id, 4-byte big-endian length, payload.
func WriteFrame(w io.Writer, stream byte, p []byte) error {
	if len(p) > MaxFrame {
		return ErrFrameTooLarge
	}
	buf := make([]byte, 5+len(p))
	buf[0] = stream
	binary.BigEndian.PutUint32(buf[1:5], uint32(len(p)))
	copy(buf[5:], p)
	_, err := w.Write(buf)
	return err
}

// ReadFrame reads one frame. The payload is a new slice.
func ReadFrame(r io.Reader) (stream byte, p []byte, err error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:5])
	if n > MaxFrame {
		return 0, nil, fmt.Errorf("read frame of %d bytes: %w", n, ErrFrameTooLarge)
	}
	p = make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, fmt.Errorf("read frame payload: %w", err)
	}
	return hdr[0], p, nil
}

// ResizePayload encodes a window size for a resize frame.
func ResizePayload(width, height uint16) []byte {
	var b [4]byte
	binary.BigEndian.PutUint16(b[0:2], height)
	binary.BigEndian.PutUint16(b[2:4], width)
	return b[:]
}

// ParseResize decodes a resize frame's payload.
func ParseResize(p []byte) (width, height uint16, err error) {
	if len(p) != 4 {
		return 0, 0, fmt.Errorf("resize frame of %d bytes, want 4", len(p))
	}
	return binary.BigEndian.Uint16(p[2:4]), binary.BigEndian.Uint16(p[0:2]), nil
}
