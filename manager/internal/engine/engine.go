// Package engine wires the manager's services over one data root and one
// runtime-state root. The CLI runs it in-process (no daemon); `mgr daemon`
// serves the same engine over the API.
package engine

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/berthrun/berth/manager/internal/auth"
	"github.com/berthrun/berth/manager/internal/content"
	"github.com/berthrun/berth/manager/internal/image"
	"github.com/berthrun/berth/manager/internal/snapshot"
	"github.com/berthrun/berth/manager/internal/store"
)

// Options locate the engine's state.
type Options struct {
	Root             string   // data root: blobs, metadata, layers (default /var/lib/mgr)
	RunRoot          string   // runtime state (default /run/mgr)
	ConfigDir        string   // client config: credentials (default ~/.mgr)
	InsecureRegistry []string // hosts allowed plain HTTP besides loopback
}

// Engine is the manager's services, ready to use.
type Engine struct {
	Options
	DB          *store.DB
	Images      *image.Service
	Credentials *auth.File
}

// Open prepares the roots and opens the services.
func Open(o Options) (*Engine, error) {
	for _, d := range []string{o.Root, o.RunRoot} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("prepare %s: %w", d, err)
		}
	}
	db, err := store.Open(filepath.Join(o.Root, "metadata.db"))
	if err != nil {
		return nil, err
	}
	cs, err := content.Open(filepath.Join(o.Root, "content"))
	if err != nil {
		return nil, err
	}
	snaps, err := snapshot.New(filepath.Join(o.Root, "snapshots"), store.NewSnapshots(db))
	if err != nil {
		return nil, err
	}
	return &Engine{
		Options:     o,
		DB:          db,
		Images:      image.New(cs, store.NewImages(db), snaps, filepath.Join(o.Root, "content.lock")),
		Credentials: auth.New(filepath.Join(o.ConfigDir, "config.json")),
	}, nil
}

// Registries is how the engine reaches registries: with the stored
// credentials and the configured insecure hosts.
func (e *Engine) Registries() image.Registries {
	return image.Registries{Keychain: e.Credentials, Insecure: e.InsecureRegistry}
}
