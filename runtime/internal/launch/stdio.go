package launch

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"

	"github.com/containerd/console"
	"golang.org/x/sys/unix"

	"github.com/berthrun/berth/runtime/internal/libct"
)

// stdio owns what rt holds for a process's standard streams: pipe ends,
// a local console, or the connection to a caller's console socket.
type stdio struct {
	epoller     *console.Epoller
	console     *console.EpollConsole
	hostConsole console.Console
	closers     []io.Closer // closed at the very end
	postStart   []io.Closer // closed once the process runs
	wg          sync.WaitGroup
	consoleErr  chan error
}

// setupStdio prepares p's stdio. With a terminal and detach, the pty master
// goes to the caller's console socket; with a terminal in the foreground, rt
// receives the master itself and copies between it and its own terminal.
// Without a terminal a detached process inherits rt's stdio and a
// foreground one gets pipes that rt copies.
func setupStdio(p *libct.Process, c *libct.Container, terminal, detach bool, consoleSocket string) (_ *stdio, retErr error) {
	if !terminal {
		if detach {
			p.Stdin, p.Stdout, p.Stderr = os.Stdin, os.Stdout, os.Stderr
			return &stdio{}, nil
		}
		cfg := c.Config()
		uid, err := cfg.HostRootUID()
		if err != nil {
			return nil, err
		}
		gid, err := cfg.HostRootGID()
		if err != nil {
			return nil, err
		}
		return pipeStdio(p, uid, gid)
	}

	s := &stdio{}
	if detach {
		conn, err := net.Dial("unix", consoleSocket)
		if err != nil {
			return nil, fmt.Errorf("connect to console socket: %w", err)
		}
		defer func() {
			if retErr != nil {
				conn.Close()
			}
		}()
		f, err := conn.(*net.UnixConn).File()
		if err != nil {
			return nil, err
		}
		s.postStart = append(s.postStart, conn, f)
		p.ConsoleSocket = f
		return s, nil
	}

	if err := s.openHostConsole(); err != nil {
		return nil, err
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("console socket pair: %w", err)
	}
	parent := os.NewFile(uintptr(fds[1]), "console-parent")
	child := os.NewFile(uintptr(fds[0]), "console-child")
	p.ConsoleSocket = child
	s.postStart = append(s.postStart, parent, child)
	s.consoleErr = make(chan error, 1)
	go func() { s.consoleErr <- s.receiveConsole(parent) }()
	return s, nil
}

func pipeStdio(p *libct.Process, uid, gid int) (*stdio, error) {
	pio, err := p.InitializeIO(uid, gid)
	if err != nil {
		return nil, err
	}
	s := &stdio{closers: []io.Closer{pio.Stdin, pio.Stdout, pio.Stderr}}
	for _, end := range []any{p.Stdin, p.Stdout, p.Stderr} {
		if c, ok := end.(io.Closer); ok {
			s.postStart = append(s.postStart, c)
		}
	}
	go func() {
		_, _ = io.Copy(pio.Stdin, os.Stdin)
		_ = pio.Stdin.Close()
	}()
	s.wg.Add(2)
	go s.copy(os.Stdout, pio.Stdout)
	go s.copy(os.Stderr, pio.Stderr)
	return s, nil
}

func (s *stdio) copy(w io.Writer, r io.ReadCloser) {
	defer s.wg.Done()
	_, _ = io.Copy(w, r)
	_ = r.Close()
}

// openHostConsole finds rt's own terminal among its stdio or /dev/tty.
func (s *stdio) openHostConsole() error {
	for _, f := range []*os.File{os.Stderr, os.Stdout, os.Stdin} {
		c, err := console.ConsoleFromFile(f)
		if err == nil {
			s.hostConsole = c
			return nil
		}
		if !errors.Is(err, console.ErrNotAConsole) {
			return fmt.Errorf("get console: %w", err)
		}
	}
	f, err := os.Open("/dev/tty")
	if err != nil {
		return fmt.Errorf("a terminal was requested but rt has none: %w", err)
	}
	c, err := console.ConsoleFromFile(f)
	if err != nil {
		return fmt.Errorf("get console: %w", err)
	}
	s.hostConsole = c
	return nil
}

// receiveConsole takes the pty master from the container and starts copying.
func (s *stdio) receiveConsole(socket *os.File) (retErr error) {
	master, err := recvFile(socket)
	if err != nil {
		return err
	}
	cons, err := console.ConsoleFromFile(master)
	if err != nil {
		return err
	}
	if err := console.ClearONLCR(cons.Fd()); err != nil {
		return err
	}
	epoller, err := console.NewEpoller()
	if err != nil {
		return err
	}
	ec, err := epoller.Add(cons)
	if err != nil {
		return err
	}
	defer func() {
		if retErr != nil {
			ec.Close()
		}
	}()
	go func() { _ = epoller.Wait() }()
	go func() { _, _ = io.Copy(ec, os.Stdin) }()
	s.wg.Add(1)
	go s.copy(os.Stdout, ec)
	if err := s.hostConsole.SetRaw(); err != nil {
		return fmt.Errorf("set the terminal raw: %w", err)
	}
	go resetOnInterrupt(s.hostConsole)
	s.epoller, s.console = epoller, ec
	s.closers = []io.Closer{ec}
	return nil
}

func resetOnInterrupt(c console.Console) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	<-ch
	_ = c.Reset()
	os.Exit(0)
}

// recvFile reads one file descriptor sent with SCM_RIGHTS.
func recvFile(socket *os.File) (*os.File, error) {
	name := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(int(socket.Fd()), name, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("receive console: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("receive console: bad control message (%v)", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, fmt.Errorf("receive console: want one fd (%v)", err)
	}
	return os.NewFile(uintptr(fds[0]), string(name[:n])), nil
}

func (s *stdio) waitConsole() error {
	if s.consoleErr != nil {
		return <-s.consoleErr
	}
	return nil
}

func (s *stdio) closePostStart() {
	for _, c := range s.postStart {
		_ = c.Close()
	}
	s.postStart = nil
}

func (s *stdio) resize() error {
	if s.console == nil || s.hostConsole == nil {
		return nil
	}
	return s.console.ResizeFrom(s.hostConsole)
}

// Close waits for the output copies to drain and restores rt's terminal.
func (s *stdio) Close() {
	s.closePostStart()
	if s.console != nil && s.epoller != nil {
		_ = s.console.Shutdown(s.epoller.CloseConsole)
	}
	s.wg.Wait()
	for _, c := range s.closers {
		_ = c.Close()
	}
	if s.hostConsole != nil {
		_ = s.hostConsole.Reset()
	}
}
