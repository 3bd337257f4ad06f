package events

import (
	"fmt"
	"strings"

	"github.com/moby/moby/api/types/events"
)

// Match returns the matcher for docker's event filters (type, event,
// container, image, network, volume, label): an event passes when, for
// every filter key given, one of its values matches. Unknown keys are an
// error rather than silently matching everything.
func Match(filters map[string][]string) (func(events.Message) bool, error) {
	for k := range filters {
		switch k {
		case "type", "event", "container", "image", "network", "volume", "label":
		default:
			return nil, fmt.Errorf("invalid filter %q", k)
		}
	}
	return func(m events.Message) bool {
		for k, vals := range filters {
			ok := false
			for _, v := range vals {
				ok = ok || matchOne(m, k, v)
			}
			if !ok {
				return false
			}
		}
		return true
	}, nil
}

func matchOne(m events.Message, key, v string) bool {
	attrs := m.Actor.Attributes
	idOrName := func() bool {
		return m.Actor.ID == v || (len(v) >= 12 && strings.HasPrefix(m.Actor.ID, v)) || attrs["name"] == v
	}
	switch key {
	case "type":
		return string(m.Type) == v
	case "event":
		return string(m.Action) == v || strings.HasPrefix(string(m.Action), v+":")
	case "container":
		switch m.Type {
		case events.ContainerEventType:
			return idOrName()
		case events.NetworkEventType:
			return attrs["container"] == v || (len(v) >= 12 && strings.HasPrefix(attrs["container"], v))
		}
	case "image":
		switch m.Type {
		case events.ContainerEventType:
			return attrs["image"] == v
		case events.ImageEventType:
			return idOrName() || strings.TrimSuffix(attrs["name"], ":latest") == v
		}
	case "network":
		return m.Type == events.NetworkEventType && idOrName()
	case "volume":
		return m.Type == events.VolumeEventType && m.Actor.ID == v
	case "label":
		k, want, hasValue := strings.Cut(v, "=")
		got, ok := attrs[k]
		return ok && (!hasValue || got == want)
	}
	return false
}
