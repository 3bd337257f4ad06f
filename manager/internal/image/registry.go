package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/go-units"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sync/errgroup"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

// Registries is how the service talks to registries.
type Registries struct {
	Keychain authn.Keychain
	// Insecure lists hosts (host[:port]) reachable over plain HTTP besides
	// localhost and 127.0.0.1/::1.
	Insecure []string
}

// Progress receives one line per event of a pull or push, in docker's
// wording ("a3ed95caeb02: Pull complete"). While a layer downloads it also
// gets "Downloading" statuses with a bar and the byte counts, at most every
// 100 ms per layer; a printer that is not on a terminal skips those.
type Progress func(id, status string)

// Downloading is the status prefix of byte-count updates.
const Downloading = "Downloading"

// parallelLayers is how many layers move at once, as docker's default.
const parallelLayers = 3

func (r Registries) options(ctx context.Context) []remote.Option {
	kc := r.Keychain
	if kc == nil {
		kc = authn.NewMultiKeychain()
	}
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(kc),
		remote.WithTransport(&plainHTTPGuard{next: remote.DefaultTransport, allowed: r.plainHTTPAllowed}),
		remote.WithJobs(parallelLayers),
	}
}

func (r Registries) parse(ref string, opts ...name.Option) (name.Reference, error) {
	named, err := Normalize(ref)
	if err != nil {
		return nil, err
	}
	host := reference.Domain(named)
	if r.plainHTTPAllowed(host) {
		opts = append(opts, name.Insecure)
	}
	parsed, err := name.ParseReference(named.String(), opts...)
	if err != nil {
		return nil, fmt.Errorf("reference %q: %w: %w", ref, err, errdefs.ErrInvalidArgument)
	}
	return parsed, nil
}

// plainHTTPAllowed: loopback, and hosts the user declared insecure.
func (r Registries) plainHTTPAllowed(host string) bool {
	if slices.Contains(r.Insecure, host) {
		return true
	}
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// plainHTTPGuard refuses any plain-HTTP request to a registry that is not
// allowed it. go-containerregistry by itself falls back to HTTP for
// private-range addresses too, which would send credentials in clear.
type plainHTTPGuard struct {
	next    http.RoundTripper
	allowed func(host string) bool
}

func (g *plainHTTPGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !g.allowed(req.URL.Host) {
		return nil, fmt.Errorf("refusing plain HTTP to registry %s: only localhost and registries listed as insecure may use it", req.URL.Host)
	}
	return g.next.RoundTrip(req)
}

// Pull fetches ref for this platform, stores what is missing, unpacks it
// and names it. Layers already present are not fetched again.
func (s *Service) Pull(ctx context.Context, ref string, regs Registries, progress Progress) (_ *Image, err error) {
	defer func() {
		if err == nil {
			if named, nerr := Normalize(ref); nerr == nil {
				s.event(eventtypes.ActionPull, named.String(), named.String())
			}
		}
	}()
	if progress == nil {
		progress = func(string, string) {}
	}
	r, err := regs.parse(ref)
	if err != nil {
		return nil, err
	}
	unlock, err := s.lock(false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	opts := append(regs.options(ctx), remote.WithPlatform(v1.Platform{OS: s.platform.OS, Architecture: s.platform.Architecture, Variant: s.platform.Variant}))
	desc, err := remote.Get(r, opts...)
	if err != nil {
		return nil, registryError("pull", ref, err)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, registryError("pull", ref, err)
	}
	manifest, err := img.RawManifest()
	if err != nil {
		return nil, registryError("pull", ref, err)
	}
	parsed, err := img.Manifest()
	if err != nil {
		return nil, registryError("pull", ref, err)
	}
	// A config already stored is not fetched again: pulling an image
	// that is present transfers no blob.
	configRaw, err := s.content.ReadAll(digest.Digest(parsed.Config.Digest.String()))
	if err != nil {
		if configRaw, err = img.RawConfigFile(); err != nil {
			return nil, registryError("pull", ref, err)
		}
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, registryError("pull", ref, err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelLayers)
	for _, l := range layers {
		g.Go(func() error { return s.fetchLayer(gctx, l, progress) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if _, err := s.content.WriteBytes(configRaw); err != nil {
		return nil, err
	}
	md, err := s.content.WriteBytes(manifest)
	if err != nil {
		return nil, err
	}
	named, _ := Normalize(ref)
	repoDigest := named.Name() + "@" + md.String()
	var names []string
	if _, isDigest := named.(reference.Digested); !isDigest {
		names = []string{named.String()}
	}
	out, err := s.register(ctx, md, names, repoDigest)
	if err != nil {
		return nil, err
	}
	progress("", "Digest: "+md.String())
	return out, nil
}

func (s *Service) fetchLayer(ctx context.Context, l v1.Layer, progress Progress) error {
	h, err := l.Digest()
	if err != nil {
		return err
	}
	d := digest.Digest(h.String())
	short := d.Encoded()[:12]
	size, err := l.Size()
	if err != nil {
		return err
	}
	if have, ok := s.content.Has(d); ok && have == size {
		progress(short, "Already exists")
		return nil
	}
	progress(short, "Pulling fs layer")
	rc, err := l.Compressed()
	if err != nil {
		return registryError("fetch layer", short, err)
	}
	defer rc.Close()
	counted := &progressReader{r: &ctxReader{ctx: ctx, r: rc}, total: size, report: func(status string) { progress(short, status) }}
	if err := s.content.Write(d, size, counted); err != nil {
		return err
	}
	progress(short, "Pull complete")
	return nil
}

// Push sends the image ref names to its registry.
func (s *Service) Push(ctx context.Context, ref string, regs Registries, progress Progress) (_ digest.Digest, err error) {
	defer func() {
		if err == nil {
			if named, nerr := Normalize(ref); nerr == nil {
				s.event(eventtypes.ActionPush, named.String(), named.String())
			}
		}
	}()
	if progress == nil {
		progress = func(string, string) {}
	}
	img, err := s.Get(ctx, ref)
	if err != nil {
		return "", err
	}
	r, err := regs.parse(ref)
	if err != nil {
		return "", err
	}
	remoteImg, err := s.remoteImage(img)
	if err != nil {
		return "", err
	}
	for _, l := range img.Layers {
		progress(l.Digest.Encoded()[:12], "Preparing")
	}
	err = remote.Write(r, remoteImg, regs.options(ctx)...)
	if err != nil {
		return "", registryError("push", ref, err)
	}
	for _, l := range img.Layers {
		progress(l.Digest.Encoded()[:12], "Pushed")
	}
	named, _ := Normalize(ref)
	// As docker: the pushed image is now known by its repository digest.
	if rec, err := s.images.Get(ctx, img.ID); err == nil {
		if rd := named.Name() + "@" + img.Manifest.String(); !slices.Contains(rec.RepoDigests, rd) {
			rec.RepoDigests = append(rec.RepoDigests, rd)
			if err := s.images.Put(ctx, rec); err != nil {
				return "", err
			}
		}
	}
	tag := "latest"
	if t, ok := named.(reference.Tagged); ok {
		tag = t.Tag()
	}
	size, _ := s.content.Has(img.Manifest)
	progress("", fmt.Sprintf("%s: digest: %s size: %d", tag, img.Manifest, size))
	return img.Manifest, nil
}

// Login checks user and password against registry: it runs the registry's
// auth handshake and an authenticated request, so a wrong password fails
// here rather than at the next pull.
func Login(ctx context.Context, registry, user, password string, regs Registries) error {
	reg, err := name.NewRegistry(registry)
	if err != nil {
		return fmt.Errorf("registry %q: %w: %w", registry, err, errdefs.ErrInvalidArgument)
	}
	if regs.plainHTTPAllowed(registry) {
		reg, _ = name.NewRegistry(registry, name.Insecure)
	}
	guard := &plainHTTPGuard{next: remote.DefaultTransport, allowed: regs.plainHTTPAllowed}
	auth := authn.FromConfig(authn.AuthConfig{Username: user, Password: password})
	rt, err := transport.NewWithContext(ctx, reg, auth, guard, []string{reg.Scope(transport.PullScope)})
	if err != nil {
		return registryError("login", registry, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, reg.Scheme()+"://"+reg.RegistryStr()+"/v2/", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return registryError("login", registry, err)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("login to %s: wrong username or password: %w", registry, errdefs.ErrUnauthorized)
	default:
		return fmt.Errorf("login to %s: registry answered %s: %w", registry, resp.Status, errdefs.ErrUnavailable)
	}
}

// registryError turns the registry client's errors into the manager's classes.
func registryError(op, ref string, err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch terr.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%s %s: access denied (run mgr login?): %w: %w", op, ref, err, errdefs.ErrUnauthorized)
		case http.StatusNotFound:
			return fmt.Errorf("%s %s: not found in registry: %w: %w", op, ref, err, errdefs.ErrNotFound)
		}
	}
	if strings.Contains(err.Error(), "MANIFEST_UNKNOWN") || strings.Contains(err.Error(), "NAME_UNKNOWN") {
		return fmt.Errorf("%s %s: not found in registry: %w: %w", op, ref, err, errdefs.ErrNotFound)
	}
	return fmt.Errorf("%s %s: %w: %w", op, ref, err, errdefs.ErrUnavailable)
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// progressReader reports how much of a layer has been read.
type progressReader struct {
	r      io.Reader
	n      int64
	total  int64
	last   time.Time
	report func(status string)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond || (err == io.EOF && p.n > 0) {
		p.last = now
		p.report(Downloading + " " + bar(p.n, p.total) + " " + units.HumanSize(float64(p.n)) + "/" + units.HumanSize(float64(p.total)))
	}
	return n, err
}

// bar draws docker's [=====>     ] progress bar, 50 cells wide.
func bar(n, total int64) string {
	const width = 50
	if total <= 0 {
		return ""
	}
	done := int(n * width / total)
	if done > width {
		done = width
	}
	b := strings.Repeat("=", done)
	if done < width {
		b += ">" + strings.Repeat(" ", width-done-1)
	}
	return "[" + b + "]"
}

// PullStatus is docker's closing line of a pull of name: whether the pull
// changed the image name points at (before: what it pointed at, or nil).
func PullStatus(before, after *Image, name string) string {
	if before != nil && after != nil && before.ID == after.ID {
		return "Status: Image is up to date for " + name
	}
	return "Status: Downloaded newer image for " + name
}
