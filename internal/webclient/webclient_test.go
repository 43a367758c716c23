package webclient

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// fakePackage lays out what Install leaves in dir, at version.
func fakePackage(t *testing.T, dir, version string) {
	t.Helper()
	pkg := filepath.Join(dir, "node_modules", Package)
	if err := os.MkdirAll(filepath.Join(pkg, "dist"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"package.json":          `{"name":"converse.js","version":"` + version + `"}`,
		"dist/converse.min.js":  "window.converse = {};",
		"dist/converse.min.css": "body {}",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(pkg, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDist(t *testing.T) {
	dir := t.TempDir()
	if _, err := Dist(dir); err == nil || !strings.Contains(err.Error(), "not installed") {
		t.Errorf("an empty directory: %v", err)
	}
	fakePackage(t, dir, "1.0.0")
	if _, err := Dist(dir); err == nil || !strings.Contains(err.Error(), `version "1.0.0"`) {
		t.Errorf("another version: %v", err)
	}
	fakePackage(t, dir, Version)
	dist, err := Dist(dir)
	if err != nil || dist != filepath.Join(dir, "node_modules", Package, "dist") {
		t.Errorf("the pinned version: %q, %v", dist, err)
	}
	os.Remove(filepath.Join(dist, "converse.min.css"))
	if _, err := Dist(dir); err == nil {
		t.Error("a package without its stylesheet is usable")
	}
}

func TestInstallWithoutNPM(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	dir := filepath.Join(t.TempDir(), "converse")
	if _, err := Install(context.Background(), dir, io.Discard); !errors.Is(err, ErrNoNPM) {
		t.Errorf("Install without npm: %v", err)
	}
	// Installed already, npm is not needed.
	fakePackage(t, dir, Version)
	if _, err := Install(context.Background(), dir, io.Discard); err != nil {
		t.Errorf("Install of what is there: %v", err)
	}
}

var settingsRE = regexp.MustCompile(`converse\.initialize\((.*)\);`)

// get fetches path and returns the status and the body.
func get(t *testing.T, srv *httptest.Server, path string) (int, string) {
	t.Helper()
	res, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

func TestHandler(t *testing.T) {
	dir := t.TempDir()
	fakePackage(t, dir, Version)
	dist, err := Dist(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(Config{
		Dist: dist, WebSocketURL: "ws://127.0.0.1:5280/xmpp-websocket", Domain: "localhost",
		Service: "groupchat.localhost", Room: "demo@groupchat.localhost", Users: []string{"alice", "bob"},
	}))
	defer srv.Close()

	settings := func(path string) map[string]any {
		t.Helper()
		status, body := get(t, srv, path)
		m := settingsRE.FindStringSubmatch(body)
		if status != http.StatusOK || m == nil {
			t.Fatalf("%s: %d\n%s", path, status, body)
		}
		var s map[string]any
		if err := json.Unmarshal([]byte(m[1]), &s); err != nil {
			t.Fatalf("%s: the settings are not JSON: %v\n%s", path, err, m[1])
		}
		return s
	}
	s := settings("/")
	for key, want := range map[string]any{
		"websocket_url": "ws://127.0.0.1:5280/xmpp-websocket", "locked_domain": "localhost",
		"muc_domain": "groupchat.localhost", "jid": "alice", "auto_login": false,
		"discover_connection_methods": false, "view_mode": "fullscreen", "assets_path": DistPath,
	} {
		if s[key] != want {
			t.Errorf("%s = %v, want %v", key, s[key], want)
		}
	}
	if rooms, _ := s["auto_join_rooms"].([]any); len(rooms) != 1 || rooms[0] != "demo@groupchat.localhost" {
		t.Errorf("auto_join_rooms = %v", s["auto_join_rooms"])
	}
	if _, ok := s["password"]; ok {
		t.Error("a password in the settings makes Converse log in by itself")
	}
	if s := settings("/?as=bob"); s["jid"] != "bob" {
		t.Errorf("?as=bob fills in %v", s["jid"])
	}
	if status, _ := get(t, srv, "/?as=mallory"); status != http.StatusNotFound {
		t.Errorf("?as= of no demo account: %d", status)
	}
	if status, body := get(t, srv, DistPath+"converse.min.js"); status != http.StatusOK || body != "window.converse = {};" {
		t.Errorf("the script: %d %q", status, body)
	}
	if status, _ := get(t, srv, "/elsewhere"); status != http.StatusNotFound {
		t.Errorf("another path: %d", status)
	}
}
