package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/uuchat/groupchat/internal/webclient"
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
	withWeb := fs.Bool("web-client", true, "serve "+webclient.Package+" in the browser, logged in over Prosody's WebSocket (installed with npm if missing)")
	webPort := fs.Int("web-port", 5380, "port on 127.0.0.1 of the browser client's page")
	wsPort := fs.Int("websocket-port", 5280, "Prosody's HTTP port on 127.0.0.1, for XMPP over WebSocket")
	defaultWebDir, err := webclient.DefaultDir()
	if err != nil {
		defaultWebDir = filepath.Join(".dev", "converse")
	}
	webDir := fs.String("web-client-dir", defaultWebDir, "where "+webclient.Package+" "+webclient.Version+" is installed with npm (if missing) and served from")
	installOnly := fs.Bool("install-web-client", false, "install "+webclient.Package+" "+webclient.Version+" into --web-client-dir and exit")
	var cfg serveConfig
	cfg.register(fs)
	src, err := parseSettings(fs, args)
	if err != nil {
		return err
	}
	if *server != "prosody" && *server != "ejabberd" {
		return fmt.Errorf("--xmpp-server %q: want prosody or ejabberd", *server)
	}
	if *installOnly {
		dist, err := webclient.Install(ctx, *webDir, os.Stderr)
		if err == nil {
			fmt.Fprintf(os.Stderr, "%s %s is in %s\n", webclient.Package, webclient.Version, dist)
		}
		return err
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
	type devPort struct {
		port int
		flag string
	}
	ports := []devPort{{*c2s, "--c2s-port"}, {*compPort, "--component-port"}}
	web := &webClient{reason: "--web-client=false"}
	if *withWeb {
		if web, err = prepareWebClient(ctx, *server, *webDir, *webPort); err != nil {
			return err
		}
	}
	if web.ln != nil {
		defer web.ln.Close()
		ports = append(ports, devPort{*wsPort, "--websocket-port"})
	}
	for _, p := range ports {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p.port))
		if err != nil {
			return fmt.Errorf("port %d on 127.0.0.1 is in use (a system-wide Prosody or ejabberd? stop it with 'systemctl stop prosody' or 'systemctl stop ejabberd'), or choose another with %s", p.port, p.flag)
		}
		l.Close()
	}
	opts := devServerOptions{
		dir: filepath.Join(abs, *server), domain: *domain,
		component: cfg.Domain, secret: cfg.Secret, name: cfg.Name,
		c2sPort: *c2s, compPort: *compPort,
	}
	if web.ln != nil {
		opts.webSocketPort = *wsPort
	}
	srv, err := startDevServer(ctx, *server, opts)
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
	room := demoGroup + "@" + cfg.Domain
	if ws, ok := srv.(interface{ WebSocketURL() string }); ok && web.ln != nil {
		web.cfg.WebSocketURL, web.cfg.Domain, web.cfg.Service, web.cfg.Room = ws.WebSocketURL(), *domain, cfg.Domain, room
		for _, a := range accounts {
			web.cfg.Users = append(web.cfg.Users, a[0])
		}
		web.serve(ctx, log)
	}
	cfg.Server = srv.ComponentAddr()
	return serve(ctx, cfg, log, func() {
		// The link is up: make the demo group through it, off the link's
		// goroutine, then tell the newcomer where to go.
		go func() {
			owner, member := accounts[0], accounts[1]
			group := fmt.Sprintf("%s (%s), owned by %s, with %s", room, demoGroupName, owner[0], member[0])
			if err := ensureDemoGroup(ctx, srv.C2SAddr(), *domain, cfg.Domain, owner, []string{member[0]}); err != nil {
				group = "none: creating " + room + " failed: " + err.Error()
			}
			browser := fmt.Sprintf("%s (%s %s): log in as %s, password %s, and the demo group opens; add ?as=%s for %s",
				web.url, webclient.Package, webclient.Version, owner[0], owner[1], member[0], member[0])
			if web.url == "" {
				browser = "no browser client: " + web.reason
			}
			fmt.Fprintf(os.Stderr, "\nGroup chat is running.\n"+
				"  Open:        %s\n"+
				"  XMPP server: %s (clients: %s, plain TCP, no TLS; %s log: %s)\n"+
				"  Service:     %s\n"+
				"  Demo group:  %s\n"+
				"  Accounts:    alice@%s / alice, bob@%s / bob\n"+
				"  Data:        %s\n"+
				"Press Ctrl-C to stop.\n\n",
				browser, *domain, srv.C2SAddr(), *server, srv.LogPath(), cfg.Domain, group, *domain, *domain, cfg.Data)
			if cfg.HTTP != "" {
				fmt.Fprintf(os.Stderr, "  Web view, /metrics and /healthz on the --http listener %s (see the log line \"http listener ready\")\n\n", cfg.HTTP)
			}
		}()
	})
}
