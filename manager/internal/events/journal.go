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
		j.rotate()
	}
	// One write with O_APPEND: lines from concurrent processes never mix.
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.Write(append(line, '\n'))
}

// rotate makes the full journal the .1 file, once: processes that saw it
// full at the same moment take a lock and look again, so a second rename
// cannot push the fresh file over the history.
func (j *Journal) rotate() {
	lock, err := os.OpenFile(j.path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return
	}
	defer func() { _ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) }()
	if fi, err := os.Stat(j.path); err == nil && fi.Size() > maxSize {
		_ = os.Rename(j.path, j.path+".1")
	}
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
	// The current file stays open while it is followed: when the journal
	// rotates, what was appended to it since the last look (by processes
	// that opened it before the rename too) is read before moving on.
	var cur *os.File
	var off int64
	defer func() {
		if cur != nil {
			cur.Close()
		}
	}()
	for {
		if cur == nil {
			if file, err := os.Open(j.path); err == nil {
				cur, off = file, 0
			}
		}
		if cur != nil {
			n, err := readLines(cur, off, f, send)
			if err != nil {
				return err
			}
			off = n
			if rotated(cur, j.path) {
				if _, err := readLines(cur, off, f, send); err != nil {
					return err
				}
				cur.Close()
				cur = nil
				continue
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

// rotated reports whether path no longer names the open file.
func rotated(open *os.File, path string) bool {
	a, err1 := open.Stat()
	b, err2 := os.Stat(path)
	if err1 != nil || err2 != nil {
		return err2 != nil && errors.Is(err2, fs.ErrNotExist)
	}
	return !os.SameFile(a, b)
}

// readFrom sends the complete lines of path from offset off on and
// returns the offset after the last complete line.
func readFrom(path string, off int64, f Filter, send func(events.Message) error) (int64, error) {
	file, err := os.Open(path)
	if err != nil {
		return off, err
	}
	defer file.Close()
	return readLines(file, off, f, send)
}

// readLines sends the complete lines of file from offset off on and
// returns the offset after the last complete line; a line still being
// written waits for the next read.
func readLines(file *os.File, off int64, f Filter, send func(events.Message) error) (int64, error) {
	r := bufio.NewReader(io.NewSectionReader(file, off, 1<<62))
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return off, nil
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
