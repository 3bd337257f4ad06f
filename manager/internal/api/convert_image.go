package api

import (
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/moby/moby/api/pkg/authconfig"
	imagetypes "github.com/moby/moby/api/types/image"

	"github.com/berthrun/berth/manager/internal/image"
)

// imageSummary is an image as `GET /images/json` lists it; users counts
// the containers made from it.
func imageSummary(img *image.Image, users int) imagetypes.Summary {
	sum := imagetypes.Summary{
		ID:          img.ID.String(),
		Created:     img.Created.Unix(),
		Size:        img.Size,
		SharedSize:  -1,
		Containers:  int64(users),
		Labels:      img.Config.Config.Labels,
		RepoTags:    []string{},
		RepoDigests: []string{},
	}
	for _, n := range img.Names {
		sum.RepoTags = append(sum.RepoTags, image.Familiar(n))
	}
	for _, d := range img.RepoDigests {
		sum.RepoDigests = append(sum.RepoDigests, image.Familiar(d))
	}
	if sum.Labels == nil {
		sum.Labels = map[string]string{}
	}
	return sum
}

// matchImage applies `images` filters: reference, dangling, label.
func matchImage(sum imagetypes.Summary, f map[string][]string) bool {
	for _, d := range f["dangling"] {
		if (d == "true" || d == "1") != (len(sum.RepoTags) == 0) {
			return false
		}
	}
	if refs := f["reference"]; len(refs) > 0 {
		ok := false
		for _, want := range refs {
			for _, t := range sum.RepoTags {
				repo, _, _ := strings.Cut(t, ":")
				if t == want || repo == want || globMatch(want, t) || globMatch(want, repo) {
					ok = true
				}
			}
		}
		if !ok {
			return false
		}
	}
	return matchLabels(sum.Labels, f["label"])
}

// registries returns the engine's registry access, with the credentials
// the client sent in X-Registry-Auth preferred over the stored ones.
func (s *Server) registries(header string) image.Registries {
	regs := s.e.Registries()
	if header == "" {
		return regs
	}
	ac, err := authconfig.Decode(header)
	if err != nil || (ac.Username == "" && ac.IdentityToken == "" && ac.RegistryToken == "") {
		return regs
	}
	cfg := authn.AuthConfig{Username: ac.Username, Password: ac.Password, IdentityToken: ac.IdentityToken, RegistryToken: ac.RegistryToken}
	regs.Keychain = authn.NewMultiKeychain(headerKeychain{cfg: cfg, server: ac.ServerAddress}, regs.Keychain)
	return regs
}

// headerKeychain answers with the client's credentials for its registry.
type headerKeychain struct {
	cfg    authn.AuthConfig
	server string
}

func (k headerKeychain) Resolve(res authn.Resource) (authn.Authenticator, error) {
	server := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(k.server, "https://"), "http://"), "/")
	server = strings.TrimSuffix(server, "/v1")
	reg := res.RegistryStr()
	if server == "" || server == reg || (server == "index.docker.io" && reg == "index.docker.io") {
		return authn.FromConfig(k.cfg), nil
	}
	return authn.Anonymous, nil
}
