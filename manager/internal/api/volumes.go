package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	voltypes "github.com/moby/moby/api/types/volume"

	"github.com/berthrun/berth/manager/internal/container"
	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/manager/internal/volume"
)

func (s *Server) createVolume(w http.ResponseWriter, r *http.Request) error {
	var req voltypes.CreateRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.Driver != "" && req.Driver != "local" {
		return invalidf("volume driver %q is not supported: only local", req.Driver)
	}
	if len(req.DriverOpts) > 0 {
		return invalidf("volume driver options are not supported")
	}
	v, err := s.e.Volumes.Create(r.Context(), req.Name, req.Labels, false)
	if errors.Is(err, errdefs.ErrAlreadyExists) {
		v, err = s.e.Volumes.Get(r.Context(), req.Name) // docker: creating an existing volume returns it
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, apiVolume(v))
}

func (s *Server) listVolumes(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	list, err := s.e.Volumes.List(r.Context())
	if err != nil {
		return err
	}
	var used map[string]int64
	if len(f["dangling"]) > 0 {
		if used, err = s.usedVolumes(r.Context()); err != nil {
			return err
		}
	}
	out := voltypes.ListResponse{Volumes: []voltypes.Volume{}, Warnings: []string{}}
	for _, v := range list {
		if matchVolume(v, f, used) {
			out.Volumes = append(out.Volumes, apiVolume(v))
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// usedVolumes counts, per volume, the containers that mount it.
func (s *Server) usedVolumes(ctx context.Context) (map[string]int64, error) {
	list, err := s.e.Containers.List(ctx)
	if err != nil {
		return nil, err
	}
	return volumeRefs(list), nil
}

// volumeRefs counts, per volume, the containers of list that mount it.
func volumeRefs(list []*container.Container) map[string]int64 {
	refs := map[string]int64{}
	for _, c := range list {
		for _, m := range c.Config.Mounts {
			if m.Type == "volume" {
				refs[m.Name]++
			}
		}
	}
	return refs
}

// matchVolume applies the name, label, driver and dangling filters of
// `volume ls` (used: the volumes in use, needed for dangling only).
func matchVolume(v *volume.Volume, f map[string][]string, used map[string]int64) bool {
	if ds := f["driver"]; len(ds) > 0 && !slices.Contains(ds, "local") {
		return false
	}
	for _, d := range f["dangling"] {
		if dangling := d == "true" || d == "1"; (used[v.Name] == 0) != dangling {
			return false
		}
	}
	if names := f["name"]; len(names) > 0 && !anyMatch(names, func(n string) bool { return strings.Contains(v.Name, n) }) {
		return false
	}
	for _, l := range f["label"] {
		k, val, hasVal := strings.Cut(l, "=")
		got, ok := v.Labels[k]
		if !ok || (hasVal && got != val) {
			return false
		}
	}
	return true
}

func anyMatch(list []string, fn func(string) bool) bool {
	for _, x := range list {
		if fn(x) {
			return true
		}
	}
	return false
}

func (s *Server) inspectVolume(w http.ResponseWriter, r *http.Request) error {
	v, err := s.e.Volumes.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, apiVolume(v))
}

func (s *Server) removeVolume(w http.ResponseWriter, r *http.Request) error {
	err := s.e.Containers.RemoveVolume(r.Context(), r.PathValue("name"))
	if err != nil && !(boolParam(r, "force") && errdefs.IsNotFound(err)) {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pruneVolumes removes unused anonymous volumes, or all unused ones with
// the filter all=true (docker's `volume prune -a`).
func (s *Server) pruneVolumes(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	all := anyMatch(f["all"], func(v string) bool { return v == "true" || v == "1" })
	names, freed, err := s.e.Containers.PruneVolumes(r.Context(), all)
	if err != nil {
		return err
	}
	if names == nil {
		names = []string{}
	}
	return writeJSON(w, http.StatusOK, voltypes.PruneReport{VolumesDeleted: names, SpaceReclaimed: freed})
}
