// Package api serves the Docker Engine API (the subset the docker CLI 28
// uses, advertised as API 1.50) over the manager's engine, so `docker`
// works against `mgr daemon`. Handlers are thin: they decode a request,
// make one engine call and encode the answer; conversions between docker's
// types and the engine's live in convert_*.go, stream framing in stream.go.
package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/sirupsen/logrus"

	"github.com/berthrun/berth/manager/internal/container"
	"github.com/berthrun/berth/manager/internal/engine"
)

// Versions of the API this server speaks.
const (
	APIVersion    = "1.50"
	MinAPIVersion = "1.24"
)

// Options configure a Server.
type Options struct {
	Version string        // berth's version, reported as the server version
	Log     *logrus.Entry // request and background-task log (default: logrus's standard logger)
}

// Server is the Docker-API front of one engine.
type Server struct {
	e        *engine.Engine
	version  string
	log      *logrus.Entry
	mux      *http.ServeMux
	execs    *execRegistry
	mon      *monitor
	attaches *pendingAttaches

	ctx    context.Context // background tasks (exit watchers) end with it
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a server over e. Call Close when done with it.
func New(e *engine.Engine, o Options) *Server {
	if o.Log == nil {
		o.Log = logrus.NewEntry(logrus.StandardLogger())
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{e: e, version: o.Version, log: o.Log, mux: http.NewServeMux(), execs: newExecRegistry(), attaches: newPendingAttaches(), ctx: ctx, cancel: cancel}
	s.mon = newMonitor(s)
	s.routes()
	return s
}

// Start begins watching the containers that already run, so the ones
// created with AutoRemove are removed when they exit and the others follow
// their restart policy, and starts (in the background) the always and
// unless-stopped containers that are not running.
func (s *Server) Start(ctx context.Context) error {
	list, err := s.e.Containers.List(ctx)
	if err != nil {
		return err
	}
	var back []*container.Container
	for _, c := range list {
		if c.Running() {
			s.mon.watch(c.ID)
		} else if c.StartsWithDaemon() {
			back = append(back, c)
		}
	}
	if len(back) > 0 {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for _, c := range back {
				if s.ctx.Err() != nil {
					return
				}
				if err := s.start(context.WithoutCancel(s.ctx), c); err != nil {
					s.log.WithError(err).WithField("id", c.ID[:12]).Warn("start container with its restart policy")
				}
			}
		}()
	}
	return nil
}

// Close stops the background tasks; containers keep running.
func (s *Server) Close() error {
	s.cancel()
	s.wg.Wait()
	return nil
}

func (s *Server) routes() {
	h := func(pattern string, fn func(http.ResponseWriter, *http.Request) error) {
		s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if err := fn(w, r); err != nil {
				s.writeError(w, r, err)
			}
		})
	}
	h("GET /_ping", s.ping)
	h("HEAD /_ping", s.ping)
	h("GET /version", s.getVersion)
	h("GET /info", s.getInfo)
	h("GET /system/df", s.systemDF)
	h("GET /events", s.getEvents)
	h("POST /auth", s.login)

	h("GET /images/json", s.listImages)
	h("POST /images/create", s.pullImage)
	h("GET /images/get", s.saveImages)
	h("GET /images/search", s.searchImages)
	h("POST /images/load", s.loadImages)
	h("GET /images/{rest...}", s.imageGet)   // {name}/json, {name}/history
	h("POST /images/{rest...}", s.imagePost) // {name}/tag, {name}/push
	h("DELETE /images/{name...}", s.removeImage)
	h("POST /images/prune", s.pruneImages)
	h("POST /build", s.buildImage)

	h("POST /containers/create", s.createContainer)
	h("POST /containers/prune", s.pruneContainers)
	h("GET /containers/json", s.listContainers)
	h("GET /containers/{id}/json", s.inspectContainer)
	h("POST /containers/{id}/start", s.startContainer)
	h("POST /containers/{id}/stop", s.stopContainer)
	h("POST /containers/{id}/restart", s.restartContainer)
	h("POST /containers/{id}/kill", s.killContainer)
	h("POST /containers/{id}/wait", s.waitContainer)
	h("POST /containers/{id}/attach", s.attachContainer)
	h("GET /containers/{id}/logs", s.containerLogs)
	h("POST /containers/{id}/resize", s.resizeContainer)
	h("DELETE /containers/{id}", s.removeContainer)
	h("GET /containers/{id}/top", s.topContainer)
	h("GET /containers/{id}/stats", s.containerStats)
	h("POST /containers/{id}/exec", s.createExec)
	h("POST /containers/{id}/rename", s.renameContainer)
	h("POST /containers/{id}/pause", s.containerVerb((*container.Service).Pause))
	h("POST /containers/{id}/unpause", s.containerVerb((*container.Service).Unpause))
	h("HEAD /containers/{id}/archive", s.headArchive)
	h("GET /containers/{id}/archive", s.getArchive)
	h("PUT /containers/{id}/archive", s.putArchive)
	h("POST /exec/{id}/start", s.startExec)
	h("GET /exec/{id}/json", s.inspectExec)
	h("POST /exec/{id}/resize", s.resizeExec)

	h("GET /networks", s.listNetworks)
	h("GET /networks/{id}", s.inspectNetwork)
	h("POST /networks/create", s.createNetwork)
	h("DELETE /networks/{id}", s.removeNetwork)
	h("POST /networks/{id}/connect", s.connectNetwork)
	h("POST /networks/{id}/disconnect", s.disconnectNetwork)
	h("POST /networks/prune", s.pruneNetworks)

	h("POST /volumes/create", s.createVolume)
	h("GET /volumes", s.listVolumes)
	h("POST /volumes/prune", s.pruneVolumes)
	h("GET /volumes/{name}", s.inspectVolume)
	h("DELETE /volumes/{name}", s.removeVolume)
}

var versionPrefix = regexp.MustCompile(`^/v([0-9]+)\.([0-9]+)(/|$)`)

// ServeHTTP sets the headers every answer carries, strips the /vX.Y
// prefix (refusing versions this server does not speak) and routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Api-Version", APIVersion)
	hdr.Set("Ostype", "linux")
	hdr.Set("Server", "Docker/"+s.version+" (linux)")
	s.log.WithFields(logrus.Fields{"method": r.Method, "path": r.URL.Path}).Debug("request")
	if m := versionPrefix.FindStringSubmatch(r.URL.Path); m != nil {
		v := m[1] + "." + m[2]
		if compareVersions(v, APIVersion) > 0 {
			s.writeError(w, r, invalidf("client version %s is too new. Maximum supported API version is %s", v, APIVersion))
			return
		}
		if compareVersions(v, MinAPIVersion) < 0 {
			s.writeError(w, r, invalidf("client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", v, MinAPIVersion))
			return
		}
		r.URL.Path = "/" + strings.TrimPrefix(r.URL.Path[len(m[0])-len(m[3]):], "/")
		r.URL.RawPath = ""
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.writeError(w, r, notFoundf("page not found: %s %s", r.Method, r.URL.Path))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// compareVersions compares dotted API versions numerically.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// decodeBody reads a JSON request body into v; an empty body leaves v as is.
func decodeBody(r *http.Request, v any) error {
	if r.Body == nil || r.ContentLength == 0 {
		return nil
	}
	if err := json.NewDecoder(r.Body).Decode(v); err != nil && err.Error() != "EOF" {
		return invalidf("decode request body: %v", err)
	}
	return nil
}

// boolParam reads docker's boolean query values: 1/true/yes (any case).
func boolParam(r *http.Request, name string) bool {
	switch strings.ToLower(r.URL.Query().Get(name)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// filters decodes the `filters` query parameter: {"key":{"value":true}}
// (or the legacy {"key":["value"]}).
func filters(r *http.Request) (map[string][]string, error) {
	raw := r.URL.Query().Get("filters")
	out := map[string][]string{}
	if raw == "" {
		return out, nil
	}
	var sets map[string]map[string]bool
	if err := json.Unmarshal([]byte(raw), &sets); err == nil {
		for k, vs := range sets {
			for v, on := range vs {
				if on {
					out[k] = append(out[k], v)
				}
			}
		}
		return out, nil
	}
	var lists map[string][]string
	if err := json.Unmarshal([]byte(raw), &lists); err != nil {
		return nil, invalidf("invalid filters %q: %v", raw, err)
	}
	return lists, nil
}

func logField(r *http.Request) string { return fmt.Sprintf("%s %s", r.Method, r.URL.Path) }
