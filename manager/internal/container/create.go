package container

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"time"

	eventtypes "github.com/moby/moby/api/types/events"

	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/manager/internal/store"
	"github.com/berthrun/berth/manager/internal/volume"
)

// validName is docker's rule for container names.
var validName = regexp.MustCompile(`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// Create records a new container from image ref; nothing runs yet. The
// image must be present (pull it first).
func (s *Service) Create(ctx context.Context, name string, cfg Config) (*Container, error) {
	img, err := s.images.Get(ctx, cfg.ImageRef)
	if err != nil {
		return nil, err
	}
	cfg.Image = img.ID
	if len(cfg.Entrypoint) == 0 && len(cfg.Cmd) == 0 && len(img.Config.Config.Entrypoint) == 0 && len(img.Config.Config.Cmd) == 0 {
		return nil, fmt.Errorf("no command specified: %w", errdefs.ErrInvalidArgument)
	}
	if cfg.NetworkMode == "" {
		cfg.NetworkMode = "bridge"
	}
	if cfg.NetworkMode != "none" && cfg.NetworkMode != "host" {
		if _, err := s.networks.Get(cfg.NetworkMode); err != nil {
			return nil, err
		}
	} else if len(cfg.Ports) > 0 || cfg.PublishAll {
		return nil, fmt.Errorf("published ports need a network: --network %s has none to publish on: %w", cfg.NetworkMode, errdefs.ErrInvalidArgument)
	}
	if err := cfg.Restart.validate(cfg.AutoRemove); err != nil {
		return nil, err
	}
	if cfg.Restart.Name == "" {
		cfg.Restart.Name = RestartNo
	}
	if name != "" && !validName.MatchString(name) {
		return nil, fmt.Errorf("invalid container name %q, only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed: %w", name, errdefs.ErrInvalidArgument)
	}
	// The image's VOLUMEs that no -v covers get anonymous volumes.
	for dst := range img.Config.Config.Volumes {
		if !slices.ContainsFunc(cfg.Mounts, func(m Mount) bool { return path.Clean(m.Destination) == path.Clean(dst) }) {
			cfg.Mounts = append(cfg.Mounts, Mount{Type: "volume", Destination: dst, Anonymous: true})
		}
	}
	// Volumes are made at create, as docker does: named ones on first use.
	for i, m := range cfg.Mounts {
		if m.Type != "volume" {
			continue
		}
		var err error
		if m.Anonymous {
			var v *volume.Volume
			if v, err = s.volumes.Create(ctx, "", nil, true); err == nil {
				cfg.Mounts[i].Name = v.Name
			}
		} else {
			_, _, err = s.volumes.Ensure(ctx, m.Name)
		}
		if err != nil {
			s.dropAnonymousVolumes(ctx, cfg.Mounts)
			return nil, err
		}
	}
	id := newID()
	if name == "" {
		name = randomName(id)
	}
	c := &Container{ID: id, Name: trimSlash(name), Created: time.Now().UTC(), Config: cfg, State: State{Status: StatusCreated}}
	if c.usesCNI() {
		c.State.NetworkNames = []string{cfg.NetworkMode}
	}
	if err := os.MkdirAll(s.dataDir(id), 0o700); err != nil {
		return nil, fmt.Errorf("create container: %w", err)
	}
	cfgJSON, err := json.Marshal(c.Config)
	if err != nil {
		return nil, err
	}
	stJSON, err := json.Marshal(c.State)
	if err != nil {
		return nil, err
	}
	err = s.records.Create(ctx, store.ContainerRecord{ID: id, Name: c.Name, Image: img.ID, Created: c.Created, Labels: cfg.Labels, Config: cfgJSON, State: stJSON})
	if err != nil {
		// Nothing of a refused create stays: not its dir, not the
		// anonymous volumes made for it.
		_ = os.RemoveAll(s.dataDir(id))
		s.dropAnonymousVolumes(ctx, c.Config.Mounts)
		return nil, err
	}
	s.event(c, eventtypes.ActionCreate, nil)
	return c, nil
}

// dropAnonymousVolumes removes the anonymous volumes a refused create made.
func (s *Service) dropAnonymousVolumes(ctx context.Context, mounts []Mount) {
	for _, m := range mounts {
		if m.Type == "volume" && m.Anonymous && m.Name != "" {
			_ = s.volumes.Remove(context.WithoutCancel(ctx), m.Name)
		}
	}
}

func trimSlash(s string) string {
	if len(s) > 0 && s[0] == '/' {
		return s[1:]
	}
	return s
}

var (
	adjectives = []string{"brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid", "merry", "nifty", "proud", "quiet", "sharp", "tender", "vivid", "wise", "zen"}
	surnames   = []string{"turing", "hopper", "lovelace", "curie", "noether", "ritchie", "thompson", "torvalds", "knuth", "liskov", "hamilton", "dijkstra", "shannon", "goldberg", "kay", "lamport", "pike", "wirth"}
)

// randomName makes docker-style names from the (random) ID.
func randomName(id string) string {
	b := []byte(id)
	return adjectives[int(b[0])%len(adjectives)] + "_" + surnames[int(b[1])%len(surnames)] + "_" + id[2:6]
}

// Rename gives c a new, unused name.
func (s *Service) Rename(ctx context.Context, c *Container, name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("invalid container name %q: %w", name, errdefs.ErrInvalidArgument)
	}
	old := c.Name
	if err := s.records.Rename(ctx, c.ID, trimSlash(name)); err != nil {
		return err
	}
	c.Name = trimSlash(name)
	s.event(c, eventtypes.ActionRename, map[string]string{"oldName": "/" + old})
	return nil
}
