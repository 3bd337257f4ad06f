package api

import (
	"context"
	"net/http"
	"time"

	eventtypes "github.com/moby/moby/api/types/events"

	"github.com/berthrun/berth/manager/internal/events"
)

// getEvents is GET /events: the journal's events that match the filters,
// from since (default: now, i.e. only new ones) and, without until, as
// they happen until the client leaves.
func (s *Server) getEvents(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	match, err := events.Match(f)
	if err != nil {
		return invalidf("%v", err)
	}
	q := r.URL.Query()
	sel := events.Filter{Since: time.Now(), Match: match}
	if v := q.Get("since"); v != "" {
		if sel.Since, err = unixTime(v); err != nil {
			return err
		}
	}
	if v := q.Get("until"); v != "" {
		if sel.Until, err = unixTime(v); err != nil {
			return err
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	flush := http.NewResponseController(w).Flush
	_ = flush()
	follow := sel.Until.IsZero() || sel.Until.After(time.Now())
	ctx, stop := s.streamContext(r)
	defer stop()
	// Past the 200 an error (the client left, mostly) can only end the
	// stream.
	_ = s.e.Events.Read(ctx, sel, follow, func(m eventtypes.Message) error {
		if err := jsonEncode(w, m); err != nil {
			return err
		}
		return flush()
	})
	return nil
}

// streamContext is the context of a long-lived stream (events, logs -f):
// it ends when the client leaves or the server closes, since the http
// server's Shutdown waits for handlers and does not cancel them.
func (s *Server) streamContext(r *http.Request) (context.Context, context.CancelFunc) {
	ctx, stop := context.WithCancel(r.Context())
	go func() {
		select {
		case <-s.ctx.Done():
			stop()
		case <-ctx.Done():
		}
	}()
	return ctx, stop
}
