package api

import (
	"context"
	"net/http"

	ctypes "github.com/moby/moby/api/types/container"
	imagetypes "github.com/moby/moby/api/types/image"
	nettypes "github.com/moby/moby/api/types/network"
	voltypes "github.com/moby/moby/api/types/volume"
)

// The prune endpoints `docker system prune` calls in turn (volumes live in
// volumes.go). Label and until filters are not supported: refusing them
// beats pruning more than the user asked for.

func pruneFilters(r *http.Request, allowed ...string) (map[string][]string, error) {
	f, err := filters(r)
	if err != nil {
		return nil, err
	}
	for k := range f {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			return nil, invalidf("prune filter %q is not supported", k)
		}
	}
	return f, nil
}

func (s *Server) pruneContainers(w http.ResponseWriter, r *http.Request) error {
	if _, err := pruneFilters(r); err != nil {
		return err
	}
	ids, freed, err := s.e.PruneContainers(r.Context())
	for _, id := range ids {
		s.mon.removed(id, 0)
	}
	if err != nil {
		return err
	}
	if ids == nil {
		ids = []string{}
	}
	return writeJSON(w, http.StatusOK, ctypes.PruneReport{ContainersDeleted: ids, SpaceReclaimed: uint64(freed)})
}

func (s *Server) pruneNetworks(w http.ResponseWriter, r *http.Request) error {
	if _, err := pruneFilters(r); err != nil {
		return err
	}
	names, err := s.e.PruneNetworks(r.Context())
	if err != nil {
		return err
	}
	if names == nil {
		names = []string{}
	}
	return writeJSON(w, http.StatusOK, nettypes.PruneReport{NetworksDeleted: names})
}

// pruneImages removes dangling images, or with dangling=false every image
// no container uses (`image prune -a`).
func (s *Server) pruneImages(w http.ResponseWriter, r *http.Request) error {
	f, err := pruneFilters(r, "dangling")
	if err != nil {
		return err
	}
	all := anyMatch(f["dangling"], func(v string) bool { return v == "false" || v == "0" })
	deleted, freed, err := s.e.Images.Prune(r.Context(), all, s.e.Containers.ImageUser)
	if err != nil {
		return err
	}
	if deleted == nil {
		deleted = []imagetypes.DeleteResponse{}
	}
	return writeJSON(w, http.StatusOK, imagetypes.PruneReport{ImagesDeleted: deleted, SpaceReclaimed: uint64(freed)})
}

// diskUsage is GET /system/df in the legacy shape docker CLI 28 reads
// (the v1.52+ types lack it).
type diskUsage struct {
	LayersSize int64
	Images     []imagetypes.Summary
	Containers []ctypes.Summary
	Volumes    []voltypes.Volume
	BuildCache []struct{}
}

func (s *Server) systemDF(w http.ResponseWriter, r *http.Request) error {
	du, err := s.diskUsage(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, du)
}

func (s *Server) diskUsage(ctx context.Context) (*diskUsage, error) {
	imgs, err := s.e.Images.List(ctx)
	if err != nil {
		return nil, err
	}
	ctrs, err := s.e.Containers.List(ctx)
	if err != nil {
		return nil, err
	}
	vols, err := s.e.Volumes.List(ctx)
	if err != nil {
		return nil, err
	}
	du := &diskUsage{Images: []imagetypes.Summary{}, Containers: []ctypes.Summary{}, Volumes: []voltypes.Volume{}, BuildCache: []struct{}{}}
	users := map[string]int{}
	volUsers := volumeRefs(ctrs)
	for _, c := range ctrs {
		users[c.Config.Image.String()]++
		sum := containerSummary(c, s.args(ctx, c))
		sum.SizeRw = s.e.Containers.DiskUsage(c)
		du.Containers = append(du.Containers, sum)
	}
	seen := map[string]bool{} // images share layers: count each once
	for _, img := range imgs {
		du.Images = append(du.Images, imageSummary(img, users[img.ID.String()]))
		for _, l := range img.Layers {
			if !seen[l.Digest.String()] {
				seen[l.Digest.String()] = true
				du.LayersSize += l.Size
			}
		}
	}
	for _, v := range vols {
		av := apiVolume(v)
		av.UsageData = &voltypes.UsageData{Size: s.e.Volumes.Size(v.Name), RefCount: volUsers[v.Name]}
		du.Volumes = append(du.Volumes, av)
	}
	return du, nil
}
