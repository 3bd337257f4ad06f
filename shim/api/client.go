package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync"
	"time"
)

// ErrUnsupportedVersion is the error text a shim answers a request of an
// unknown protocol version with.
const ErrUnsupportedVersion = "unsupported protocol version"

// Client talks to one shim over its control socket. Every call opens its own
// connection, so a Client is safe for concurrent use and holds no resources.
type Client struct {
	socket string
}

// Dial checks that a shim listens on socketPath and returns a client for it.
// A manager that restarts finds a shim again from its state directory:
// Dial(filepath.Join(stateDir, SocketFile)).
func Dial(ctx context.Context, socketPath string) (*Client, error) {
	c := &Client{socket: socketPath}
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	conn.Close()
	return c, nil
}

// NewClient returns a client for the shim at socketPath without checking
// that it listens (it may already have exited: Wait then reads exit.json).
func NewClient(socketPath string) *Client { return &Client{socket: socketPath} }

// SocketPath returns the control socket of the shim whose state directory is dir.
func SocketPath(stateDir string) string { return filepath.Join(stateDir, SocketFile) }

func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.socket)
	if err != nil {
		return nil, fmt.Errorf("dial shim %s: %w", c.socket, err)
	}
	return conn, nil
}

// roundTrip sends req on a new connection and reads the response line. The
// connection stays open for the caller when keep is true.
func (c *Client) roundTrip(ctx context.Context, req Request, keep bool) (*Response, net.Conn, *bufio.Reader, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	fail := func(err error) (*Response, net.Conn, *bufio.Reader, error) {
		stop()
		conn.Close()
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return nil, nil, nil, err
	}
	req.V = Version
	b, err := json.Marshal(req)
	if err != nil {
		return fail(fmt.Errorf("encode %s request: %w", req.Op, err))
	}
	if _, err := conn.Write(append(b, '\n')); err != nil {
		return fail(fmt.Errorf("send %s request: %w", req.Op, err))
	}
	br := bufio.NewReader(conn)
	line, err := br.ReadBytes('\n')
	if err != nil {
		return fail(fmt.Errorf("read %s response: %w", req.Op, err))
	}
	var resp Response
	if err := json.Unmarshal(line, &resp); err != nil {
		return fail(fmt.Errorf("decode %s response: %w", req.Op, err))
	}
	if resp.Error != "" {
		return fail(fmt.Errorf("shim %s: %s", req.Op, resp.Error))
	}
	if !keep {
		stop()
		conn.Close()
		return &resp, nil, nil, nil
	}
	if !stop() {
		conn.Close()
		return nil, nil, nil, ctx.Err()
	}
	return &resp, conn, br, nil
}

func (c *Client) call(ctx context.Context, req Request) (*Response, error) {
	resp, _, _, err := c.roundTrip(ctx, req, false)
	return resp, err
}

// State returns the state of the container the shim holds.
func (c *Client) State(ctx context.Context) (*State, error) {
	resp, err := c.call(ctx, Request{Op: OpState})
	if err != nil {
		return nil, err
	}
	if resp.State == nil {
		return nil, errors.New("shim state: empty response")
	}
	return resp.State, nil
}

// Start starts the created container (`RUNTIME start`).
func (c *Client) Start(ctx context.Context) error {
	_, err := c.call(ctx, Request{Op: OpStart})
	return err
}

// Kill sends signal to the container's init, or with all to every process
// in it (`RUNTIME kill [--all]`).
func (c *Client) Kill(ctx context.Context, signal int, all bool) error {
	_, err := c.call(ctx, Request{Op: OpKill, Signal: signal, All: all})
	return err
}

// Resize sets the window size of the container's tty.
func (c *Client) Resize(ctx context.Context, width, height uint16) error {
	_, err := c.call(ctx, Request{Op: OpResize, Width: width, Height: height})
	return err
}

// Wait blocks until the container's init has exited and returns how it did.
// The same record is in the state directory's exit.json (ReadExit), which
// Wait returns when the shim has already exited.
func (c *Client) Wait(ctx context.Context) (*ExitStatus, error) {
	resp, err := c.call(ctx, Request{Op: OpWait})
	if err != nil {
		if st, rerr := ReadExit(filepath.Dir(c.socket)); rerr == nil && ctx.Err() == nil {
			return st, nil
		}
		return nil, err
	}
	if resp.Exit == nil {
		return nil, errors.New("shim wait: empty response")
	}
	return resp.Exit, nil
}

// Shutdown asks the shim to clean up and exit. It fails while the container
// runs unless force is set, in which case the shim kills it first; the exit
// is recorded as usual.
func (c *Client) Shutdown(ctx context.Context, force bool) error {
	_, err := c.call(ctx, Request{Op: OpShutdown, Force: force})
	return err
}

// AttachOptions selects what an attach client sends.
type AttachOptions struct {
	// Stdin lets the client write to the container's stdin (the shim must
	// hold one: launched with Stdin or Terminal).
	Stdin bool
	// CloseStdin makes this client's CloseStdin close the container's stdin.
	CloseStdin bool
}

// Attach joins the container's stdio as a new client. Output from the
// moment of attaching on is streamed; the stream ends with an exit frame
// when the container exits.
func (c *Client) Attach(ctx context.Context, opts AttachOptions) (*Stream, error) {
	_, conn, br, err := c.roundTrip(ctx, Request{Op: OpAttach, Stdin: opts.Stdin, CloseStdin: opts.CloseStdin}, true)
	if err != nil {
		return nil, err
	}
	return &Stream{conn: conn, r: br}, nil
}

// Exec runs process (a JSON-encoded OCI runtime-spec Process; "terminal"
// selects a tty) in the container through `RUNTIME exec`. The stream carries
// its stdio and ends with its exit frame; closing the stream early leaves the
// process running with its output discarded.
func (c *Client) Exec(ctx context.Context, process json.RawMessage) (*Stream, error) {
	_, conn, br, err := c.roundTrip(ctx, Request{Op: OpExec, Process: process}, true)
	if err != nil {
		return nil, err
	}
	return &Stream{conn: conn, r: br}, nil
}

// Stream is an attach or exec session: framed stdio over the connection.
type Stream struct {
	conn net.Conn
	r    io.Reader
	wmu  sync.Mutex
}

// Recv returns the next frame from the shim.
func (s *Stream) Recv() (stream byte, p []byte, err error) { return ReadFrame(s.r) }

func (s *Stream) send(stream byte, p []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return WriteFrame(s.conn, stream, p)
}

// Write sends p to the process's stdin.
func (s *Stream) Write(p []byte) (int, error) {
	for off := 0; off < len(p); off += MaxFrame {
		end := min(off+MaxFrame, len(p))
		if err := s.send(FrameStdin, p[off:end]); err != nil {
			return off, err
		}
	}
	return len(p), nil
}

// Resize sets the session's tty window size.
func (s *Stream) Resize(width, height uint16) error {
	return s.send(FrameResize, ResizePayload(width, height))
}

// CloseStdin tells the shim this client sends no more stdin.
func (s *Stream) CloseStdin() error { return s.send(FrameClose, nil) }

// Close leaves the session. The process is not affected.
func (s *Stream) Close() error { return s.conn.Close() }

// Copy writes the process's output to stdout and stderr (either may be nil
// to discard) until the exit frame, which it returns. A stream that ends
// without one returns io.ErrUnexpectedEOF.
func (s *Stream) Copy(stdout, stderr io.Writer) (*ExitStatus, error) {
	for {
		stream, p, err := s.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("read stream: %w", err)
		}
		switch stream {
		case FrameStdout:
			if stdout != nil {
				if _, err := stdout.Write(p); err != nil {
					return nil, fmt.Errorf("write stdout: %w", err)
				}
			}
		case FrameStderr:
			if stderr != nil {
				if _, err := stderr.Write(p); err != nil {
					return nil, fmt.Errorf("write stderr: %w", err)
				}
			}
		case FrameExit:
			var st ExitStatus
			if err := json.Unmarshal(p, &st); err != nil {
				return nil, fmt.Errorf("decode exit frame: %w", err)
			}
			return &st, nil
		}
	}
}
