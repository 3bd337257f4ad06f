package api

import (
	"net/http"
	"slices"
	"strings"

	nettypes "github.com/moby/moby/api/types/network"

	"github.com/berthrun/berth/manager/internal/network"
)

// findNetwork resolves a name, ID or ID prefix; n is nil for host and none.
func (s *Server) findNetwork(ref string) (string, *network.Network, error) {
	if slices.Contains(builtinNetworks, ref) {
		return ref, nil, nil
	}
	if n, err := s.e.Networks.Get(ref); err == nil {
		return n.Name, n, nil
	}
	list, err := s.e.Networks.List()
	if err != nil {
		return "", nil, err
	}
	var names []string
	for _, n := range list {
		names = append(names, n.Name)
	}
	names = append(names, builtinNetworks...)
	var found []string
	for _, name := range names {
		if len(ref) >= 1 && strings.HasPrefix(network.ID(name), ref) {
			found = append(found, name)
		}
	}
	switch len(found) {
	case 0:
		return "", nil, notFoundf("network %s not found", ref)
	case 1:
		if slices.Contains(builtinNetworks, found[0]) {
			return found[0], nil, nil
		}
		n, err := s.e.Networks.Get(found[0])
		return found[0], n, err
	}
	return "", nil, invalidf("network %s is ambiguous (%d matches found based on ID prefix)", ref, len(found))
}

func (s *Server) listNetworks(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	list, err := s.e.Networks.List()
	if err != nil {
		return err
	}
	slices.SortFunc(list, func(a, b *network.Network) int { return strings.Compare(a.Name, b.Name) })
	var out []nettypes.Summary
	add := func(n nettypes.Network) {
		for _, want := range f["name"] {
			if !strings.Contains(n.Name, want) {
				return
			}
		}
		for _, want := range f["id"] {
			if !strings.HasPrefix(n.ID, want) {
				return
			}
		}
		if len(f["driver"]) > 0 && !slices.Contains(f["driver"], n.Driver) {
			return
		}
		if !matchLabels(n.Labels, f["label"]) {
			return
		}
		out = append(out, nettypes.Summary{Network: n})
	}
	for _, n := range list {
		add(apiNetwork(n.Name, n))
	}
	for _, name := range builtinNetworks {
		add(apiNetwork(name, nil))
	}
	if out == nil {
		out = []nettypes.Summary{}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) inspectNetwork(w http.ResponseWriter, r *http.Request) error {
	name, n, err := s.findNetwork(r.PathValue("id"))
	if err != nil {
		return err
	}
	resp := nettypes.Inspect{Network: apiNetwork(name, n), Containers: map[string]nettypes.EndpointResource{}}
	if n != nil {
		members, err := s.e.Containers.NetworkUsers(r.Context(), name)
		if err != nil {
			return err
		}
		resp.Containers = endpoints(name, members)
	}
	return writeJSON(w, http.StatusOK, resp)
}

// networkCreateRequest is the part of docker's create body berth uses.
type networkCreateRequest struct {
	Name     string
	Driver   string
	Internal bool
	IPAM     *nettypes.IPAM
	Options  map[string]string
	Labels   map[string]string
}

func (s *Server) createNetwork(w http.ResponseWriter, r *http.Request) error {
	var req networkCreateRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if slices.Contains(builtinNetworks, req.Name) {
		return conflictf("network with name %s already exists", req.Name)
	}
	o := network.CreateOptions{Name: req.Name, Driver: req.Driver, Internal: req.Internal, Labels: req.Labels, Parent: req.Options["parent"]}
	if req.IPAM != nil && len(req.IPAM.Config) > 0 {
		if len(req.IPAM.Config) > 1 {
			return errNotImplemented("more than one subnet per network")
		}
		c := req.IPAM.Config[0]
		if c.Subnet.IsValid() {
			o.Subnet = c.Subnet.String()
		}
		if c.Gateway.IsValid() {
			o.Gateway = c.Gateway.String()
		}
	}
	n, err := s.e.Networks.Create(o)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, nettypes.CreateResponse{ID: network.ID(n.Name)})
}

func (s *Server) removeNetwork(w http.ResponseWriter, r *http.Request) error {
	name, n, err := s.findNetwork(r.PathValue("id"))
	if err != nil {
		return err
	}
	if n == nil || n.File == "" {
		return invalidf("%s is a pre-defined network and cannot be removed", name)
	}
	if err := s.e.RemoveNetwork(r.Context(), name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) connectNetwork(w http.ResponseWriter, r *http.Request) error {
	name, n, err := s.findNetwork(r.PathValue("id"))
	if err != nil {
		return err
	}
	if n == nil {
		return invalidf("container cannot be connected to network %s", name)
	}
	var req nettypes.ConnectRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	c, err := s.e.Containers.Get(r.Context(), req.Container)
	if err != nil {
		return err
	}
	var aliases []string
	if req.EndpointConfig != nil {
		aliases = req.EndpointConfig.Aliases
	}
	if err := s.e.Containers.Connect(r.Context(), c, name, aliases); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) disconnectNetwork(w http.ResponseWriter, r *http.Request) error {
	name, _, err := s.findNetwork(r.PathValue("id"))
	if err != nil {
		return err
	}
	var req nettypes.DisconnectRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	c, err := s.e.Containers.Get(r.Context(), req.Container)
	if err != nil {
		return err
	}
	if err := s.e.Containers.Disconnect(r.Context(), c, name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
