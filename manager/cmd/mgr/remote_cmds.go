package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/pkg/stdcopy"
	ctypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/manager/internal/archive"
	"github.com/berthrun/berth/manager/internal/container"
	"github.com/berthrun/berth/manager/internal/detachkeys"
	"github.com/berthrun/berth/manager/internal/errdefs"
)

// The commands of client mode (remote.go). They print what their local
// versions print, from the API's answers.

func remoteVersion(c *cli.Context, api *client.Client) error {
	v, err := api.ServerVersion(c.Context, client.ServerVersionOptions{})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Client:\n Version:     %s\n API version: %s\n\nServer: %s\n Version:     %s\n API version: %s\n OS/Arch:     %s/%s\n",
		c.App.Version, api.ClientVersion(), v.Platform.Name, v.Version, v.APIVersion, v.Os, v.Arch)
	return nil
}

func remoteInfo(c *cli.Context, api *client.Client) error {
	res, err := api.Info(c.Context, client.InfoOptions{})
	if err != nil {
		return err
	}
	i := res.Info
	fmt.Fprintf(stdout, "Server: %s\n Containers: %d\n  Running: %d\n  Paused: %d\n  Stopped: %d\n Images: %d\n Server Version: %s\n Storage Driver: %s\n Kernel Version: %s\n Root Dir: %s\n",
		c.String("host"), i.Containers, i.ContainersRunning, i.ContainersPaused, i.ContainersStopped, i.Images, i.ServerVersion, i.Driver, i.KernelVersion, i.DockerRootDir)
	return nil
}

func remotePs(c *cli.Context, api *client.Client) error {
	if len(c.StringSlice("filter")) > 0 || c.String("format") != "" || c.Bool("latest") {
		return fmt.Errorf("ps --filter, --format and --latest through --host: %w", errdefs.ErrNotImplemented)
	}
	res, err := api.ContainerList(c.Context, client.ContainerListOptions{All: c.Bool("all")})
	if err != nil {
		return err
	}
	id := func(s string) string {
		if c.Bool("no-trunc") {
			return s
		}
		return s[:12]
	}
	if c.Bool("quiet") {
		for _, s := range res.Items {
			fmt.Fprintln(stdout, id(s.ID))
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tNAMES")
	for _, s := range res.Items {
		cmd := s.Command
		if !c.Bool("no-trunc") && len(cmd) > 20 {
			cmd = cmd[:19] + "…"
		}
		names := make([]string, len(s.Names))
		for i, n := range s.Names {
			names[i] = strings.TrimPrefix(n, "/")
		}
		fmt.Fprintf(tw, "%s\t%s\t%q\t%s ago\t%s\t%s\n", id(s.ID), s.Image, cmd,
			units.HumanDuration(time.Since(time.Unix(s.Created, 0))), s.Status, strings.Join(names, ","))
	}
	return tw.Flush()
}

func remoteImages(c *cli.Context, api *client.Client) error {
	if c.String("format") != "" || c.Bool("digests") || c.NArg() > 0 {
		return fmt.Errorf("images with --format, --digests or a name through --host: %w", errdefs.ErrNotImplemented)
	}
	res, err := api.ImageList(c.Context, client.ImageListOptions{All: c.Bool("all")})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 3, ' ', 0)
	if !c.Bool("quiet") {
		fmt.Fprintln(tw, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE")
	}
	for _, img := range res.Items {
		id := strings.TrimPrefix(img.ID, "sha256:")
		if !c.Bool("no-trunc") {
			id = id[:12]
		}
		if c.Bool("quiet") {
			fmt.Fprintln(tw, id)
			continue
		}
		tags := img.RepoTags
		if len(tags) == 0 {
			tags = []string{"<none>:<none>"}
		}
		for _, t := range tags {
			i := strings.LastIndex(t, ":")
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s ago\t%s\n", t[:i], t[i+1:], id,
				units.HumanDuration(time.Since(time.Unix(img.Created, 0))), units.HumanSizeWithPrecision(float64(img.Size), 3))
		}
	}
	return tw.Flush()
}

func remotePull(c *cli.Context, api *client.Client) error {
	if err := needArgs(c, 1, 1); err != nil {
		return err
	}
	return pullThrough(c.Context, api, c.Args().First(), c.Bool("quiet"))
}

// pullThrough pulls ref on the daemon, printing its progress as docker
// does off a terminal ("id: status").
func pullThrough(ctx context.Context, api *client.Client, ref string, quiet bool) error {
	resp, err := api.ImagePull(ctx, ref, client.ImagePullOptions{})
	if err != nil {
		return err
	}
	defer resp.Close()
	for m, err := range resp.JSONMessages(ctx) {
		if err != nil {
			return err
		}
		if m.Error != nil {
			return fmt.Errorf("%s", m.Error.Message)
		}
		switch {
		case quiet || m.Status == "":
		case m.ID != "":
			fmt.Fprintf(stdout, "%s: %s\n", m.ID, m.Status)
		default:
			fmt.Fprintln(stdout, m.Status)
		}
	}
	return nil
}

func remoteRun(c *cli.Context, api *client.Client) error {
	if err := needArgs(c, 1, -1); err != nil {
		return err
	}
	cfg, err := configFromFlags(c)
	if err != nil {
		return err
	}
	opts, err := apiCreateOptions(c.String("name"), cfg)
	if err != nil {
		return err
	}
	created, err := api.ContainerCreate(c.Context, opts)
	if errdefs.IsNotFound(err) || isNotFound(err) {
		if c.String("pull") == "never" {
			return fmt.Errorf("no such image: %s (--pull never): %w", cfg.ImageRef, errdefs.ErrNotFound)
		}
		if err := pullThrough(c.Context, api, cfg.ImageRef, true); err != nil {
			return err
		}
		created, err = api.ContainerCreate(c.Context, opts)
	}
	if err != nil {
		return err
	}
	id := created.ID
	if c.Bool("detach") {
		if _, err := api.ContainerStart(c.Context, id, client.ContainerStartOptions{}); err != nil {
			return err
		}
		fmt.Fprintln(stdout, id)
		return nil
	}
	code, err := attachThrough(c.Context, api, id, cfg, c.String("detach-keys"))
	if err != nil {
		return err
	}
	return exitWith(code)
}

// attachThrough runs a created container in the foreground through the
// daemon as the docker CLI does: attach (stdin with -i), register the wait,
// start; with -t a raw terminal, resizes and detach keys. It returns the
// container's status, or 0 after a detach.
func attachThrough(ctx context.Context, api *client.Client, id string, cfg container.Config, detachKeys string) (int, error) {
	// The daemon filters the keys too (for clients that do not): both
	// must know the same ones.
	keys, err := detachkeys.Parse(detachKeys)
	if err != nil {
		return 0, err
	}
	att, err := api.ContainerAttach(ctx, id, client.ContainerAttachOptions{Stream: true, Stdin: cfg.OpenStdin, Stdout: true, Stderr: true, DetachKeys: detachKeys})
	if err != nil {
		return 0, err
	}
	defer att.Close()
	cond := ctypes.WaitConditionNextExit
	if cfg.AutoRemove {
		cond = ctypes.WaitConditionRemoved
	}
	wait := api.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: cond})
	term, err := setupTerminal(ctx, cfg.Tty, func(w, h uint16) {
		_, _ = api.ContainerResize(context.WithoutCancel(ctx), id, client.ContainerResizeOptions{Width: uint(w), Height: uint(h)})
	})
	if err != nil {
		return 0, err
	}
	defer term.restore()
	if _, err := api.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return 0, err
	}
	detached, err := pipeSession(att.HijackedResponse, cfg.Tty, cfg.OpenStdin, keys)
	if err != nil || detached {
		term.restore()
		if detached {
			fmt.Fprintln(stderr)
		}
		return 0, err
	}
	term.restore()
	select {
	case res := <-wait.Result:
		if res.Error != nil && res.Error.Message != "" {
			return 0, fmt.Errorf("%s", res.Error.Message)
		}
		return int(res.StatusCode), nil
	case err := <-wait.Error:
		return 0, err
	}
}

// pipeSession copies a hijacked session until its output ends: stdin to
// it (filtered for the detach keys with a TTY), its output to ours (raw
// with a TTY, demultiplexed without). It reports a detach.
func pipeSession(h client.HijackedResponse, tty, stdin bool, keys []byte) (detached bool, err error) {
	detach := make(chan struct{})
	if stdin {
		go func() {
			var in io.Reader = os.Stdin
			if tty {
				in = detachkeys.NewReader(os.Stdin, keys, func() { close(detach) })
			}
			_, _ = io.Copy(h.Conn, in)
			_ = h.CloseWrite() // stdin's end, not the session's
		}()
	}
	copied := make(chan error, 1)
	go func() {
		var err error
		if tty {
			_, err = io.Copy(stdout, h.Reader)
		} else {
			_, err = stdcopy.StdCopy(stdout, stderr, h.Reader)
		}
		copied <- err
	}()
	select {
	case <-detach:
		return true, nil
	case err := <-copied:
		if err == io.EOF {
			err = nil
		}
		return false, err
	}
}

// isNotFound reports the daemon's 404 (the SDK's typed errors).
func isNotFound(err error) bool {
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "no such image")
}

func remoteStart(c *cli.Context, api *client.Client) error {
	if c.Bool("attach") || c.Bool("interactive") {
		return fmt.Errorf("start -a/-i through --host: %w", errdefs.ErrNotImplemented)
	}
	return eachRef(c, func(ctx context.Context, ref string) error {
		_, err := api.ContainerStart(ctx, ref, client.ContainerStartOptions{})
		return err
	})
}

func remoteStop(c *cli.Context, api *client.Client) error {
	opts := client.ContainerStopOptions{Signal: c.String("signal")}
	if c.IsSet("time") {
		t := c.Int("time")
		opts.Timeout = &t
	}
	return eachRef(c, func(ctx context.Context, ref string) error {
		_, err := api.ContainerStop(ctx, ref, opts)
		return err
	})
}

func remoteRm(c *cli.Context, api *client.Client) error {
	return eachRef(c, func(ctx context.Context, ref string) error {
		_, err := api.ContainerRemove(ctx, ref, client.ContainerRemoveOptions{Force: c.Bool("force"), RemoveVolumes: c.Bool("volumes")})
		return err
	})
}

func remoteLogs(c *cli.Context, api *client.Client) error {
	if err := needArgs(c, 1, 1); err != nil {
		return err
	}
	ref := c.Args().First()
	in, err := api.ContainerInspect(c.Context, ref, client.ContainerInspectOptions{})
	if err != nil {
		return err
	}
	opts := client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: c.Bool("follow"), Tail: c.String("tail"), Timestamps: c.Bool("timestamps")}
	if s := c.String("since"); s != "" {
		t, err := parseSince(s)
		if err != nil {
			return err
		}
		opts.Since = fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond())
	}
	rc, err := api.ContainerLogs(c.Context, ref, opts)
	if err != nil {
		return err
	}
	defer rc.Close()
	if in.Container.Config != nil && in.Container.Config.Tty {
		_, err = io.Copy(stdout, rc)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, rc)
	}
	if c.Context.Err() != nil {
		return nil // ^C ends a follow
	}
	return err
}

func remoteInspect(c *cli.Context, api *client.Client) error {
	if err := needArgs(c, 1, -1); err != nil {
		return err
	}
	if c.String("format") != "" {
		return fmt.Errorf("inspect --format through --host: %w", errdefs.ErrNotImplemented)
	}
	var out []json.RawMessage
	for _, ref := range c.Args().Slice() {
		if t := c.String("type"); t == "" || t == "container" {
			if res, err := api.ContainerInspect(c.Context, ref, client.ContainerInspectOptions{}); err == nil {
				out = append(out, res.Raw)
				continue
			} else if t == "container" {
				return err
			}
		}
		res, err := api.ImageInspect(c.Context, ref)
		if err != nil {
			return fmt.Errorf("no such object: %s: %w", ref, errdefs.ErrNotFound)
		}
		raw, err := json.Marshal(res.InspectResponse)
		if err != nil {
			return err
		}
		out = append(out, raw)
	}
	return printJSON(out)
}

func remoteExec(c *cli.Context, api *client.Client) error {
	if err := needArgs(c, 2, -1); err != nil {
		return err
	}
	ref, cmd := c.Args().First(), c.Args().Tail()
	tty, stdin := c.Bool("tty"), c.Bool("interactive")
	keys, err := detachkeys.Parse(c.String("detach-keys"))
	if err != nil {
		return err
	}
	ex, err := api.ExecCreate(c.Context, ref, client.ExecCreateOptions{
		Cmd: cmd, Env: c.StringSlice("env"), WorkingDir: c.String("workdir"), User: c.String("user"), Privileged: c.Bool("privileged"),
		TTY: tty, AttachStdin: stdin && !c.Bool("detach"), AttachStdout: !c.Bool("detach"), AttachStderr: !c.Bool("detach"),
		DetachKeys: c.String("detach-keys"),
	})
	if err != nil {
		return err
	}
	if c.Bool("detach") {
		_, err := api.ExecStart(c.Context, ex.ID, client.ExecStartOptions{Detach: true, TTY: tty})
		return err
	}
	att, err := api.ExecAttach(c.Context, ex.ID, client.ExecAttachOptions{TTY: tty})
	if err != nil {
		return err
	}
	defer att.Close()
	term, err := setupTerminal(c.Context, tty, func(w, h uint16) {
		_, _ = api.ExecResize(context.WithoutCancel(c.Context), ex.ID, client.ExecResizeOptions{Width: uint(w), Height: uint(h)})
	})
	if err != nil {
		return err
	}
	defer term.restore()
	detached, err := pipeSession(att.HijackedResponse, tty, stdin, keys)
	term.restore()
	if err != nil || detached {
		return err
	}
	res, err := api.ExecInspect(c.Context, ex.ID, client.ExecInspectOptions{})
	if err != nil {
		return err
	}
	return exitWith(res.ExitCode)
}

// remoteBuild sends the context directory as a tar to the daemon's
// classic builder and prints its output; the daemon applies .dockerignore.
func remoteBuild(c *cli.Context, api *client.Client) error {
	if err := needArgs(c, 1, 1); err != nil {
		return cli.Exit(err.Error(), exitBuildFailed)
	}
	dir := c.Args().First()
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return cli.Exit(fmt.Sprintf("unable to prepare context: path %q not found or not a directory", dir), exitBuildFailed)
	}
	dockerfile := "Dockerfile"
	if f := c.String("file"); f != "" {
		rel, err := filepath.Rel(dir, f)
		if err != nil || !filepath.IsLocal(rel) {
			return cli.Exit(fmt.Sprintf("the Dockerfile (%s) must be inside the build context (%s) through --host", f, dir), exitBuildFailed)
		}
		dockerfile = rel
	}
	args, labels, err := buildKeyValues(c)
	if err != nil {
		return err
	}
	buildArgs := map[string]*string{}
	for k, v := range args {
		buildArgs[k] = &v
	}
	network := c.String("network")
	ctxTar := archive.Tar(dir, ".")
	defer ctxTar.Close()
	res, err := api.ImageBuild(c.Context, ctxTar, client.ImageBuildOptions{
		Tags: c.StringSlice("tag"), Dockerfile: dockerfile, BuildArgs: buildArgs, Labels: labels, Target: c.String("target"),
		NoCache: c.Bool("no-cache"), PullParent: c.Bool("pull"), SuppressOutput: c.Bool("quiet"), Remove: true, NetworkMode: network,
	})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	dec := json.NewDecoder(res.Body)
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if m.Error != nil {
			code := m.Error.Code
			if code == 0 {
				code = exitBuildFailed
			}
			return cli.Exit(m.Error.Message, code)
		}
		fmt.Fprint(stdout, m.Stream)
	}
}
