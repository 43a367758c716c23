// Package webclient serves Converse.js, a browser XMPP client the project
// did not write, for `groupchat dev`: a page that logs a demo account in
// over the XMPP server's WebSocket and opens a group as a XEP-0045 room.
//
// Converse is not vendored: Install fetches the pinned npm package with npm
// into a directory outside the repository (by default under the user's
// cache directory), and Handler serves its dist files from there.
package webclient

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
)

// Package and Version name the npm package served. The version is pinned
// exactly: the page's settings are those of this release.
const (
	Package = "converse.js"
	Version = "14.0.0"
)

// DefaultDir is where Install puts the package unless told otherwise:
// under the user's cache directory, so that it outlives a deleted .dev and
// is shared by `groupchat dev` and the tests.
func DefaultDir() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory for %s: %w", Package, err)
	}
	return filepath.Join(cache, "groupchat", Package+"@"+Version), nil
}

// Dist returns the package's dist directory inside dir (as Install lays it
// out), or an error saying why it is not usable there.
func Dist(dir string) (string, error) {
	pkg := filepath.Join(dir, "node_modules", Package)
	b, err := os.ReadFile(filepath.Join(pkg, "package.json"))
	if err != nil {
		return "", fmt.Errorf("%s %s is not installed in %s", Package, Version, dir)
	}
	var meta struct{ Version string }
	if err := json.Unmarshal(b, &meta); err != nil || meta.Version != Version {
		return "", fmt.Errorf("%s in %s is version %q, not %s", Package, dir, meta.Version, Version)
	}
	dist := filepath.Join(pkg, "dist")
	for _, f := range []string{"converse.min.js", "converse.min.css"} {
		if _, err := os.Stat(filepath.Join(dist, f)); err != nil {
			return "", fmt.Errorf("%s %s in %s lacks dist/%s", Package, Version, dir, f)
		}
	}
	return dist, nil
}

// ErrNoNPM is Install's error when npm is not in PATH.
var ErrNoNPM = errors.New("npm is not installed (apt-get install npm)")

// Install puts the pinned package into dir with npm unless it is there
// already, and returns its dist directory. npm writes into a fresh
// directory beside dir that is renamed into place once complete, so an
// interrupted install is never taken for a finished one. What it does,
// npm's output included, goes to out.
func Install(ctx context.Context, dir string, out io.Writer) (string, error) {
	if dist, err := Dist(dir); err == nil {
		return dist, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", ErrNoNPM
	}
	fmt.Fprintf(out, "Installing %s %s into %s with npm...\n", Package, Version, dir)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".install-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	// Only the bundled dist files are served: no lifecycle scripts, no
	// lock file, no audit or funding round trips.
	cmd := exec.CommandContext(ctx, npm, "install", "--prefix", tmp, "--no-save", "--no-package-lock",
		"--ignore-scripts", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error", Package+"@"+Version)
	cmd.Dir = tmp
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, io.MultiWriter(out, &stderr)
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("npm install %s@%s: %w: %s", Package, Version, err, bytes.TrimSpace(stderr.Bytes()))
	}
	if _, err := Dist(tmp); err != nil {
		return "", err
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	return Dist(dir)
}

// Config is what the page needs to know of the dev setup.
type Config struct {
	// Dist is the package's dist directory (see Dist).
	Dist string
	// WebSocketURL is the XMPP server's RFC 7395 endpoint, ws://…
	WebSocketURL string
	// Domain is the XMPP domain users log in to; the login form is locked
	// to it.
	Domain string
	// Service is the group chat component's domain, Converse's MUC domain.
	Service string
	// Room is the bare JID of the group opened on login.
	Room string
	// Users are the demo accounts' names; the login form is filled with
	// the first, or the one named by ?as=USER.
	Users []string
}

//go:embed page.html
var pageHTML string

var page = template.Must(template.New("page").Parse(pageHTML))

// DistPath is where Handler serves the dist files; Converse loads its
// lazily fetched parts (emoji, fonts, sounds, the WebAssembly module) from
// there too.
const DistPath = "/converse/dist/"

// Handler serves the page at / and Converse's dist files under DistPath.
func Handler(c Config) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(DistPath, http.StripPrefix(DistPath, http.FileServer(http.Dir(c.Dist))))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if len(c.Users) == 0 {
			http.Error(w, "no demo account", http.StatusInternalServerError)
			return
		}
		user := c.Users[0]
		if as := r.URL.Query().Get("as"); as != "" {
			if !slices.Contains(c.Users, as) {
				http.Error(w, "no demo account "+as, http.StatusNotFound)
				return
			}
			user = as
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := page.Execute(w, pageData{Dist: DistPath, Settings: settings(c, user)}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	return mux
}

type pageData struct {
	Dist     string
	Settings map[string]any
}

// settings are Converse's initialize options (conversejs.org/docs/configuration).
func settings(c Config, user string) map[string]any {
	return map[string]any{
		"assets_path":   DistPath,
		"websocket_url": c.WebSocketURL,
		// The endpoint is given: no XEP-0156 lookup on a domain that has
		// no web server.
		"discover_connection_methods": false,
		"locked_domain":               c.Domain,
		// The form comes with the user filled in; the newcomer types the
		// password and presses "Log in". A password here would make
		// Converse log in on its own.
		"auto_login": false,
		"jid":        user,
		"muc_domain": c.Service,
		// Groups are members-only rooms that assign the member's own
		// nick; asking the user for one would only be overridden.
		"muc_nickname_from_jid": true,
		"auto_join_rooms":       []string{c.Room},
		"view_mode":             "fullscreen",
		// Converse's own plugins only.
		"whitelisted_plugins": []string{},
		// The demo accounts share one browser: keep nothing between
		// sessions beyond the tab.
		"allow_user_trust_override": false,
		"persistent_store":          "sessionStorage",
		"i18n":                      "en",
		"loglevel":                  "info",
	}
}
