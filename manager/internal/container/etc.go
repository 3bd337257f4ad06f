package container

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// writeEtcFiles writes the container's /etc/hostname and /etc/resolv.conf
// into its data dir (bind-mounted at start); /etc/hosts is writeHosts'.
func (s *Service) writeEtcFiles(c *Container) (map[string]string, error) {
	dir := s.dataDir(c.ID)
	files := map[string]string{
		"/etc/hostname":    filepath.Join(dir, "hostname"),
		"/etc/hosts":       filepath.Join(dir, "hosts"),
		"/etc/resolv.conf": filepath.Join(dir, "resolv.conf"),
	}
	for path, content := range map[string]string{
		files["/etc/hostname"]:    s.hostname(c) + "\n",
		files["/etc/resolv.conf"]: resolvConf(c.Config.NetworkMode == "host", c.Config.DNS),
	} {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", filepath.Base(path), err)
		}
	}
	return files, nil
}

func (s *Service) hostname(c *Container) string {
	if c.Config.Hostname != "" {
		return c.Config.Hostname
	}
	if c.Config.NetworkMode == "host" {
		if h, err := os.Hostname(); err == nil {
			return h
		}
	}
	return c.ID[:12]
}

// resolvConf is the host's resolver config without loopback nameservers
// (they do not answer inside another network namespace). No public
// resolver is added in their place: berth never picks a DNS server for you.
func resolvConf(hostNetwork bool, dns []string) string {
	data, _ := os.ReadFile("/etc/resolv.conf")
	if hostNetwork && len(dns) == 0 {
		return string(data)
	}
	var out bytes.Buffer
	for _, d := range dns {
		out.WriteString("nameserver " + d + "\n")
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) >= 2 && fields[0] == "nameserver" {
			if len(dns) > 0 {
				continue // --dns replaces the host's servers
			}
			if ip := net.ParseIP(fields[1]); ip != nil && ip.IsLoopback() {
				continue
			}
		}
		out.WriteString(line + "\n")
	}
	return out.String()
}
