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

// writeEtcFiles writes the container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf into its data dir (bind-mounted at start), once.
func (s *Service) writeEtcFiles(c *Container) (map[string]string, error) {
	dir := s.dataDir(c.ID)
	files := map[string]string{
		"/etc/hostname":    filepath.Join(dir, "hostname"),
		"/etc/hosts":       filepath.Join(dir, "hosts"),
		"/etc/resolv.conf": filepath.Join(dir, "resolv.conf"),
	}
	if _, err := os.Stat(files["/etc/hosts"]); err == nil {
		return files, nil
	}
	hostname := s.hostname(c)
	hosts := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
	if c.Config.NetworkMode == "host" {
		if h, err := os.ReadFile("/etc/hosts"); err == nil {
			hosts = string(h)
		}
	}
	for path, content := range map[string]string{
		files["/etc/hostname"]:    hostname + "\n",
		files["/etc/hosts"]:       hosts,
		files["/etc/resolv.conf"]: resolvConf(c.Config.NetworkMode == "host"),
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
func resolvConf(hostNetwork bool) string {
	data, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return ""
	}
	if hostNetwork {
		return string(data)
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) >= 2 && fields[0] == "nameserver" {
			if ip := net.ParseIP(fields[1]); ip != nil && ip.IsLoopback() {
				continue
			}
		}
		out.WriteString(line + "\n")
	}
	return out.String()
}
