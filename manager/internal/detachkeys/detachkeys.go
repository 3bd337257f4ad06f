// Package detachkeys is docker's detach sequence (ctrl-p ctrl-q by
// default): its notation, and an input filter that ends a terminal
// session when it is typed, for the mgr CLI and the daemon alike.
package detachkeys

import (
	"fmt"
	"io"
	"strings"
)

// Default is docker's detach sequence.
const Default = "ctrl-p,ctrl-q"

// Parse reads docker's "ctrl-p,ctrl-q" notation.
func Parse(s string) ([]byte, error) {
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

// NewReader returns r with the detach sequence keys filtered out: typing
// it calls onDetach and ends the input.
func NewReader(r io.Reader, keys []byte, onDetach func()) io.Reader {
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
