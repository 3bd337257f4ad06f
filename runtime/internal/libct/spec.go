package libct

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// SpecFile is the name of the OCI configuration inside a bundle.
const SpecFile = "config.json"

// LoadSpec reads and checks the OCI configuration of the bundle in dir.
// The errors name the file and say what is wrong with it, because they are
// what a user sees when a bundle is broken.
func LoadSpec(dir string) (*specs.Spec, error) {
	path := filepath.Join(dir, SpecFile)
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("JSON specification file %s not found", path)
		}
		return nil, err
	}
	defer f.Close()
	return DecodeSpec(f, path)
}

// DecodeSpec parses and validates an OCI configuration; name is used in errors.
func DecodeSpec(r io.Reader, name string) (*specs.Spec, error) {
	var spec specs.Spec
	dec := json.NewDecoder(r)
	if err := dec.Decode(&spec); err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	if err := ValidateProcess(spec.Process); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if spec.Root == nil || spec.Root.Path == "" {
		return nil, fmt.Errorf("%s: root.path must be set", name)
	}
	return &spec, nil
}

// ValidateProcess checks the fields of a process that libcontainer needs and
// would otherwise reject with a less helpful message.
func ValidateProcess(p *specs.Process) error {
	switch {
	case p == nil:
		return errors.New("process property must not be empty")
	case p.Cwd == "":
		return errors.New("process.cwd must not be empty")
	case !filepath.IsAbs(p.Cwd):
		return fmt.Errorf("process.cwd %q must be an absolute path", p.Cwd)
	case len(p.Args) == 0:
		return errors.New("process.args must not be empty")
	case p.SelinuxLabel != "":
		// No SELinux on the hosts we support; refuse rather than ignore.
		return errors.New("selinux label is specified in config, but selinux is disabled or not supported")
	}
	return nil
}
