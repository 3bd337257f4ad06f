// Package errdefs holds the manager's error classes. Code wraps them with
// context (fmt.Errorf("image %q: %w", ref, errdefs.ErrNotFound)) and callers
// test with errors.Is; the CLI and the API map a class to an exit code or an
// HTTP status in one place each.
package errdefs

import "errors"

var (
	ErrNotFound        = errors.New("not found")
	ErrAlreadyExists   = errors.New("already exists")
	ErrInvalidArgument = errors.New("invalid argument")
	ErrConflict        = errors.New("conflict")     // in use, wrong state
	ErrUnavailable     = errors.New("unavailable")  // locked store, dead daemon
	ErrUnauthorized    = errors.New("unauthorized") // registry refused credentials
	ErrDataCorrupt     = errors.New("data corrupt") // digest mismatch, bad archive
	ErrNotImplemented  = errors.New("not implemented")
)

// IsNotFound reports whether err is, or wraps, ErrNotFound.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsClassified reports whether err carries one of the manager's classes,
// i.e. the manager made it (and not, say, a remote daemon's client).
func IsClassified(err error) bool {
	for _, class := range []error{ErrNotFound, ErrAlreadyExists, ErrInvalidArgument, ErrConflict, ErrUnavailable, ErrUnauthorized, ErrDataCorrupt, ErrNotImplemented} {
		if errors.Is(err, class) {
			return true
		}
	}
	return false
}
