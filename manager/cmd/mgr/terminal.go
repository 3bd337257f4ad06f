package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
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
