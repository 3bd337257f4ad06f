package api

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/moby/moby/api/types/jsonstream"
)

func jsonEncode(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }

// Stream ids of docker's multiplexed stream (stdcopy).
const (
	streamStdout byte = 1
	streamStderr byte = 2
	streamSystem byte = 3 // a daemon error; ends the stream
)

// muxWriter writes docker's multiplexed framing: an 8-byte header
// [stream 0 0 0 len(uint32 BE)] then the payload. With raw set (a TTY
// session) it writes the bytes unframed.
type muxWriter struct {
	mu  sync.Mutex
	w   io.Writer
	raw bool
	fl  func() // flush after each write, if the writer buffers
}

func (m *muxWriter) write(stream byte, p []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(p) == 0 {
		return nil
	}
	if !m.raw {
		var hdr [8]byte
		hdr[0] = stream
		binary.BigEndian.PutUint32(hdr[4:], uint32(len(p)))
		if _, err := m.w.Write(hdr[:]); err != nil {
			return err
		}
	}
	_, err := m.w.Write(p)
	if err == nil && m.fl != nil {
		m.fl()
	}
	return err
}

// streamWriter is one stream of a muxWriter as an io.Writer.
type streamWriter struct {
	m  *muxWriter
	id byte
}

func (s streamWriter) Write(p []byte) (int, error) {
	if err := s.m.write(s.id, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// hijack takes over the connection of an attach or exec start: it answers
// 101 UPGRADED when the client asked to upgrade (the docker CLI does, and
// errors on anything else), a plain 200 otherwise, and hands back the raw
// connection and its buffered reader.
func hijack(w http.ResponseWriter, r *http.Request, tty bool) (net.Conn, *bufio.Reader, error) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, nil, errNotHijackable
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	ctype := "application/vnd.docker.multiplexed-stream"
	if tty {
		ctype = "application/vnd.docker.raw-stream"
	}
	hdr := w.Header()
	var resp string
	if r.Header.Get("Upgrade") != "" {
		resp = "HTTP/1.1 101 UPGRADED\r\nContent-Type: " + ctype + "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
	} else {
		resp = "HTTP/1.1 200 OK\r\nContent-Type: " + ctype + "\r\n"
	}
	for _, k := range []string{"Api-Version", "Ostype", "Server"} {
		resp += k + ": " + hdr.Get(k) + "\r\n"
	}
	if _, err := io.WriteString(conn, resp+"\r\n"); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, rw.Reader, nil
}

var errNotHijackable = &hijackError{}

type hijackError struct{}

func (*hijackError) Error() string { return "connection cannot be hijacked" }

// progressStream writes docker's JSON message stream (pull, push, load):
// 200, application/json, one flushed message per line. Errors after the
// header must go in errorDetail: the CLI ignores anything else.
type progressStream struct {
	mu      sync.Mutex
	w       http.ResponseWriter
	started bool
}

func (p *progressStream) send(m jsonstream.Message) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.started {
		p.w.Header().Set("Content-Type", "application/json")
		p.w.WriteHeader(http.StatusOK)
		p.started = true
	}
	_ = jsonEncode(p.w, m)
	_ = http.NewResponseController(p.w).Flush()
}

// fail reports err: as an error answer if nothing was sent yet, else as an
// errorDetail message.
func (p *progressStream) fail(err error) error {
	p.mu.Lock()
	started := p.started
	p.mu.Unlock()
	if !started {
		return err
	}
	p.send(jsonstream.Message{Error: &jsonstream.Error{Message: message(err)}})
	return nil
}
