package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/manager/internal/archive"
	"github.com/berthrun/berth/manager/internal/errdefs"
)

var cpCommand = &cli.Command{
	Name:      "cp",
	Usage:     "copy files/folders between a container and the local filesystem",
	ArgsUsage: "CONTAINER:SRC_PATH DEST_PATH\n   mgr cp SRC_PATH CONTAINER:DEST_PATH",
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 2, 2); err != nil {
			return err
		}
		src, dst := c.Args().Get(0), c.Args().Get(1)
		sCtr, sPath, sIn := splitCopyArg(src)
		dCtr, dPath, dIn := splitCopyArg(dst)
		if sIn == dIn {
			return fmt.Errorf("copying between containers or between local paths is not supported; one side must be CONTAINER:PATH: %w", errdefs.ErrInvalidArgument)
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		if sIn {
			ctr, err := e.Containers.Get(c.Context, sCtr)
			if err != nil {
				return err
			}
			dir, top, err := localDestination(dPath, filepath.Base(sPath))
			if err != nil {
				return err
			}
			pr, pw := io.Pipe()
			go func() { pw.CloseWithError(e.Containers.CopyFrom(c.Context, ctr, sPath, top, pw)) }()
			return archive.Extract(dir, pr)
		}
		ctr, err := e.Containers.Get(c.Context, dCtr)
		if err != nil {
			return err
		}
		if _, err := os.Lstat(sPath); err != nil {
			return fmt.Errorf("could not find the file %s: %w", sPath, errdefs.ErrNotFound)
		}
		st, err := e.Containers.PathStat(c.Context, ctr, dPath)
		if err == nil && st.LinkTarget != "" {
			// As docker cp: a symlink destination means its target.
			target := st.LinkTarget
			if !filepath.IsAbs(target) {
				target = filepath.Join(filepath.Dir(dPath), target)
			}
			dPath = target
			st, err = e.Containers.PathStat(c.Context, ctr, dPath)
		}
		if err != nil && !errdefs.IsNotFound(err) {
			return err
		}
		dir, top := dPath, filepath.Base(sPath)
		if err != nil || !st.Mode.IsDir() {
			if strings.HasSuffix(dPath, "/") {
				return fmt.Errorf("destination directory %s does not exist in the container: %w", dPath, errdefs.ErrNotFound)
			}
			dir, top = filepath.Dir(dPath), filepath.Base(dPath)
		}
		rc := archive.Tar(sPath, top)
		defer rc.Close()
		return e.Containers.CopyTo(c.Context, ctr, dir, rc)
	},
}

// splitCopyArg splits "CONTAINER:PATH"; a path with a slash before any
// colon is local, as docker decides.
func splitCopyArg(arg string) (ctr, path string, inContainer bool) {
	i := strings.Index(arg, ":")
	if i <= 0 || strings.Contains(arg[:i], "/") {
		return "", arg, false
	}
	return arg[:i], arg[i+1:], true
}

// localDestination decides where a copied entry lands on the host: inside
// dst when it is an existing directory, else dst itself (renamed).
func localDestination(dst, base string) (dir, top string, err error) {
	fi, err := os.Stat(dst)
	if err == nil && fi.IsDir() {
		return dst, base, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", "", err
	}
	parent := filepath.Dir(dst)
	if fi, err := os.Stat(parent); err != nil || !fi.IsDir() {
		return "", "", fmt.Errorf("destination directory %s does not exist: %w", parent, errdefs.ErrNotFound)
	}
	return parent, filepath.Base(dst), nil
}
