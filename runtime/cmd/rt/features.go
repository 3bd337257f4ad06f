package main

import (
	"encoding/json"
	"fmt"

	"github.com/opencontainers/runc/libcontainer/capabilities"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/seccomp"
	"github.com/opencontainers/runc/libcontainer/specconv"
	runcfeatures "github.com/opencontainers/runc/types/features"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"github.com/urfave/cli/v2"
)

var featuresCommand = &cli.Command{
	Name:  "features",
	Usage: "show the enabled features",
	Description: `Show the enabled features as JSON, per the runtime-spec features document
(features.md): OCI versions, hooks, mount options, namespaces, capabilities,
cgroup drivers, seccomp actions and architectures.`,
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 0); err != nil {
			return err
		}
		yes, no := true, false
		feat := features.Features{
			OCIVersionMin: "1.0.0",
			OCIVersionMax: specs.Version,
			Annotations: map[string]string{
				runcfeatures.AnnotationRuncVersion:           c.App.Version,
				runcfeatures.AnnotationRuncCheckpointEnabled: "false",
			},
			Hooks:        configs.KnownHookNames(),
			MountOptions: specconv.KnownMountOptions(),
			Linux: &features.Linux{
				Namespaces:   specconv.KnownNamespaces(),
				Capabilities: capabilities.KnownCapabilities(),
				Cgroup: &features.Cgroup{
					V1:          &yes,
					V2:          &yes,
					Systemd:     &yes,
					SystemdUser: &yes,
					Rdma:        &yes,
				},
				Apparmor: &features.Apparmor{Enabled: &yes},
				Selinux:  &features.Selinux{Enabled: &yes},
				IntelRdt: &features.IntelRdt{Enabled: &yes},
				MountExtensions: &features.MountExtensions{
					IDMap: &features.IDMap{Enabled: &yes},
				},
				NetDevices: &features.NetDevices{Enabled: &yes},
				MemoryPolicy: &features.MemoryPolicy{
					Modes: specconv.KnownMemoryPolicyModes(),
					Flags: specconv.KnownMemoryPolicyFlags(),
				},
			},
			PotentiallyUnsafeConfigAnnotations: []string{
				"bundle",
				"org.systemd.property.",
				"org.criu.config",
			},
		}
		if seccomp.Enabled {
			major, minor, patch := seccomp.Version()
			feat.Annotations[runcfeatures.AnnotationLibseccompVersion] = fmt.Sprintf("%d.%d.%d", major, minor, patch)
			feat.Linux.Seccomp = &features.Seccomp{
				Enabled:        &yes,
				Actions:        seccomp.KnownActions(),
				Operators:      seccomp.KnownOperators(),
				Archs:          seccomp.KnownArchs(),
				KnownFlags:     seccomp.KnownFlags(),
				SupportedFlags: seccomp.SupportedFlags(),
			}
		} else {
			feat.Linux.Seccomp = &features.Seccomp{Enabled: &no}
		}
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "    ")
		return enc.Encode(feat)
	},
}
