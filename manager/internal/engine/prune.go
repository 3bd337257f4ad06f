package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

// RemoveNetwork removes a network no running container is on. Stopped
// members hold no endpoint; they fail to start later, as with docker.
func (e *Engine) RemoveNetwork(ctx context.Context, name string) error {
	users, err := e.Containers.NetworkUsers(ctx, name)
	if err != nil {
		return err
	}
	var running []string
	for _, u := range users {
		if u.Running() {
			running = append(running, u.Name)
		}
	}
	if len(running) > 0 {
		return fmt.Errorf("error while removing network %s: network has active endpoints (%s): %w", name, strings.Join(running, ", "), errdefs.ErrConflict)
	}
	return e.Networks.Remove(name)
}

// PruneContainers removes every container that is not running and what a
// manager killed mid-way left without a record. It returns the IDs it
// removed and the bytes their writable layers and logs held.
func (e *Engine) PruneContainers(ctx context.Context) (ids []string, freed int64, err error) {
	list, err := e.Containers.List(ctx)
	if err != nil {
		return nil, 0, err
	}
	for _, c := range list {
		if c.Running() {
			continue
		}
		size := e.Containers.DiskUsage(c)
		if err := e.Containers.Remove(ctx, c, false); err != nil {
			return ids, freed, err
		}
		ids = append(ids, c.ID)
		freed += size
	}
	return ids, freed, e.Containers.CollectGarbage(ctx)
}

// PruneNetworks removes the user-defined networks (those mgr wrote a
// conflist for; never the default) that no container is on.
func (e *Engine) PruneNetworks(ctx context.Context) ([]string, error) {
	nets, err := e.Networks.List()
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, n := range nets {
		if n.File == "" || n.Name == "bridge" {
			continue
		}
		users, err := e.Containers.NetworkUsers(ctx, n.Name)
		if err != nil {
			return removed, err
		}
		if len(users) > 0 {
			continue
		}
		if err := e.RemoveNetwork(ctx, n.Name); err != nil {
			return removed, err
		}
		removed = append(removed, n.Name)
	}
	return removed, nil
}
