package container

import (
	"strconv"

	eventtypes "github.com/moby/moby/api/types/events"

	"github.com/berthrun/berth/manager/internal/network"
)

// event records what happened to c in the events journal, with docker's
// attributes: name, image and labels, plus extra.
func (s *Service) event(c *Container, action eventtypes.Action, extra map[string]string) {
	if s.events == nil {
		return
	}
	attrs := map[string]string{"name": c.Name, "image": c.Config.ImageRef}
	for k, v := range c.Config.Labels {
		attrs[k] = v
	}
	for k, v := range extra {
		attrs[k] = v
	}
	s.events.Record(eventtypes.ContainerEventType, action, c.ID, attrs)
}

// networkEvent records c joining or leaving a network (connect,
// disconnect), as docker does on start, stop, connect and disconnect.
func (s *Service) networkEvent(c *Container, action eventtypes.Action, name string) {
	if s.events == nil {
		return
	}
	s.events.Record(eventtypes.NetworkEventType, action, network.ID(name), map[string]string{"container": c.ID, "name": name})
}

// exitEvents records a container's exit: oom first when the kernel killed
// it, then die with its exit code, as docker does.
func (s *Service) exitEvents(c *Container) {
	if c.State.OOMKilled {
		s.event(c, eventtypes.ActionOOM, nil)
	}
	s.event(c, eventtypes.ActionDie, map[string]string{"exitCode": strconv.Itoa(c.State.ExitCode)})
}
