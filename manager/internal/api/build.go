package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/moby/api/types/jsonstream"

	"github.com/berthrun/berth/manager/internal/archive"
	"github.com/berthrun/berth/manager/internal/build"
	"github.com/berthrun/berth/manager/internal/image"
)

// buildImage is POST /build, the classic builder's endpoint: the body is
// the context as a (maybe compressed) tar, the answer a JSON message
// stream of the build's output, an aux message with the image ID, and an
// errorDetail (with a failed RUN's exit code) when it fails.
func (s *Server) buildImage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Get("remote") != "" {
		return invalidf("building from a remote context (git or URL) needs the network, which builds do not have: send the context instead")
	}
	dockerfile := q.Get("dockerfile")
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	if !filepath.IsLocal(dockerfile) {
		return invalidf("dockerfile %q must be a path inside the build context", dockerfile)
	}
	opts := build.Options{
		Dockerfile: dockerfile,
		Tags:       q["t"],
		Target:     q.Get("target"),
		NoCache:    boolParam(r, "nocache"),
		Quiet:      boolParam(r, "q"),
		PullAlways: boolParam(r, "pull"),
		Network:    q.Get("networkmode"),
	}
	if opts.Network == "default" {
		opts.Network = ""
	}
	var err error
	if opts.BuildArgs, err = jsonStringMap(q.Get("buildargs")); err != nil {
		return invalidf("buildargs: %v", err)
	}
	if opts.Labels, err = jsonStringMap(q.Get("labels")); err != nil {
		return invalidf("labels: %v", err)
	}
	// Under the data root, not the runtime root: /run is memory, and a
	// context may be large.
	ctxRoot := filepath.Join(s.e.Root, "build-contexts")
	if err := os.MkdirAll(ctxRoot, 0o700); err != nil {
		return err
	}
	dir, err := os.MkdirTemp(ctxRoot, "context-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := archive.Extract(dir, r.Body); err != nil {
		return invalidf("unpack the build context: %v", err)
	}
	opts.ContextDir = dir
	// A Dockerfile that is a link is followed inside the context only.
	if opts.Dockerfile, err = securejoin.SecureJoin(dir, dockerfile); err != nil {
		return invalidf("dockerfile %q: %v", dockerfile, err)
	}

	ps := &progressStream{w: w}
	out := buildOutput{ps}
	opts.Out, opts.Stderr = out, out
	opts.Pull = func(ctx context.Context, ref string) (*image.Image, error) {
		return s.e.Images.Pull(ctx, ref, s.registries(""), func(id, status string) {
			ps.send(jsonstream.Message{ID: id, Status: status, Progress: &jsonstream.Progress{}})
		})
	}
	b := build.New(s.e.Images, s.e.Containers, filepath.Join(s.e.Root, "build-cache"), filepath.Join(s.e.RunRoot, "build"))
	img, err := b.Build(r.Context(), opts)
	if err != nil {
		code := 1
		var re *build.RunError
		if errors.As(err, &re) {
			code = re.Code
		}
		ps.send(jsonstream.Message{Error: &jsonstream.Error{Code: code, Message: message(err)}})
		return nil
	}
	aux, _ := json.Marshal(map[string]string{"ID": img.ID.String()})
	raw := json.RawMessage(aux)
	ps.send(jsonstream.Message{Aux: &raw})
	if opts.Quiet {
		ps.send(jsonstream.Message{Stream: img.ID.String() + "\n"})
	}
	return nil
}

// buildOutput sends what is written as build output messages.
type buildOutput struct{ ps *progressStream }

func (w buildOutput) Write(p []byte) (int, error) {
	w.ps.send(jsonstream.Message{Stream: string(p)})
	return len(p), nil
}

// jsonStringMap decodes docker's JSON-encoded map query values; a null
// value (a build arg named without one) is left out.
func jsonStringMap(v string) (map[string]string, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var m map[string]*string
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return nil, fmt.Errorf("not a JSON object of strings: %w", err)
	}
	out := map[string]string{}
	for k, val := range m {
		if val != nil {
			out[k] = *val
		}
	}
	return out, nil
}
