package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path/filepath"

	"github.com/berthrun/berth/manager/internal/container"
)

// The archive endpoints are what `docker cp` uses: HEAD stats a path in
// the container, GET fetches it as a tar whose top entry is the path's base
// name, PUT extracts a tar into a directory. The stat travels base64 JSON in
// the X-Docker-Container-Path-Stat header.

const pathStatHeader = "X-Docker-Container-Path-Stat"

// statArchivePath finds the container and sets the stat header of the
// path the request names.
func (s *Server) statArchivePath(w http.ResponseWriter, r *http.Request) (*container.Container, string, error) {
	c, err := s.container(r)
	if err != nil {
		return nil, "", err
	}
	path := r.URL.Query().Get("path")
	if path == "" {
		return nil, "", invalidf("path is required")
	}
	st, err := s.e.Containers.PathStat(r.Context(), c, path)
	if err != nil {
		return nil, "", err
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return nil, "", err
	}
	w.Header().Set(pathStatHeader, base64.StdEncoding.EncodeToString(raw))
	return c, path, nil
}

func (s *Server) headArchive(w http.ResponseWriter, r *http.Request) error {
	if _, _, err := s.statArchivePath(w, r); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) getArchive(w http.ResponseWriter, r *http.Request) error {
	c, path, err := s.statArchivePath(w, r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	// Past the 200 an error can only cut the tar short, which the client
	// reports as a broken archive.
	if err := s.e.Containers.CopyFrom(r.Context(), c, path, filepath.Base(path), w); err != nil {
		s.log.WithError(err).WithField("container", c.ID).Warn("archive: copy from container")
	}
	return nil
}

func (s *Server) putArchive(w http.ResponseWriter, r *http.Request) error {
	c, err := s.container(r)
	if err != nil {
		return err
	}
	path := r.URL.Query().Get("path")
	if path == "" {
		return invalidf("path is required")
	}
	if err := s.e.Containers.CopyTo(r.Context(), c, path, r.Body); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
