// Package auth keeps registry credentials in a docker-compatible
// config.json ({"auths": {"host:port": {"auth": base64(user:pass)}}}),
// written atomically with mode 0600, and serves them to the registry
// client as a keychain. Credentials are never printed.
package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
)

// DockerHubKey is the key docker uses for Docker Hub.
const DockerHubKey = "https://index.docker.io/v1/"

type entry struct {
	Auth string `json:"auth,omitempty"`
}

// File is the credentials file at one path. Unknown top-level keys are
// kept when it is rewritten, so a docker config.json can be shared.
type File struct {
	path string
}

// New returns the credentials file at path (it may not exist yet).
func New(path string) *File { return &File{path: path} }

// Path is where the file lives.
func (f *File) Path() string { return f.path }

func (f *File) read() (map[string]json.RawMessage, map[string]entry, error) {
	top := map[string]json.RawMessage{}
	auths := map[string]entry{}
	data, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return top, auths, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read credentials %s: %w", f.path, err)
	}
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, nil, fmt.Errorf("parse credentials %s: %w", f.path, err)
	}
	if raw, ok := top["auths"]; ok {
		if err := json.Unmarshal(raw, &auths); err != nil {
			return nil, nil, fmt.Errorf("parse credentials %s: %w", f.path, err)
		}
	}
	return top, auths, nil
}

func (f *File) write(top map[string]json.RawMessage, auths map[string]entry) error {
	raw, err := json.Marshal(auths)
	if err != nil {
		return err
	}
	top["auths"] = raw
	data, err := json.MarshalIndent(top, "", "\t")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), ".config.json.*")
	if err != nil {
		return fmt.Errorf("write credentials: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	_, err = tmp.Write(append(data, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write credentials: %w", err)
	}
	return os.Rename(tmp.Name(), f.path)
}

// Store saves user and password for registry.
func (f *File) Store(registry, user, password string) error {
	top, auths, err := f.read()
	if err != nil {
		return err
	}
	auths[Key(registry)] = entry{Auth: base64.StdEncoding.EncodeToString([]byte(user + ":" + password))}
	return f.write(top, auths)
}

// Erase forgets registry's credentials; it reports whether there were any.
func (f *File) Erase(registry string) (bool, error) {
	top, auths, err := f.read()
	if err != nil {
		return false, err
	}
	k := Key(registry)
	if _, ok := auths[k]; !ok {
		return false, nil
	}
	delete(auths, k)
	return true, f.write(top, auths)
}

// Lookup returns registry's credentials, if stored.
func (f *File) Lookup(registry string) (user, password string, ok bool, err error) {
	_, auths, err := f.read()
	if err != nil {
		return "", "", false, err
	}
	e, found := auths[Key(registry)]
	if !found {
		return "", "", false, nil
	}
	raw, err := base64.StdEncoding.DecodeString(e.Auth)
	if err != nil {
		return "", "", false, fmt.Errorf("credentials for %s are malformed: %w", registry, err)
	}
	user, password, ok = strings.Cut(string(raw), ":")
	if !ok {
		return "", "", false, fmt.Errorf("credentials for %s are malformed", registry)
	}
	return user, password, true, nil
}

// Key is the config.json key for a registry host, as docker spells it.
func Key(registry string) string {
	switch registry {
	case "docker.io", "index.docker.io", "registry-1.docker.io", DockerHubKey:
		return DockerHubKey
	}
	return registry
}

// Resolve makes File a go-containerregistry keychain.
func (f *File) Resolve(res authn.Resource) (authn.Authenticator, error) {
	user, password, ok, err := f.Lookup(res.RegistryStr())
	if err != nil {
		return nil, err
	}
	if !ok {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(authn.AuthConfig{Username: user, Password: password}), nil
}
