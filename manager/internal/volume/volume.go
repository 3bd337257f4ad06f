// Package volume keeps named volumes: directories under the data root
// (<root>/volumes/<name>/_data, docker's layout) with their metadata in
// bbolt. A volume outlives the containers that mount it; anonymous ones
// (made for an image's VOLUME) go with their container on `rm -v`.
package volume

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	eventtypes "github.com/moby/moby/api/types/events"

	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/manager/internal/events"
	"github.com/berthrun/berth/manager/internal/store"
)

// Volume is one volume.
type Volume struct {
	store.VolumeRecord
	Mountpoint string
}

// Service manages volumes.
type Service struct {
	root    string
	records *store.Volumes
	events  *events.Journal // nil records nothing
}

// New returns the volume service over root (<data root>/volumes).
func New(root string, records *store.Volumes, ev *events.Journal) *Service {
	return &Service{root: root, records: records, events: ev}
}

var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// ValidName reports whether name can name a volume (docker's rule).
func ValidName(name string) bool { return validName.MatchString(name) }

// Path is where a volume's data lives.
func (s *Service) Path(name string) string { return filepath.Join(s.root, name, "_data") }

func (s *Service) volume(r store.VolumeRecord) *Volume {
	return &Volume{VolumeRecord: r, Mountpoint: s.Path(r.Name)}
}

// Create makes a volume; name "" makes an anonymous one with a random name.
func (s *Service) Create(ctx context.Context, name string, labels map[string]string, anonymous bool) (*Volume, error) {
	if name == "" {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		name, anonymous = hex.EncodeToString(b), true
	}
	if !ValidName(name) {
		return nil, fmt.Errorf("invalid volume name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed: %w", name, errdefs.ErrInvalidArgument)
	}
	rec := store.VolumeRecord{Name: name, Created: time.Now().UTC(), Anonymous: anonymous, Labels: labels}
	if err := os.MkdirAll(s.Path(name), 0o755); err != nil {
		return nil, fmt.Errorf("create volume %s: %w", name, err)
	}
	if err := s.records.Create(ctx, rec); err != nil {
		if !errors.Is(err, errdefs.ErrAlreadyExists) {
			_ = os.RemoveAll(filepath.Join(s.root, name))
		}
		return nil, err
	}
	s.events.Record(eventtypes.VolumeEventType, eventtypes.ActionCreate, name, map[string]string{"driver": "local"})
	return s.volume(rec), nil
}

// Ensure returns the named volume, creating it on first use (as `run -v
// NAME:/path` does); created reports whether it is new.
func (s *Service) Ensure(ctx context.Context, name string) (v *Volume, created bool, err error) {
	if v, err := s.Get(ctx, name); err == nil {
		return v, false, nil
	} else if !errdefs.IsNotFound(err) {
		return nil, false, err
	}
	v, err = s.Create(ctx, name, nil, false)
	if errors.Is(err, errdefs.ErrAlreadyExists) {
		v, err = s.Get(ctx, name) // another mgr made it meanwhile
		return v, false, err
	}
	return v, err == nil, err
}

// Get returns a volume.
func (s *Service) Get(ctx context.Context, name string) (*Volume, error) {
	r, err := s.records.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	return s.volume(r), nil
}

// List returns every volume.
func (s *Service) List(ctx context.Context) ([]*Volume, error) {
	recs, err := s.records.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Volume, 0, len(recs))
	for _, r := range recs {
		out = append(out, s.volume(r))
	}
	return out, nil
}

// Remove deletes a volume and its data; the caller checks it is unused.
func (s *Service) Remove(ctx context.Context, name string) error {
	if _, err := s.records.Get(ctx, name); err != nil {
		return err
	}
	if err := s.records.Delete(ctx, name); err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(s.root, name)); err != nil {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	s.events.Record(eventtypes.VolumeEventType, eventtypes.ActionDestroy, name, map[string]string{"driver": "local"})
	return nil
}

// Size is the bytes a volume's files hold.
func (s *Service) Size(name string) int64 {
	var n int64
	_ = filepath.WalkDir(s.Path(name), func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
