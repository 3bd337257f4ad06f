package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// localTerminal is mgr's own terminal while a container's tty is attached.
type localTerminal struct {
	once    sync.Once
	restore func()
}

// setupTerminal puts mgr's terminal in raw mode (when tty and stdin is a
// terminal) and forwards its size now and on every SIGWINCH.
func setupTerminal(ctx context.Context, tty bool, resize func(w, h uint16)) (*localTerminal, error) {
	t := &localTerminal{restore: func() {}}
	if !tty {
		return t, nil
	}
	fd := int(os.Stdin.Fd())
	sendSize := func() {
		if w, h, err := term.GetSize(fd); err == nil {
			resize(uint16(w), uint16(h))
		}
	}
	if !term.IsTerminal(fd) {
		return t, nil
	}
	state, err := term.MakeRaw(fd)
	if err != nil {
		return nil, fmt.Errorf("set terminal raw: %w", err)
	}
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, unix.SIGWINCH)
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-winch:
				sendSize()
			case <-stop:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	sendSize()
	t.restore = func() {
		t.once.Do(func() {
			signal.Stop(winch)
			close(stop)
			_ = term.Restore(fd, state)
		})
	}
	return t, nil
}

// parseDetachKeys reads docker's "ctrl-p,ctrl-q" notation.
func parseDetachKeys(s string) ([]byte, error) {
	var out []byte
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		switch {
		case len(k) == 1:
			out = append(out, k[0])
		case strings.HasPrefix(k, "ctrl-") && len(k) == 6:
			c := k[5]
			switch {
			case c >= 'a' && c <= 'z':
				out = append(out, c-'a'+1)
			case c == '@':
				out = append(out, 0)
			case c >= '[' && c <= '_':
				out = append(out, c-'['+27)
			default:
				return nil, fmt.Errorf("invalid detach key %q", k)
			}
		default:
			return nil, fmt.Errorf("invalid detach key %q", k)
		}
	}
	return out, nil
}

// detachReader passes input through until the detach sequence is typed;
// then it calls onDetach and reports EOF. A partial sequence that does not
// complete is passed on.
type detachReader struct {
	r        io.Reader
	keys     []byte
	matched  int
	onDetach func()
	pending  []byte
	done     bool
}

func newDetachReader(r io.Reader, keys []byte, onDetach func()) io.Reader {
	return &detachReader{r: r, keys: keys, onDetach: onDetach}
}

func (d *detachReader) Read(p []byte) (int, error) {
	if d.done {
		return 0, io.EOF
	}
	if len(d.pending) > 0 {
		n := copy(p, d.pending)
		d.pending = d.pending[n:]
		return n, nil
	}
	buf := make([]byte, len(p))
	n, err := d.r.Read(buf)
	out := p[:0]
	for _, b := range buf[:n] {
		if len(d.keys) > 0 && b == d.keys[d.matched] {
			d.matched++
			if d.matched == len(d.keys) {
				d.done = true
				d.onDetach()
				return len(out), nil
			}
			continue
		}
		if d.matched > 0 {
			d.pending = append(d.pending, d.keys[:d.matched]...)
			d.matched = 0
		}
		if len(d.pending) > 0 {
			d.pending = append(d.pending, b)
			continue
		}
		out = append(out, b)
	}
	if len(out) == 0 && len(d.pending) > 0 && err == nil {
		m := copy(p, d.pending)
		d.pending = d.pending[m:]
		return m, nil
	}
	return len(out), err
}
