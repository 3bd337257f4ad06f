package api

import (
	"net/http"
	"strings"

	"github.com/moby/moby/api/types/registry"

	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/manager/internal/image"
)

// login is POST /auth: the credentials are checked against the registry
// and not stored; the docker CLI keeps them in its own config and sends
// them with each pull and push (X-Registry-Auth), as with dockerd.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var req registry.AuthConfig
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.Username == "" || req.Password == "" {
		return invalidf("username and password are required")
	}
	if err := image.Login(r.Context(), registryHost(req.ServerAddress), req.Username, req.Password, s.e.Registries()); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, registry.AuthResponse{Status: "Login Succeeded"})
}

// registryHost turns the docker CLI's server address ("127.0.0.1:5000",
// "https://index.docker.io/v1/") into a registry host.
func registryHost(addr string) string {
	h := strings.TrimPrefix(strings.TrimPrefix(addr, "https://"), "http://")
	h, _, _ = strings.Cut(h, "/")
	if h == "" || h == "index.docker.io" {
		return "docker.io"
	}
	return h
}

// searchImages is GET /images/search, which only Docker Hub serves: there
// is no route to it from here, so the answer is a clear error.
func (s *Server) searchImages(w http.ResponseWriter, r *http.Request) error {
	return &classError{msg: "image search queries Docker Hub's index, which this daemon does not reach (no route to the internet); list a local registry's repositories with its /v2/_catalog instead", class: errdefs.ErrUnavailable}
}
