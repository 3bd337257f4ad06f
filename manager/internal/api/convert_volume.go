package api

import (
	"time"

	voltypes "github.com/moby/moby/api/types/volume"

	"github.com/berthrun/berth/manager/internal/volume"
)

// anonymousLabel marks anonymous volumes, as docker 23+ does.
const anonymousLabel = "com.docker.volume.anonymous"

// apiVolume is v in docker's shape (driver local, scope local).
func apiVolume(v *volume.Volume) voltypes.Volume {
	labels := map[string]string{}
	for k, val := range v.Labels {
		labels[k] = val
	}
	if v.Anonymous {
		labels[anonymousLabel] = ""
	}
	return voltypes.Volume{
		Name:       v.Name,
		Driver:     "local",
		Mountpoint: v.Mountpoint,
		CreatedAt:  v.Created.Local().Format(time.RFC3339),
		Labels:     labels,
		Scope:      "local",
		Options:    map[string]string{},
	}
}
