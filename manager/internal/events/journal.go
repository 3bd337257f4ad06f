// Package events keeps the manager's event journal: what happened to
// containers, images, networks and volumes, in docker's event shape. It is
// a file of JSON lines in the data root, appended to by every mgr process
// (the embedded CLI, shims' exit commands and the daemon alike), so `mgr
// events` and the API's /events see the same history whoever acted. A
// daemon-held bus would miss what the daemonless CLI does.
package events

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/events"
)

// maxSize is where the journal rotates: the current file becomes .1 (the
// previous .1 goes), so history keeps between one and two files' worth.
const maxSize = 2 << 20

// pollInterval is how often a follower looks for new lines.
const pollInterval = 50 * time.Millisecond

// Journal is one data root's event file.
type Journal struct {
	path string
}

// Open returns the journal kept at path (created on first Record).
func Open(path string) *Journal { return &Journal{path: path} }

// Record appends one event. Events are a record of what happened, not part
// of it: failing to write one never fails the action, so errors are dropped.
func (j *Journal) Record(typ events.Type, action events.Action, id string, attrs map[string]string) {
	if j == nil {
		return
	}
	now := time.Now()
	m := events.Message{Type: typ, Action: action, Actor: events.Actor{ID: id, Attributes: attrs}, Scope: "local", Time: now.Unix(), TimeNano: now.UnixNano()}
	line, err := json.Marshal(m)
	if err != nil {
		return
	}
	if fi, err := os.Stat(j.path); err == nil && fi.Size() > maxSize {
		_ = os.Rename(j.path, j.path+".1")
	}
	// One write with O_APPEND: lines from concurrent processes never mix.
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.Write(append(line, '\n'))
}

// Filter selects events: by time (zero: unbounded) and by match.
type Filter struct {
	Since, Until time.Time
	Match        func(events.Message) bool // nil: all
}

func (f Filter) keep(m events.Message) bool {
	t := time.Unix(0, m.TimeNano)
	if !f.Since.IsZero() && t.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && t.After(f.Until) {
		return false
	}
	return f.Match == nil || f.Match(m)
}

// Read sends the recorded events f selects, oldest first. With follow it
// then waits for new ones until ctx ends or f.Until passes.
func (j *Journal) Read(ctx context.Context, f Filter, follow bool, send func(events.Message) error) error {
	if !follow {
		for _, p := range []string{j.path + ".1", j.path} {
			if _, err := readFrom(p, 0, f, send); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		return nil
	}
	if _, err := readFrom(j.path+".1", 0, f, send); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var off int64
	var ino uint64
	for {
		if fi, err := os.Stat(j.path); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Ino != ino {
				ino, off = st.Ino, 0 // rotated (or created): a new file from its start
			}
			if fi.Size() > off {
				n, err := readFrom(j.path, off, f, send)
				if err != nil {
					return err
				}
				off = n
			}
		}
		if !f.Until.IsZero() && time.Now().After(f.Until) {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pollInterval):
		}
	}
}

// readFrom sends the complete lines of path from offset off on and
// returns the offset after the last complete line.
func readFrom(path string, off int64, f Filter, send func(events.Message) error) (int64, error) {
	file, err := os.Open(path)
	if err != nil {
		return off, err
	}
	defer file.Close()
	if _, err := file.Seek(off, io.SeekStart); err != nil {
		return off, err
	}
	r := bufio.NewReader(file)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return off, nil // EOF, or a line still being written: later
		}
		off += int64(len(line))
		var m events.Message
		if json.Unmarshal(line, &m) != nil || !f.keep(m) {
			continue
		}
		if err := send(m); err != nil {
			return off, err
		}
	}
}
