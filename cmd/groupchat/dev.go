package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
)

// devCommand starts a private Prosody (or ejabberd) on loopback, registers
// demo accounts and serves the component against it: the whole product on
// one machine.
type devCommand struct{}

func (devCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	dir := fs.String("dir", ".dev", "directory for Prosody's configuration and data and the component's data")
	domain := fs.String("xmpp-domain", "localhost", "the XMPP server's domain (users log in as NAME@DOMAIN)")
	c2s := fs.Int("c2s-port", 5222, "client port on 127.0.0.1")
	compPort := fs.Int("component-port", 5347, "component port on 127.0.0.1")
	server := fs.String("xmpp-server", "prosody", "the XMPP server to start: prosody or ejabberd")
	var cfg serveConfig
	cfg.register(fs)
	src, err := parseSettings(fs, args)
	if err != nil {
		return err
	}
	if *server != "prosody" && *server != "ejabberd" {
		return fmt.Errorf("--xmpp-server %q: want prosody or ejabberd", *server)
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	if cfg.Domain == "" {
		cfg.Domain = "groupchat." + *domain
	}
	if cfg.Secret == "" && cfg.SecretFile == "" {
		cfg.Secret = "dev-secret"
	}
	if cfg.Data == "./data" {
		cfg.Data = filepath.Join(abs, "groupchat")
	}
	if err := cfg.validate(src); err != nil {
		return err
	}
	log, err := newLogger(cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	for _, p := range []struct {
		port int
		flag string
	}{{*c2s, "--c2s-port"}, {*compPort, "--component-port"}} {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p.port))
		if err != nil {
			return fmt.Errorf("port %d on 127.0.0.1 is in use (a system-wide Prosody or ejabberd? stop it with 'systemctl stop prosody' or 'systemctl stop ejabberd'), or choose another with %s", p.port, p.flag)
		}
		l.Close()
	}
	srv, err := startDevServer(ctx, *server, devServerOptions{
		dir: filepath.Join(abs, *server), domain: *domain,
		component: cfg.Domain, secret: cfg.Secret, name: cfg.Name,
		c2sPort: *c2s, compPort: *compPort,
	})
	if err != nil {
		return fmt.Errorf("starting %s: %w", *server, err)
	}
	defer srv.Stop()
	accounts := [][2]string{{"alice", "alice"}, {"bob", "bob"}}
	for _, a := range accounts {
		if err := srv.Register(ctx, a[0], a[1]); err != nil {
			return fmt.Errorf("registering %s: %w", a[0], err)
		}
	}
	cfg.Server = srv.ComponentAddr()
	return serve(ctx, cfg, log, func() {
		fmt.Fprintf(os.Stderr, "\nGroup chat is running.\n"+
			"  XMPP server: %s (clients: %s, plain TCP, no TLS; %s log: %s)\n"+
			"  Service:     %s\n"+
			"  Accounts:    alice@%s / alice, bob@%s / bob\n"+
			"  Data:        %s\n"+
			"Press Ctrl-C to stop.\n\n",
			*domain, srv.C2SAddr(), *server, srv.LogPath(), cfg.Domain, *domain, *domain, cfg.Data)
		if cfg.HTTP != "" {
			fmt.Fprintf(os.Stderr, "  Web view, /metrics and /healthz on the --http listener %s (see the log line \"http listener ready\")\n\n", cfg.HTTP)
		}
	})
}
