package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Save writes the images refs name as one tar that is both an OCI image
// layout (oci-layout, index.json, blobs/) and a docker-archive (manifest.json
// pointing into blobs/), as docker 25 does: `docker load`, `mgr load`,
// skopeo and other OCI-layout readers all accept it.
func (s *Service) Save(ctx context.Context, w io.Writer, refs []string) error {
	tw := tar.NewWriter(w)
	written := map[digest.Digest]bool{}
	var index ocispec.Index
	index.SchemaVersion = 2
	index.MediaType = ocispec.MediaTypeImageIndex
	var docker []dockerManifestEntry
	byID := map[digest.Digest]int{} // image -> its manifest.json entry

	for _, ref := range refs {
		img, err := s.Get(ctx, ref)
		if err != nil {
			return err
		}
		// The name the user asked for, if it is one; else all the image's names.
		var tags []string
		if named, err := Normalize(ref); err == nil && slices.Contains(img.Names, named.String()) {
			tags = []string{named.String()}
		} else {
			tags = img.Names
		}
		blobs := []digest.Digest{img.Manifest, img.ID}
		for _, l := range img.Layers {
			blobs = append(blobs, l.Digest)
		}
		for _, d := range blobs {
			if written[d] {
				continue
			}
			if err := s.writeBlob(tw, d); err != nil {
				return err
			}
			written[d] = true
		}
		size, _ := s.content.Has(img.Manifest)
		for _, t := range tags {
			index.Manifests = append(index.Manifests, ocispec.Descriptor{
				MediaType: img.MediaType, Digest: img.Manifest, Size: size,
				Annotations: map[string]string{annotationContainerdName: t, ocispec.AnnotationRefName: Familiar(t)},
			})
		}
		if len(tags) == 0 {
			index.Manifests = append(index.Manifests, ocispec.Descriptor{MediaType: img.MediaType, Digest: img.Manifest, Size: size})
		}
		i, ok := byID[img.ID]
		if !ok {
			e := dockerManifestEntry{Config: blobPath(img.ID)}
			for _, l := range img.Layers {
				e.Layers = append(e.Layers, blobPath(l.Digest))
			}
			docker = append(docker, e)
			i = len(docker) - 1
			byID[img.ID] = i
		}
		for _, t := range tags {
			docker[i].RepoTags = append(docker[i].RepoTags, Familiar(t))
		}
	}
	layout, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	indexJSON, err := json.Marshal(index)
	if err != nil {
		return err
	}
	manifestJSON, err := json.Marshal(docker)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{"oci-layout", layout}, {"index.json", indexJSON}, {"manifest.json", manifestJSON}} {
		if err := writeFile(tw, f.name, f.data); err != nil {
			return err
		}
	}
	return tw.Close()
}

func blobPath(d digest.Digest) string { return "blobs/" + d.Algorithm().String() + "/" + d.Encoded() }

func (s *Service) writeBlob(tw *tar.Writer, d digest.Digest) error {
	f, err := s.content.Open(d)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	hdr := &tar.Header{Name: blobPath(d), Mode: 0o444, Size: fi.Size(), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("save %s: %w", d, err)
	}
	if _, err := io.Copy(tw, f); err != nil {
		return fmt.Errorf("save %s: %w", d, err)
	}
	return nil
}

func writeFile(tw *tar.Writer, name string, data []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o444, Size: int64(len(data)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}
