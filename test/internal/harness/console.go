//go:build integration && linux

package harness

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ConsoleSocket is a unix socket for --console-socket: the runtime connects
// and sends the pty master as SCM_RIGHTS. Every received master is queued.
type ConsoleSocket struct {
	Path    string
	ln      *net.UnixListener
	masters chan *os.File
	errs    chan error
}

// NewConsoleSocket listens on a fresh socket (in a short /tmp directory: a
// socket path must fit in 108 bytes) and accepts connections until cleanup.
func NewConsoleSocket(t testing.TB) *ConsoleSocket {
	t.Helper()
	dir, err := os.MkdirTemp("", "rtcs")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "console.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		_ = os.RemoveAll(dir)
		t.Fatalf("listen on console socket: %v", err)
	}
	cs := &ConsoleSocket{Path: path, ln: ln, masters: make(chan *os.File, 8), errs: make(chan error, 8)}
	go cs.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		for {
			select {
			case f := <-cs.masters:
				_ = f.Close()
				continue
			default:
			}
			break
		}
		_ = os.RemoveAll(dir)
	})
	return cs
}

func (cs *ConsoleSocket) accept() {
	for {
		conn, err := cs.ln.AcceptUnix()
		if err != nil {
			return
		}
		f, err := recvFd(conn)
		_ = conn.Close()
		if err != nil {
			cs.errs <- err
			continue
		}
		cs.masters <- f
	}
}

// recvFd reads one message and returns the single file descriptor it
// carries.
func recvFd(conn *net.UnixConn) (*os.File, error) {
	if err := conn.SetReadDeadline(time.Now().Add(DefaultTimeout)); err != nil {
		return nil, err
	}
	buf := make([]byte, 4096) // the runtime sends the pty name as data
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, fmt.Errorf("recvmsg: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, fmt.Errorf("parse control message: %w", err)
	}
	var fds []int
	for i := range msgs {
		got, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			continue
		}
		fds = append(fds, got...)
	}
	if len(fds) != 1 {
		for _, fd := range fds {
			_ = unix.Close(fd)
		}
		return nil, fmt.Errorf("expected 1 fd over the console socket, got %d (data %q)", len(fds), buf[:n])
	}
	return ptyFile(fds[0], strings.TrimRight(string(buf[:n]), "\x00"))
}

// ptyFile wraps a pty fd so reads can time out (a non-blocking fd is
// registered with the runtime poller).
func ptyFile(fd int, name string) (*os.File, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return nil, err
	}
	if name == "" {
		name = "pty-master"
	}
	return os.NewFile(uintptr(fd), name), nil
}

// Master waits for the next pty master sent over the socket.
func (cs *ConsoleSocket) Master(t testing.TB) *os.File {
	t.Helper()
	select {
	case f := <-cs.masters:
		t.Cleanup(func() { _ = f.Close() })
		return f
	case err := <-cs.errs:
		t.Fatalf("console socket: %v", err)
	case <-time.After(DefaultTimeout):
		t.Fatalf("no pty master received on %s", cs.Path)
	}
	return nil
}

// SetWinsize sets the terminal size on a pty (master or slave).
func SetWinsize(f *os.File, rows, cols uint16) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ioErr error
	err = rc.Control(func(fd uintptr) {
		ioErr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
	})
	if err != nil {
		return err
	}
	return ioErr
}

// ReadUntilClosed reads from a pty master until the other side is closed
// by every process (EIO), or until timeout, and returns what was read.
func ReadUntilClosed(f *os.File, timeout time.Duration) (string, error) {
	if err := f.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := f.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, syscall.EIO) {
				return sb.String(), nil
			}
			return sb.String(), err
		}
	}
}

// ReadUntil reads from f until the accumulated output contains want, or the
// timeout passes; it returns everything read.
func ReadUntil(f *os.File, want string, timeout time.Duration) (string, error) {
	if err := f.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	var sb strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(sb.String(), want) {
		n, err := f.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			return sb.String(), fmt.Errorf("waiting for %q: %w", want, err)
		}
	}
	return sb.String(), nil
}

// OpenPty allocates a pty pair on the host (for a runtime invocation that
// needs a controlling terminal). The master is non-blocking for deadlines.
func OpenPty(t testing.TB) (master, slave *os.File) {
	t.Helper()
	mfd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		_ = unix.Close(mfd)
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(mfd, unix.TIOCGPTN)
	if err != nil {
		_ = unix.Close(mfd)
		t.Fatalf("ptsname: %v", err)
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	slave, err = os.OpenFile(name, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		_ = unix.Close(mfd)
		t.Fatalf("open %s: %v", name, err)
	}
	master, err = ptyFile(mfd, "/dev/ptmx")
	if err != nil {
		slave.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { master.Close(); slave.Close() })
	return master, slave
}

// NormalizeTTY turns terminal output into plain lines: drops \r and NULs.
func NormalizeTTY(s string) string {
	return strings.NewReplacer("\r", "", "\x00", "").Replace(s)
}
