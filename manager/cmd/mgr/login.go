package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/berthrun/berth/manager/internal/auth"
	"github.com/berthrun/berth/manager/internal/image"
)

var loginCommand = &cli.Command{
	Name:      "login",
	Usage:     "log in to a registry (credentials are checked, then stored 0600 in <config>/config.json)",
	ArgsUsage: "[SERVER]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "username", Aliases: []string{"u"}, Usage: "username"},
		&cli.StringFlag{Name: "password", Aliases: []string{"p"}, Usage: "password (prefer --password-stdin)"},
		&cli.BoolFlag{Name: "password-stdin", Usage: "take the password from stdin"},
	},
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 0, 1); err != nil {
			return err
		}
		server := c.Args().First()
		if server == "" {
			server = "docker.io"
		}
		user, password := c.String("username"), c.String("password")
		if c.Bool("password-stdin") {
			if password != "" {
				return errors.New("--password and --password-stdin are mutually exclusive")
			}
			data, err := io.ReadAll(os.Stdin)
			if err != nil {
				return err
			}
			password = strings.TrimRight(string(data), "\r\n")
		} else if password != "" {
			fmt.Fprintln(os.Stderr, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.")
		}
		if user == "" || password == "" {
			if !term.IsTerminal(int(os.Stdin.Fd())) {
				return errors.New("username and password required (use -u and --password-stdin)")
			}
			var err error
			if user, password, err = prompt(user); err != nil {
				return err
			}
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		if err := image.Login(c.Context, server, user, password, e.Registries()); err != nil {
			return err
		}
		if err := e.Credentials.Store(server, user, password); err != nil {
			return err
		}
		fmt.Println("Login Succeeded")
		return nil
	},
}

func prompt(user string) (string, string, error) {
	if user == "" {
		fmt.Print("Username: ")
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil {
			return "", "", err
		}
		user = strings.TrimSpace(line)
	}
	fmt.Print("Password: ")
	pw, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Println()
	return user, string(pw), err
}

var logoutCommand = &cli.Command{
	Name:      "logout",
	Usage:     "log out from a registry",
	ArgsUsage: "[SERVER]",
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 0, 1); err != nil {
			return err
		}
		server := c.Args().First()
		if server == "" {
			server = "docker.io"
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		had, err := e.Credentials.Erase(server)
		if err != nil {
			return err
		}
		if !had {
			fmt.Printf("Not logged in to %s\n", auth.Key(server))
			return nil
		}
		fmt.Printf("Removing login credentials for %s\n", auth.Key(server))
		return nil
	},
}
