package container

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	shimapi "github.com/berthrun/berth/shim/api"
)

// LogEntry is one line of a container's json-file log.
type LogEntry struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// LogOptions select what Logs returns.
type LogOptions struct {
	Follow bool
	Tail   int // -1: all
	Since  time.Time
}

// Logs calls fn for each log entry of c, oldest first; with Follow it then
// waits for new entries until c exits or ctx ends.
func (s *Service) Logs(ctx context.Context, c *Container, o LogOptions, fn func(LogEntry) error) error {
	path := s.logPath(c.ID)
	var entries []LogEntry
	// Rotated files first, oldest (highest number) to newest.
	for i := logMaxFiles - 1; i >= 1; i-- {
		if err := readLog(path+"."+strconv.Itoa(i), func(e LogEntry) { entries = append(entries, e) }); err != nil {
			return err
		}
	}
	f, err := os.Open(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var r *bufio.Reader
	if f != nil {
		defer f.Close()
		r = bufio.NewReader(f)
		for {
			e, err := nextEntry(r)
			if err != nil {
				break
			}
			entries = append(entries, e)
		}
	}
	if o.Tail >= 0 && len(entries) > o.Tail {
		entries = entries[len(entries)-o.Tail:]
	}
	for _, e := range entries {
		if !o.Since.IsZero() && e.Time.Before(o.Since) {
			continue
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if !o.Follow || r == nil {
		return nil
	}
	done := s.exited(ctx, c)
	var pending []byte
	for {
		line, err := r.ReadBytes('\n')
		pending = append(pending, line...)
		if err == nil {
			var e LogEntry
			if json.Unmarshal(pending, &e) == nil {
				if err := fn(e); err != nil {
					return err
				}
			}
			pending = pending[:0]
			continue
		}
		if !errors.Is(err, io.EOF) {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-done:
			// Read what the shim wrote before it recorded the exit.
			if more, _ := io.ReadAll(r); len(more) > 0 {
				pending = append(pending, more...)
				for _, l := range splitLines(pending) {
					var e LogEntry
					if json.Unmarshal(l, &e) == nil {
						_ = fn(e)
					}
				}
			}
			return nil
		case <-time.After(50 * time.Millisecond):
			// The log may have been rotated: follow the new file.
			if fi, err := os.Stat(path); err == nil {
				if cur, err := f.Stat(); err == nil && !os.SameFile(fi, cur) {
					nf, err := os.Open(path)
					if err == nil {
						f.Close()
						f = nf
						r = bufio.NewReader(f)
					}
				}
			}
		}
	}
}

// exited closes when c's exit record appears.
func (s *Service) exited(ctx context.Context, c *Container) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		for ctx.Err() == nil {
			if _, err := shimapi.ReadExit(s.runDir(c.ID)); err == nil {
				return
			}
			if !shimapi.Alive(ctx, s.runDir(c.ID)) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	return ch
}

func readLog(path string, fn func(LogEntry)) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read log: %w", err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	for {
		e, err := nextEntry(r)
		if err != nil {
			return nil
		}
		fn(e)
	}
}

func nextEntry(r *bufio.Reader) (LogEntry, error) {
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return LogEntry{}, err
		}
		var e LogEntry
		if json.Unmarshal(line, &e) == nil {
			return e, nil
		}
	}
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != '\n' {
			i++
		}
		out = append(out, b[:i])
		if i < len(b) {
			i++
		}
		b = b[i:]
	}
	return out
}
