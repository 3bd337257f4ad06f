package api

import (
	"net/http"
	"strings"

	"github.com/moby/moby/api/types/jsonstream"

	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/manager/internal/image"
)

func (s *Server) listImages(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	list, err := s.e.Images.List(r.Context())
	if err != nil {
		return err
	}
	ctrs, err := s.e.Containers.List(r.Context())
	if err != nil {
		return err
	}
	users := map[string]int{}
	for _, c := range ctrs {
		users[c.Config.Image.String()]++
	}
	out := []any{}
	for _, img := range list {
		sum := imageSummary(img, users[img.ID.String()])
		if matchImage(sum, f) {
			out = append(out, sum)
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// imageGet routes GET /images/{name}/json and /images/{name}/history:
// names hold slashes, so the verb is the last segment.
func (s *Server) imageGet(w http.ResponseWriter, r *http.Request) error {
	rest := r.PathValue("rest")
	switch {
	case strings.HasSuffix(rest, "/json"):
		resp, err := s.e.Images.Inspect(r.Context(), strings.TrimSuffix(rest, "/json"))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, resp)
	case strings.HasSuffix(rest, "/history"):
		resp, err := s.e.Images.History(r.Context(), strings.TrimSuffix(rest, "/history"))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, resp)
	}
	return notFoundf("page not found: GET /images/%s", rest)
}

// imagePost routes POST /images/{name}/tag and /images/{name}/push.
func (s *Server) imagePost(w http.ResponseWriter, r *http.Request) error {
	rest := r.PathValue("rest")
	switch {
	case strings.HasSuffix(rest, "/tag"):
		return s.tagImage(w, r, strings.TrimSuffix(rest, "/tag"))
	case strings.HasSuffix(rest, "/push"):
		return s.pushImage(w, r, strings.TrimSuffix(rest, "/push"))
	}
	return notFoundf("page not found: POST /images/%s", rest)
}

func (s *Server) tagImage(w http.ResponseWriter, r *http.Request, src string) error {
	q := r.URL.Query()
	target := q.Get("repo")
	if target == "" {
		return invalidf("repository name must have at least one component")
	}
	if t := q.Get("tag"); t != "" {
		target += ":" + t
	}
	if err := s.e.Images.Tag(r.Context(), src, target); err != nil {
		return err
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

func (s *Server) removeImage(w http.ResponseWriter, r *http.Request) error {
	resp, err := s.e.Images.Remove(r.Context(), r.PathValue("name"), boolParam(r, "force"), s.e.Containers.ImageUser)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, resp)
}

// pullImage is POST /images/create?fromImage=&tag=. Importing (fromSrc)
// is not served yet.
func (s *Server) pullImage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Get("fromSrc") != "" {
		return errNotImplemented("image import through the API")
	}
	ref := q.Get("fromImage")
	if ref == "" {
		return invalidf("fromImage is required")
	}
	if t := q.Get("tag"); t != "" {
		if strings.HasPrefix(t, "sha256:") {
			ref += "@" + t
		} else {
			ref += ":" + t
		}
	}
	named, err := image.Normalize(ref)
	if err != nil {
		return err
	}
	repo, tag := image.SplitFamiliar(named.String())
	ps := &progressStream{w: w}
	ps.send(jsonstream.Message{Status: "Pulling from " + strings.TrimPrefix(repo, "library/"), ID: tag})
	before, _ := s.e.Images.Get(r.Context(), ref)
	after, err := s.e.Images.Pull(r.Context(), ref, s.registries(r.Header.Get("X-Registry-Auth")), func(id, status string) {
		m := jsonstream.Message{ID: id, Status: status}
		if id != "" {
			m.Progress = &jsonstream.Progress{}
		}
		ps.send(m)
	})
	if err != nil {
		return ps.fail(err)
	}
	ps.send(jsonstream.Message{Status: image.PullStatus(before, after, image.Familiar(named.String()))})
	return nil
}

func (s *Server) pushImage(w http.ResponseWriter, r *http.Request, name string) error {
	ref := name
	if t := r.URL.Query().Get("tag"); t != "" {
		ref += ":" + t
	}
	if _, err := s.e.Images.Get(r.Context(), ref); err != nil {
		return err
	}
	named, err := image.Normalize(ref)
	if err != nil {
		return err
	}
	ps := &progressStream{w: w}
	ps.send(jsonstream.Message{Status: "The push refers to repository [" + named.Name() + "]"})
	_, err = s.e.Images.Push(r.Context(), ref, s.registries(r.Header.Get("X-Registry-Auth")), func(id, status string) {
		m := jsonstream.Message{ID: id, Status: status}
		if id != "" {
			m.Progress = &jsonstream.Progress{}
		}
		ps.send(m)
	})
	if err != nil {
		return ps.fail(err)
	}
	return nil
}

func (s *Server) saveImages(w http.ResponseWriter, r *http.Request) error {
	names := r.URL.Query()["names"]
	if len(names) == 0 {
		return invalidf("no image names given")
	}
	for _, n := range names {
		// Fail before the 200 when a name is unknown.
		if _, err := s.e.Images.Get(r.Context(), n); err != nil {
			return err
		}
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	if err := s.e.Images.Save(r.Context(), w, names); err != nil {
		// Too late for a status: cut the stream so the client sees a
		// truncated archive rather than a valid-looking one.
		s.log.WithError(err).Warn("save images")
		panic(http.ErrAbortHandler)
	}
	return nil
}

func (s *Server) loadImages(w http.ResponseWriter, r *http.Request) error {
	names, err := s.e.Images.Load(r.Context(), r.Body)
	if err != nil {
		return err
	}
	ps := &progressStream{w: w}
	for _, n := range names {
		if strings.HasPrefix(n, "sha256:") {
			ps.send(jsonstream.Message{Stream: "Loaded image ID: " + n + "\n"})
		} else {
			ps.send(jsonstream.Message{Stream: "Loaded image: " + n + "\n"})
		}
	}
	if len(names) == 0 {
		ps.send(jsonstream.Message{Stream: ""})
	}
	return nil
}

func errNotImplemented(what string) error {
	return &classError{msg: what + " is not implemented yet", class: errdefs.ErrNotImplemented}
}

// classError is an error of a class with a message of its own.
type classError struct {
	msg   string
	class error
}

func (e *classError) Error() string { return e.msg }
func (e *classError) Unwrap() error { return e.class }
