// Package logging writes a container's output to a docker json-file log.
//
// Format: one JSON object per line,
//
//	{"log":"hello\n","stream":"stdout","time":"2024-05-01T10:00:00.123456789Z"}
//
// "log" is the bytes of one line including its "\n"; "stream" is "stdout" or
// "stderr" (a tty is one stream, logged as "stdout"); "time" is when the
// shim read it, RFC 3339 with nanoseconds, UTC. A partial line — one that
// does not end in "\n" because it filled the line buffer (MaxLine bytes) or
// the stream ended without a newline — is an entry whose "log" does not end
// in "\n"; the rest of the line follows in the next entry of that stream.
// This is what docker's json-file driver writes, so `docker logs`-style
// readers work unchanged.
//
// Rotation: before an entry would take the file over MaxSize bytes, the file
// is renamed to PATH.1 (PATH.1 to PATH.2, … keeping MaxFiles files in all,
// PATH included) and a new PATH is started. With MaxFiles 1 the file is
// truncated instead. MaxSize 0 disables rotation.
package logging

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// MaxLine is the longest line kept in memory before it is logged as partial
// (docker's 16 KiB).
const MaxLine = 16 << 10

// Writer is a json-file log with size-based rotation. It is safe for
// concurrent use by the stdout and stderr copiers.
type Writer struct {
	path     string
	maxSize  int64
	maxFiles int

	mu   sync.Mutex
	f    *os.File
	size int64
	buf  []byte
}

// Open opens (appending to) the log at path.
func Open(path string, maxSize int64, maxFiles int) (*Writer, error) {
	if maxFiles < 1 {
		maxFiles = 1
	}
	w := &Writer{path: path, maxSize: maxSize, maxFiles: maxFiles}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Writer) open() error {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open log: %w", err)
	}
	w.f, w.size = f, fi.Size()
	return nil
}

// Reopen closes and reopens the file, for an external log rotator.
func (w *Writer) Reopen() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.f.Close()
	return w.open()
}

// Close closes the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.f.Close()
}

// Write logs one entry: p is a whole line (ending in "\n") or a partial one.
func (w *Writer) Write(stream string, p []byte, t time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = AppendEntry(w.buf[:0], stream, p, t)
	if w.maxSize > 0 && w.size > 0 && w.size+int64(len(w.buf)) > w.maxSize {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	n, err := w.f.Write(w.buf)
	w.size += int64(n)
	if err != nil {
		return fmt.Errorf("write log: %w", err)
	}
	return nil
}

func (w *Writer) rotate() error {
	if w.maxFiles == 1 {
		if err := w.f.Truncate(0); err != nil {
			return fmt.Errorf("truncate log: %w", err)
		}
		w.size = 0
		return nil
	}
	w.f.Close()
	for i := w.maxFiles - 1; i >= 1; i-- {
		from := w.path
		if i > 1 {
			from = w.path + "." + strconv.Itoa(i-1)
		}
		if err := os.Rename(from, w.path+"."+strconv.Itoa(i)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rotate log: %w", err)
		}
	}
	return w.open()
}

// AppendEntry appends one json-file line to dst.
func AppendEntry(dst []byte, stream string, p []byte, t time.Time) []byte {
	dst = append(dst, `{"log":`...)
	dst = appendString(dst, p)
	dst = append(dst, `,"stream":"`...)
	dst = append(dst, stream...)
	dst = append(dst, `","time":"`...)
	dst = t.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, "\"}\n"...)
}

const hex = "0123456789abcdef"

// appendString appends p as a JSON string, as encoding/json would (invalid
// UTF-8 becomes U+FFFD).
func appendString(dst, p []byte) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(p); {
		c := p[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			dst = append(dst, p[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// Lines splits a stream into log entries: whole lines, and partial ones when
// a line reaches MaxLine bytes or at Flush.
type Lines struct {
	buf  []byte
	emit func(line []byte)
}

// NewLines returns a splitter that calls emit for each entry.
func NewLines(emit func(line []byte)) *Lines { return &Lines{emit: emit} }

// Write feeds p.
func (l *Lines) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := indexNL(p)
		room := MaxLine - len(l.buf)
		switch {
		case i >= 0 && i < room:
			line := p[:i+1]
			p = p[i+1:]
			if len(l.buf) == 0 {
				l.emit(line)
				continue
			}
			l.buf = append(l.buf, line...)
			l.emit(l.buf)
			l.buf = l.buf[:0]
		case i < 0 && len(p) < room:
			l.buf = append(l.buf, p...)
			p = nil
		default: // the line reaches MaxLine: log what fits as partial
			l.buf = append(l.buf, p[:room]...)
			p = p[room:]
			l.Flush()
		}
	}
	return n, nil
}

// Flush emits a buffered partial line.
func (l *Lines) Flush() {
	if len(l.buf) > 0 {
		l.emit(l.buf)
		l.buf = l.buf[:0]
	}
}

func indexNL(p []byte) int {
	for i, c := range p {
		if c == '\n' {
			return i
		}
	}
	return -1
}
