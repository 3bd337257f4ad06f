//go:build linux

package stdio

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Pipes are a process's stdio without a tty: the shim keeps one end of each
// pipe (Stdin, Stdout, Stderr) and hands the other (Child) to the runtime.
type Pipes struct {
	Stdin          *os.File // nil without stdin
	Stdout, Stderr *os.File
	Child          [3]*os.File // 0: stdin (or nil for /dev/null), 1, 2
}

// NewPipes makes the pipes; stdin selects whether there is a stdin pipe.
func NewPipes(stdin bool) (*Pipes, error) {
	p := &Pipes{}
	var err error
	if stdin {
		if p.Child[0], p.Stdin, err = os.Pipe(); err != nil {
			return nil, fmt.Errorf("stdin pipe: %w", err)
		}
	}
	if p.Stdout, p.Child[1], err = os.Pipe(); err != nil {
		p.Close()
		return nil, fmt.Errorf("stdout pipe: %w", err)
	}
	if p.Stderr, p.Child[2], err = os.Pipe(); err != nil {
		p.Close()
		return nil, fmt.Errorf("stderr pipe: %w", err)
	}
	return p, nil
}

// CloseChild closes the runtime's ends once it has passed them on.
func (p *Pipes) CloseChild() {
	for i, f := range p.Child {
		if f != nil {
			f.Close()
			p.Child[i] = nil
		}
	}
}

// Close closes every end.
func (p *Pipes) Close() {
	p.CloseChild()
	for _, f := range []*os.File{p.Stdin, p.Stdout, p.Stderr} {
		if f != nil {
			f.Close()
		}
	}
}

// ConsoleSocket is where a runtime sends a pty master (--console-socket).
type ConsoleSocket struct {
	l    *net.UnixListener
	path string
}

// ListenConsole listens on path.
func ListenConsole(path string) (*ConsoleSocket, error) {
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen console socket: %w", err)
	}
	l.SetUnlinkOnClose(true)
	return &ConsoleSocket{l: l, path: path}, nil
}

// Path returns the socket's path.
func (c *ConsoleSocket) Path() string { return c.path }

// Close stops listening and removes the socket.
func (c *ConsoleSocket) Close() error { return c.l.Close() }

// Receive accepts one connection and returns the pty master it carries.
// Close the socket to abort it.
func (c *ConsoleSocket) Receive() (*os.File, error) {
	conn, err := c.l.AcceptUnix()
	if err != nil {
		return nil, fmt.Errorf("accept console: %w", err)
	}
	defer conn.Close()
	buf := make([]byte, 256)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, fmt.Errorf("receive console: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("receive console: no control message (%v)", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, fmt.Errorf("receive console: no fd (%v)", err)
	}
	// Non-blocking, so the file is served by the runtime's poller rather
	// than holding a thread in read(2).
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		return nil, fmt.Errorf("console nonblock: %w", err)
	}
	unix.CloseOnExec(fds[0])
	return os.NewFile(uintptr(fds[0]), "ptmx"), nil
}

// Resize sets a pty's window size.
func Resize(master *os.File, width, height uint16) error {
	rc, err := master.SyscallConn()
	if err != nil {
		return fmt.Errorf("resize tty: %w", err)
	}
	var ioErr error
	err = rc.Control(func(fd uintptr) {
		ioErr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: height, Col: width})
	})
	if err == nil {
		err = ioErr
	}
	if err != nil {
		return fmt.Errorf("resize tty: %w", err)
	}
	return nil
}

// Copy reads r until EOF (or EIO: a pty whose slave side is gone), passing
// each chunk to out.
func Copy(r io.Reader, out func(p []byte)) error {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			out(buf[:n])
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, syscall.EIO) || errors.Is(err, os.ErrClosed) {
				return nil
			}
			return err
		}
	}
}
