// Package build runs Dockerfile builds the way docker's classic builder
// does: one step per instruction, each committed as an intermediate image,
// RUN steps in real containers (on the default network unless told
// otherwise) whose writable layer becomes the step's layer, COPY layers
// written straight from the build context, and a cache from (parent image,
// instruction) to the image a step made.
package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berthrun/berth/manager/internal/container"
	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/manager/internal/image"
	shimapi "github.com/berthrun/berth/shim/api"
)

// Images is what a build needs of the image service.
type Images interface {
	Get(ctx context.Context, ref string) (*image.Image, error)
	Commit(ctx context.Context, parent digest.Digest, layer io.Reader, config dockerspec.DockerOCIImage) (*image.Image, error)
	LayerDirs(ctx context.Context, chain digest.Digest) ([]string, error)
	Tag(ctx context.Context, src, target string) error
}

// Containers is what a build needs of the container service to RUN.
type Containers interface {
	Create(ctx context.Context, name string, cfg container.Config) (*container.Container, error)
	Run(ctx context.Context, c *container.Container, stdin bool) (*shimapi.Stream, error)
	Attach(ctx context.Context, c *container.Container, stdin bool) (*shimapi.Stream, error)
	Start(ctx context.Context, c *container.Container) error
	Wait(ctx context.Context, c *container.Container) (*shimapi.ExitStatus, error)
	Remove(ctx context.Context, c *container.Container, force bool) error
	UpperDir(c *container.Container) string
	MountPoints() []string
}

// Options are one build's inputs.
type Options struct {
	ContextDir string
	Dockerfile string // path; default ContextDir/Dockerfile
	Tags       []string
	BuildArgs  map[string]string
	Target     string
	NoCache    bool
	Labels     map[string]string
	Network    string // what RUN steps join: a network name, "none" or "host"; "" is the default network
	// Pull fetches a base image from its registry; nil never pulls.
	// Without PullAlways it is called only for base images not in the store.
	Pull       func(ctx context.Context, ref string) (*image.Image, error)
	PullAlways bool
	Quiet      bool      // no progress; RUN output only when it fails
	Out        io.Writer // progress and RUN output
	Stderr     io.Writer // warnings, and a failed RUN's output under Quiet
}

// Builder builds images with an engine's services.
type Builder struct {
	images     Images
	containers Containers
	cacheDir   string // the step cache index
	tmpDir     string // mount points for read-only views of images
}

// New returns a builder keeping its cache index in cacheDir and making
// temporary mount points under tmpDir.
func New(images Images, containers Containers, cacheDir, tmpDir string) *Builder {
	return &Builder{images: images, containers: containers, cacheDir: cacheDir, tmpDir: tmpDir}
}

// RunError is a RUN step that exited non-zero.
type RunError struct {
	Cmd  []string
	Code int
}

func (e *RunError) Error() string {
	return fmt.Sprintf("The command '%s' returned a non-zero code: %d", strings.Join(e.Cmd, " "), e.Code)
}

// stage is one FROM section as it is being built.
type stage struct {
	name   string
	id     digest.Digest // the current image; "" while a scratch stage has none
	chain  digest.Digest
	config dockerspec.DockerOCIImage
	args   map[string]*string // ARGs declared in this stage
	cmdSet bool
	shell  []string
}

type build struct {
	*Builder
	o         Options
	out       io.Writer
	lex       *shell.Lex
	metaArgs  map[string]*string
	usedArgs  map[string]bool
	stages    []*stage
	ignore    *ignorer
	step, all int
}

// Build builds the Dockerfile and returns the image it made, tagged with
// every tag.
func (b *Builder) Build(ctx context.Context, o Options) (*image.Image, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.Dockerfile == "" {
		o.Dockerfile = filepath.Join(o.ContextDir, "Dockerfile")
	}
	if fi, err := os.Stat(o.ContextDir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("unable to prepare context: path %q not found or not a directory: %w", o.ContextDir, errdefs.ErrInvalidArgument)
	}
	for _, t := range o.Tags {
		if _, err := image.Normalize(t); err != nil {
			return nil, fmt.Errorf("invalid tag %q: %w", t, err)
		}
	}
	f, err := os.Open(o.Dockerfile)
	if err != nil {
		return nil, fmt.Errorf("read dockerfile: %w", err)
	}
	res, err := parser.Parse(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("dockerfile parse error: %w", err)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, fmt.Errorf("dockerfile parse error: %w", err)
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("dockerfile has no FROM: %w", errdefs.ErrInvalidArgument)
	}
	last := len(stages) - 1
	if o.Target != "" {
		i := slices.IndexFunc(stages, func(s instructions.Stage) bool { return strings.EqualFold(s.Name, o.Target) })
		if i < 0 {
			return nil, fmt.Errorf("target stage %q could not be found: %w", o.Target, errdefs.ErrInvalidArgument)
		}
		last = i
	}
	stages = stages[:last+1]
	ign, err := readIgnore(o.ContextDir)
	if err != nil {
		return nil, err
	}
	bd := &build{Builder: b, o: o, out: o.Out, lex: shell.NewLex(res.EscapeToken), metaArgs: map[string]*string{}, usedArgs: map[string]bool{}, ignore: ign}
	if o.Quiet {
		bd.out = io.Discard
	}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			v := kv.Value
			if v != nil {
				ex, _, err := bd.lex.ProcessWord(*v, bd.metaEnv())
				if err != nil {
					return nil, err
				}
				v = &ex
			}
			if bv, ok := o.BuildArgs[kv.Key]; ok {
				v = &bv
				bd.usedArgs[kv.Key] = true
			}
			bd.metaArgs[kv.Key] = v
		}
	}
	for _, s := range stages {
		bd.all += 1 + len(s.Commands)
	}
	if len(o.Labels) > 0 {
		bd.all++
	}
	for i, s := range stages {
		if err := bd.runStage(ctx, s, i == last); err != nil {
			return nil, err
		}
	}
	var unused []string
	for k := range o.BuildArgs {
		if !bd.usedArgs[k] {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		slices.Sort(unused)
		fmt.Fprintf(o.Stderr, "[Warning] One or more build-args %v were not consumed\n", unused)
	}
	final := bd.stages[last]
	if final.id == "" {
		// FROM scratch with nothing after it still makes an image.
		img, err := b.images.Commit(ctx, "", nil, final.config)
		if err != nil {
			return nil, err
		}
		final.id = img.ID
	}
	fmt.Fprintf(bd.out, "Successfully built %s\n", final.id.Encoded()[:12])
	for _, t := range o.Tags {
		if err := b.images.Tag(ctx, final.id.String(), t); err != nil {
			return nil, err
		}
		named, _ := image.Normalize(t)
		fmt.Fprintf(bd.out, "Successfully tagged %s\n", image.Familiar(named.String()))
	}
	return b.images.Get(ctx, final.id.String())
}

func (bd *build) metaEnv() shell.EnvGetter {
	e := envs{}
	for k, v := range bd.metaArgs {
		if v != nil {
			e[k] = *v
		}
	}
	return e
}

// envs is a variable set for the Dockerfile's word expansion.
type envs map[string]string

func (e envs) Get(k string) (string, bool) { v, ok := e[k]; return v, ok }
func (e envs) Keys() []string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// env is what words in st expand with: its ARGs, then its ENV over them.
func (st *stage) env() envs {
	e := envs{}
	for k, v := range st.args {
		if v != nil {
			e[k] = *v
		}
	}
	for _, kv := range st.config.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		e[k] = v
	}
	return e
}

// runArgs are the build args a RUN sees besides the ENV: set, declared
// and not shadowed by an ENV, sorted.
func (st *stage) runArgs() []string {
	var out []string
	for k, v := range st.args {
		if v == nil || slices.ContainsFunc(st.config.Config.Env, func(kv string) bool { return strings.HasPrefix(kv, k+"=") }) {
			continue
		}
		out = append(out, k+"="+*v)
	}
	slices.Sort(out)
	return out
}

func (bd *build) printStep(text string) {
	bd.step++
	fmt.Fprintf(bd.out, "Step %d/%d : %s\n", bd.step, bd.all, text)
}

func (bd *build) printID(id digest.Digest) {
	fmt.Fprintf(bd.out, " ---> %s\n", id.Encoded()[:12])
}

func (bd *build) runStage(ctx context.Context, s instructions.Stage, final bool) error {
	st := &stage{name: s.Name, args: map[string]*string{}, shell: []string{"/bin/sh", "-c"}}
	bd.printStep(s.SourceCode)
	base, _, err := bd.lex.ProcessWord(s.BaseName, bd.metaEnv())
	if err != nil {
		return err
	}
	switch prev := bd.stageByName(base); {
	case prev != nil:
		st.id, st.chain, st.config = prev.id, prev.chain, prev.config
	case strings.EqualFold(base, "scratch"):
	default:
		img, err := bd.baseImage(ctx, base)
		if err != nil {
			return fmt.Errorf("FROM %s: %w", base, err)
		}
		st.id, st.chain, st.config = img.ID, img.Chain, img.Config
	}
	if st.id != "" {
		bd.printID(st.id)
	}
	if len(st.config.Config.Shell) > 0 {
		st.shell = slices.Clone(st.config.Config.Shell)
	}
	if err := bd.runTriggers(ctx, st); err != nil {
		return err
	}
	for _, c := range s.Commands {
		text := c.Name()
		if sc, ok := c.(interface{ String() string }); ok {
			text = sc.String()
		}
		bd.printStep(text)
		if err := bd.dispatch(ctx, st, c); err != nil {
			return err
		}
	}
	if final && len(bd.o.Labels) > 0 {
		keys := make([]string, 0, len(bd.o.Labels))
		for k := range bd.o.Labels {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, strconv.Quote(k)+"="+strconv.Quote(bd.o.Labels[k]))
		}
		text := "LABEL " + strings.Join(parts, " ")
		bd.printStep(text)
		if err := bd.meta(ctx, st, text, func(cfg *dockerspec.DockerOCIImageConfig) {
			if cfg.Labels == nil {
				cfg.Labels = map[string]string{}
			}
			for _, k := range keys {
				cfg.Labels[k] = bd.o.Labels[k]
			}
		}); err != nil {
			return err
		}
	}
	bd.stages = append(bd.stages, st)
	return nil
}

// baseImage is FROM's image: from the store, pulled when missing or with
// --pull.
func (bd *build) baseImage(ctx context.Context, ref string) (*image.Image, error) {
	if !bd.o.PullAlways || bd.o.Pull == nil {
		img, err := bd.images.Get(ctx, ref)
		if err == nil || bd.o.Pull == nil || !errors.Is(err, errdefs.ErrNotFound) {
			return img, err
		}
	}
	return bd.o.Pull(ctx, ref)
}

// stageByName finds an earlier stage by name or index.
func (bd *build) stageByName(name string) *stage {
	for _, s := range bd.stages {
		if s.name != "" && strings.EqualFold(s.name, name) {
			return s
		}
	}
	if i, err := strconv.Atoi(name); err == nil && i >= 0 && i < len(bd.stages) {
		return bd.stages[i]
	}
	return nil
}

func (bd *build) dispatch(ctx context.Context, st *stage, c instructions.Command) error {
	if ex, ok := c.(instructions.SupportsSingleWordExpansion); ok {
		env := st.env()
		if err := ex.Expand(func(w string) (string, error) {
			r, _, err := bd.lex.ProcessWord(w, env)
			return r, err
		}); err != nil {
			return err
		}
	}
	switch c := c.(type) {
	case *instructions.ArgCommand:
		for _, kv := range c.Args {
			v := kv.Value
			if v == nil {
				if mv, ok := bd.metaArgs[kv.Key]; ok {
					v = mv
				}
			}
			if bv, ok := bd.o.BuildArgs[kv.Key]; ok {
				v = &bv
				bd.usedArgs[kv.Key] = true
			}
			st.args[kv.Key] = v
		}
		return bd.meta(ctx, st, c.String(), nil)
	case *instructions.EnvCommand:
		var parts []string
		for _, kv := range c.Env {
			parts = append(parts, kv.Key+"="+kv.Value)
		}
		return bd.meta(ctx, st, "ENV "+strings.Join(parts, " "), func(cfg *dockerspec.DockerOCIImageConfig) {
			for _, kv := range c.Env {
				cfg.Env = setEnv(cfg.Env, kv.Key, kv.Value)
			}
		})
	case *instructions.LabelCommand:
		var parts []string
		for _, kv := range c.Labels {
			parts = append(parts, kv.Key+"="+kv.Value)
		}
		return bd.meta(ctx, st, "LABEL "+strings.Join(parts, " "), func(cfg *dockerspec.DockerOCIImageConfig) {
			if cfg.Labels == nil {
				cfg.Labels = map[string]string{}
			}
			for _, kv := range c.Labels {
				cfg.Labels[kv.Key] = kv.Value
			}
		})
	case *instructions.WorkdirCommand:
		dir := c.Path
		if !filepath.IsAbs(dir) {
			dir = filepath.Join("/", st.config.Config.WorkingDir, dir)
		}
		dir = filepath.Clean(dir)
		return bd.meta(ctx, st, "WORKDIR "+dir, func(cfg *dockerspec.DockerOCIImageConfig) { cfg.WorkingDir = dir })
	case *instructions.UserCommand:
		return bd.meta(ctx, st, "USER "+c.User, func(cfg *dockerspec.DockerOCIImageConfig) { cfg.User = c.User })
	case *instructions.CmdCommand:
		argv := st.cmdline(c.ShellDependantCmdLine)
		st.cmdSet = true
		return bd.meta(ctx, st, "CMD "+jsonArgs(argv), func(cfg *dockerspec.DockerOCIImageConfig) { cfg.Cmd = argv })
	case *instructions.EntrypointCommand:
		argv := st.cmdline(c.ShellDependantCmdLine)
		return bd.meta(ctx, st, "ENTRYPOINT "+jsonArgs(argv), func(cfg *dockerspec.DockerOCIImageConfig) {
			cfg.Entrypoint = argv
			if !st.cmdSet {
				cfg.Cmd = nil
			}
		})
	case *instructions.ExposeCommand:
		env := st.env()
		var ports []string
		for _, p := range c.Ports {
			p, _, err := bd.lex.ProcessWord(p, env)
			if err != nil {
				return err
			}
			if !strings.Contains(p, "/") {
				p += "/tcp"
			}
			ports = append(ports, p)
		}
		return bd.meta(ctx, st, "EXPOSE "+strings.Join(ports, " "), func(cfg *dockerspec.DockerOCIImageConfig) {
			if cfg.ExposedPorts == nil {
				cfg.ExposedPorts = map[string]struct{}{}
			}
			for _, p := range ports {
				cfg.ExposedPorts[p] = struct{}{}
			}
		})
	case *instructions.VolumeCommand:
		return bd.meta(ctx, st, "VOLUME "+jsonArgs(c.Volumes), func(cfg *dockerspec.DockerOCIImageConfig) {
			if cfg.Volumes == nil {
				cfg.Volumes = map[string]struct{}{}
			}
			for _, v := range c.Volumes {
				cfg.Volumes[v] = struct{}{}
			}
		})
	case *instructions.StopSignalCommand:
		return bd.meta(ctx, st, "STOPSIGNAL "+c.Signal, func(cfg *dockerspec.DockerOCIImageConfig) { cfg.StopSignal = c.Signal })
	case *instructions.ShellCommand:
		st.shell = slices.Clone(c.Shell)
		return bd.meta(ctx, st, "SHELL "+jsonArgs(c.Shell), func(cfg *dockerspec.DockerOCIImageConfig) { cfg.Shell = slices.Clone(c.Shell) })
	case *instructions.HealthCheckCommand:
		return bd.meta(ctx, st, healthcheckText(c.Health), func(cfg *dockerspec.DockerOCIImageConfig) {
			if old := cfg.Healthcheck; old != nil && len(old.Test) > 0 && old.Test[0] != "NONE" {
				fmt.Fprintf(bd.out, "Note: overriding previous HEALTHCHECK: %v\n", old.Test)
			}
			cfg.Healthcheck = c.Health
		})
	case *instructions.OnbuildCommand:
		return bd.meta(ctx, st, "ONBUILD "+c.Expression, func(cfg *dockerspec.DockerOCIImageConfig) {
			cfg.OnBuild = append(slices.Clone(cfg.OnBuild), c.Expression)
		})
	case *instructions.MaintainerCommand:
		st.config.Author = c.Maintainer
		return bd.meta(ctx, st, "MAINTAINER "+c.Maintainer, nil)
	case *instructions.RunCommand:
		return bd.run(ctx, st, c)
	case *instructions.CopyCommand:
		return bd.copy(ctx, st, copyRequest{srcs: c.SourcePaths, dest: c.DestPath, from: c.From, chown: c.Chown, chmod: c.Chmod, contents: len(c.SourceContents), verb: "COPY"})
	case *instructions.AddCommand:
		for _, src := range c.SourcePaths {
			if isURL(src) {
				return fmt.Errorf("ADD %s: sources from URLs and git repositories need the network, which builds do not have; download it into the build context and COPY it: %w", src, errdefs.ErrNotImplemented)
			}
		}
		return bd.copy(ctx, st, copyRequest{srcs: c.SourcePaths, dest: c.DestPath, chown: c.Chown, chmod: c.Chmod, contents: len(c.SourceContents), verb: "ADD"})
	default:
		return fmt.Errorf("%s is not supported by mgr build yet: %w", strings.ToUpper(c.Name()), errdefs.ErrNotImplemented)
	}
}

func isURL(s string) bool {
	for _, p := range []string{"http://", "https://", "git@", "git://"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func setEnv(env []string, k, v string) []string {
	out := slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, k+"=") || kv == k })
	return append(out, k+"="+v)
}

func (st *stage) cmdline(c instructions.ShellDependantCmdLine) []string {
	if c.PrependShell {
		return append(slices.Clone(st.shell), strings.Join(c.CmdLine, " "))
	}
	return slices.Clone(c.CmdLine)
}

func jsonArgs(a []string) string {
	q := make([]string, len(a))
	for i, s := range a {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, " ") + "]"
}

// meta is a metadata-only step: a new config, a history entry with
// empty_layer, no layer. edit may be nil (ARG, SHELL).
func (bd *build) meta(ctx context.Context, st *stage, text string, edit func(*dockerspec.DockerOCIImageConfig)) error {
	createdBy := "/bin/sh -c #(nop) " + text
	if hit, err := bd.cached(ctx, st, createdBy); hit || err != nil {
		return err
	}
	if edit != nil {
		edit(&st.config.Config)
	}
	return bd.commit(ctx, st, createdBy, nil, true)
}

// cached moves st to the image a step with this parent and instruction
// made before, if the cache has it.
func (bd *build) cached(ctx context.Context, st *stage, createdBy string) (bool, error) {
	if bd.o.NoCache {
		return false, nil
	}
	id, ok := bd.cacheGet(cacheKey(st.id, createdBy))
	if !ok {
		return false, nil
	}
	img, err := bd.images.Get(ctx, id.String())
	if err != nil {
		return false, nil // pruned since: build it again
	}
	st.id, st.chain, st.config = img.ID, img.Chain, img.Config
	fmt.Fprintln(bd.out, " ---> Using cache")
	bd.printID(st.id)
	return true, nil
}

// commit records a step's result as an image and in the cache.
func (bd *build) commit(ctx context.Context, st *stage, createdBy string, layer io.Reader, empty bool) error {
	now := time.Now().UTC()
	cfg := st.config
	cfg.Created = &now
	cfg.History = append(slices.Clone(cfg.History), ocispec.History{Created: &now, CreatedBy: createdBy, EmptyLayer: empty})
	img, err := bd.images.Commit(ctx, st.id, layer, cfg)
	if err != nil {
		return err
	}
	key := cacheKey(st.id, createdBy)
	st.id, st.chain, st.config = img.ID, img.Chain, img.Config
	if err := bd.cachePut(key, img.ID); err != nil {
		fmt.Fprintf(bd.o.Stderr, "[Warning] build cache: %v\n", err)
	}
	bd.printID(st.id)
	return nil
}

var errNoLayers = errors.New("RUN needs a base image with a shell; this stage has no layers (FROM scratch)")
