package build

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/berthrun/berth/manager/internal/archive"
	"github.com/berthrun/berth/manager/internal/container"
	"github.com/berthrun/berth/manager/internal/errdefs"
)

// run is a RUN step: a container from the current image with the stage's
// env, user and workdir, on the build's network (the default network, as
// docker's classic builder); what it changes becomes the step's layer.
func (bd *build) run(ctx context.Context, st *stage, c *instructions.RunCommand) error {
	if len(c.FlagsUsed) > 0 {
		return fmt.Errorf("RUN --%s is not supported by mgr build yet: %w", c.FlagsUsed[0], errdefs.ErrNotImplemented)
	}
	if len(c.Files) > 0 {
		return fmt.Errorf("RUN with a heredoc is not supported by mgr build yet: %w", errdefs.ErrNotImplemented)
	}
	argv := st.cmdline(c.ShellDependantCmdLine)
	args := st.runArgs()
	createdBy := strings.Join(argv, " ")
	if len(args) > 0 {
		createdBy = "|" + strconv.Itoa(len(args)) + " " + strings.Join(args, " ") + " " + createdBy
	}
	if hit, err := bd.cached(ctx, st, createdBy); hit || err != nil {
		return err
	}
	if st.chain == "" {
		return errNoLayers
	}
	ctr, err := bd.containers.Create(ctx, "", container.Config{
		ImageRef:    st.id.String(),
		Entrypoint:  argv,
		Env:         args,
		User:        st.config.Config.User,
		WorkingDir:  st.config.Config.WorkingDir,
		NetworkMode: bd.o.Network,
		Labels:      map[string]string{"berth.build": "RUN"},
	})
	if err != nil {
		return fmt.Errorf("RUN: %w", err)
	}
	// The build container goes whatever happens, even on ^C.
	defer func() { _ = bd.containers.Remove(context.WithoutCancel(ctx), ctr, true) }()
	fmt.Fprintf(bd.out, " ---> Running in %s\n", ctr.ID[:12])
	var out io.Writer = bd.out
	var buf bytes.Buffer
	if bd.o.Quiet {
		out = &buf
	}
	code, err := bd.runContainer(ctx, ctr, out)
	if err != nil {
		return err
	}
	if code != 0 {
		if bd.o.Quiet {
			_, _ = bd.o.Stderr.Write(buf.Bytes())
		}
		return &RunError{Cmd: argv, Code: code}
	}
	fmt.Fprintf(bd.out, "Removing intermediate container %s\n", ctr.ID[:12])
	layer := archive.Diff(bd.containers.UpperDir(ctr), bd.containers.MountPoints())
	defer layer.Close()
	return bd.commit(ctx, st, createdBy, layer, false)
}

// runContainer runs ctr to its exit with its output going to out.
func (bd *build) runContainer(ctx context.Context, ctr *container.Container, out io.Writer) (int, error) {
	// Run attaches as it starts the container: the step's output is whole.
	stream, err := bd.containers.Run(ctx, ctr, false)
	if err != nil {
		return 0, fmt.Errorf("RUN: %w", err)
	}
	if stream == nil { // prepared earlier: attach, then start
		if stream, err = bd.containers.Attach(ctx, ctr, false); err != nil {
			return 0, fmt.Errorf("RUN: %w", err)
		}
		defer stream.Close()
		if err := bd.containers.Start(ctx, ctr); err != nil {
			return 0, fmt.Errorf("RUN: %w", err)
		}
	} else {
		defer stream.Close()
	}
	exit, err := stream.Copy(out, out)
	st, werr := bd.containers.Wait(context.WithoutCancel(ctx), ctr)
	if werr != nil {
		return 0, fmt.Errorf("RUN: %w", werr)
	}
	if err != nil {
		return st.ExitCode, nil
	}
	return exit.ExitCode, nil
}
