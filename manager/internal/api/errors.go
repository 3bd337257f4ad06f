package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

// httpStatus maps the manager's error classes to HTTP statuses. It is the
// only place that does (podman pkg/api/handlers/utils/errors.go).
func httpStatus(err error) int {
	switch {
	case errors.Is(err, errdefs.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, errdefs.ErrConflict), errors.Is(err, errdefs.ErrAlreadyExists):
		return http.StatusConflict
	case errors.Is(err, errdefs.ErrInvalidArgument):
		return http.StatusBadRequest
	case errors.Is(err, errdefs.ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, errdefs.ErrUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, errdefs.ErrNotImplemented):
		return http.StatusNotImplemented
	}
	return http.StatusInternalServerError
}

// writeError answers {"message": ...} with the status of err's class.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := httpStatus(err)
	if status >= 500 {
		s.log.WithError(err).WithField("request", logField(r)).Warn("request failed")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = jsonEncode(w, map[string]string{"message": message(err)})
}

// message is err's text without the trailing class name the manager's
// errors carry (": not found"), which docker's messages do not have.
func message(err error) string {
	msg := err.Error()
	for _, class := range []error{errdefs.ErrNotFound, errdefs.ErrConflict, errdefs.ErrAlreadyExists, errdefs.ErrInvalidArgument, errdefs.ErrUnauthorized, errdefs.ErrUnavailable, errdefs.ErrNotImplemented} {
		if t, ok := strings.CutSuffix(msg, ": "+class.Error()); ok {
			return t
		}
	}
	return msg
}

func invalidf(format string, a ...any) error {
	return fmt.Errorf(format+": %w", append(a, errdefs.ErrInvalidArgument)...)
}

func notFoundf(format string, a ...any) error {
	return fmt.Errorf(format+": %w", append(a, errdefs.ErrNotFound)...)
}

func conflictf(format string, a ...any) error {
	return fmt.Errorf(format+": %w", append(a, errdefs.ErrConflict)...)
}
