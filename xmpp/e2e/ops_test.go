package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

var httpReady = regexp.MustCompile(`http listener ready.*?addr"?[=:]"?([0-9.]+:[0-9]+)`)

// httpAddr is where the component's --http listener is, from its log.
func httpAddr(t *testing.T, h *harness) string {
	t.Helper()
	var addr string
	waitFor(t, "the http listener", func() bool {
		m := httpReady.FindStringSubmatch(h.comp.log())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	return "http://" + addr
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: wait}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// scrape reads /metrics into series → value ("name{labels}" as exposed).
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	code, body := httpGet(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics answered %d:\n%s", code, body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// TestMetricsHealthAndPprof drives real traffic through the component and
// reads what an operator's Prometheus would: every figure the issue names,
// /healthz while all is well and after the XMPP server went away, pprof.
func TestMetricsHealthAndPprof(t *testing.T) {
	h := privateHarness(t, "GROUPCHAT_HTTP=127.0.0.1:0", "GROUPCHAT_PPROF=true")
	base := httpAddr(t, h)
	alice := h.login(t, "alice", "pda")
	bob := h.login(t, "bob", "pda")
	mallory := h.login(t, "mallory", "pda")
	// Behind ejabberd the messages go through its multicast service once
	// the component has found it.
	if kind == serverEjabberd {
		waitFor(t, "the component to find the multicast service", func() bool {
			return strings.Contains(h.comp.log(), "multicast service found")
		})
	}
	group := groupID("metrics")
	createGroup(alice, group, "Metrics "+group, "bob")
	for i := 1; i <= 3; i++ {
		id := fmt.Sprintf("mm%d", i)
		alice.send(`<message type="groupchat" id="` + id + `" to="` + gjid(group) + `"><body>metric ` + id + `</body></message>`)
		bob.expect("message "+id, func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == id })
	}
	alice.expect("the reflection of mm3", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "mm3" })
	catchUpPage(bob, "", 10)
	mallory.send(`<message type="groupchat" id="intruder" to="` + gjid(group) + `"><body>let me in</body></message>`)
	wantError(t, mallory.expect("the refusal", func(s *xmppclient.Stanza) bool { return s.ID() == "intruder" && s.Type() == "error" }),
		"auth", "forbidden", "not-allowed")

	m := scrape(t, base)
	// Three messages and the creation, each to alice's and bob's resource:
	// through the server's multicast service (mod_multicast, or the
	// project's module in Prosody), one stanza each, carrying 2 addresses.
	fanout, multicastAddresses := 4.0, 8.0
	for _, c := range []struct {
		series string
		min    float64
		max    float64
	}{
		{`groupchat_events_appended_total{type="GroupCreated"}`, 1, 1},
		{`groupchat_events_appended_total{type="MessagePosted"}`, 3, 3},
		{`groupchat_append_duration_seconds_count`, 4, 4},
		{`groupchat_fanout_stanzas_total`, fanout, 1e9},
		{`groupchat_multicast_addresses_total`, multicastAddresses, multicastAddresses},
		// alice's and bob's: mallory is a member of no group.
		{`groupchat_online_resources`, 2, 2},
		{`groupchat_projection_lag_events`, 0, 0},
		{`groupchat_catchup_requests_total`, 1, 1},
		{`groupchat_errors_total{condition="forbidden"}`, 1, 1},
		{`groupchat_groups`, 1, 1},
		{`groupchat_link_connected`, 1, 1},
		{`groupchat_outgoing_queue_length`, 0, 1e9},
		// At least the four fan-out stanzas and the replies.
		{`groupchat_link_bytes_written_total`, 4 * 200, 1e9},
		{`groupchat_append_errors_total`, 0, 0},
	} {
		v, ok := m[c.series]
		if !ok || v < c.min || v > c.max {
			t.Errorf("%s = %v (exposed: %v), want %v..%v", c.series, v, ok, c.min, c.max)
		}
	}
	if _, ok := m["go_goroutines"]; !ok {
		t.Errorf("Go's runtime metrics are not exposed")
	}

	code, body := httpGet(t, base+"/healthz")
	var health struct {
		Status string
		Checks map[string]string
	}
	if err := json.Unmarshal([]byte(body), &health); err != nil || code != http.StatusOK || health.Status != "ok" ||
		health.Checks["store"] != "ok" || health.Checks["link"] != "ok" {
		t.Errorf("/healthz = %d %s (%v)", code, body, err)
	}
	if code, body := httpGet(t, base+"/debug/pprof/goroutine?debug=1"); code != http.StatusOK || !strings.Contains(body, "goroutine profile") {
		t.Errorf("pprof: %d %.200s", code, body)
	}
	if code, body := httpGet(t, base+"/api/audit?group=nosuch"); code != http.StatusNotFound || !strings.Contains(body, "nosuch") {
		t.Errorf("the audit of an unknown group: %d %s", code, body)
	}

	// Without the XMPP server the component cannot deliver: unhealthy, and
	// the body says why.
	h.stopServer(t)
	waitFor(t, "/healthz to report the link down", func() bool {
		code, body = httpGet(t, base+"/healthz")
		return code == http.StatusServiceUnavailable
	})
	health.Checks = nil
	if err := json.Unmarshal([]byte(body), &health); err != nil || health.Status != "unavailable" ||
		!strings.Contains(health.Checks["link"], "link") || health.Checks["store"] != "ok" {
		t.Errorf("/healthz without the server = %s (%v)", body, err)
	}
	if v := scrape(t, base)["groupchat_link_connected"]; v != 0 {
		t.Errorf("groupchat_link_connected = %v without the server", v)
	}
}

// TestInfoLogsCarryNoMessageBodies: at the default level no message body
// reaches the log, neither of a message delivered nor of one refused.
func TestInfoLogsCarryNoMessageBodies(t *testing.T) {
	h := privateHarness(t, "GROUPCHAT_LOG_LEVEL=info", "GROUPCHAT_LOG_FORMAT=json")
	alice := h.login(t, "alice", "pda")
	bob := h.login(t, "bob", "pda")
	mallory := h.login(t, "mallory", "pda")
	group := groupID("logs")
	createGroup(alice, group, "Logs "+group, "bob")
	secretBody := fmt.Sprintf("the launch code is %d", time.Now().UnixNano())
	refusedBody := fmt.Sprintf("refused words %d", time.Now().UnixNano())
	alice.send(`<message type="groupchat" id="l1" to="` + gjid(group) + `"><body>` + secretBody + `</body></message>`)
	bob.expect("the message", func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == "l1" })
	mallory.send(`<message type="groupchat" id="l2" to="` + gjid(group) + `"><body>` + refusedBody + `</body></message>`)
	mallory.expect("the refusal", func(s *xmppclient.Stanza) bool { return s.ID() == "l2" && s.Type() == "error" })
	h.comp.stop(syscall.SIGTERM)

	logs := h.comp.log()
	h.comp = nil
	if strings.Contains(logs, secretBody) || strings.Contains(logs, refusedBody) {
		t.Errorf("a message body is in the info log:\n%s", logs)
	}
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	if len(lines) < 2 {
		t.Fatalf("the log is nearly empty:\n%s", logs)
	}
	for _, l := range lines {
		var rec struct{ Level, Msg string }
		if err := json.Unmarshal([]byte(l), &rec); err != nil || rec.Msg == "" {
			t.Errorf("not a JSON log record: %q (%v)", l, err)
		}
		if rec.Level == "DEBUG" {
			t.Errorf("a debug record at info level: %s", l)
		}
	}
}

// TestAdminCommandsBesideTheService runs the admin commands against the
// data directory of a running component.
func TestAdminCommandsBesideTheService(t *testing.T) {
	data := shared.dir + "/data"
	alice := shared.login(t, "alice", "admin")
	group := groupID("admin")
	createGroup(alice, group, "Admin "+group, "bob", "carol")
	alice.send(`<message type="groupchat" id="a1" to="` + gjid(group) + `"><body>exported</body></message>`)
	alice.expect("the reflection", func(s *xmppclient.Stanza) bool { return s.ID() == "a1" })

	out, err := groupchat(t, "groups", "--data", data)
	if err != nil || !regexp.MustCompile(`(?m)^`+group+` +Admin `+group+` +customized +3 `).MatchString(out) {
		t.Errorf("groups: %v\n%s", err, out)
	}
	out, err = groupchat(t, "members", "--data", data, group)
	for _, u := range []string{"alice", "bob", "carol"} {
		if err != nil || !strings.Contains(out, u+"@"+xmppDomain) {
			t.Errorf("members lacks %s: %v\n%s", u, err, out)
		}
	}
	out, err = groupchat(t, "export", "--data", data, group)
	var export struct {
		Group  string
		Events []struct {
			Type    string
			Payload map[string]any
		}
	}
	if err != nil || json.Unmarshal([]byte(out), &export) != nil || export.Group != group || len(export.Events) != 2 ||
		export.Events[1].Type != "MessagePosted" || export.Events[1].Payload["body"] != "exported" {
		t.Errorf("export: %v\n%s", err, out)
	}
	if out, err := groupchat(t, "members", "--data", data, "nosuch-"+group); err == nil || !strings.Contains(out, "no group") {
		t.Errorf("members of an unknown group must fail clearly: %v\n%s", err, out)
	}
}

// TestServeReadsTheConfigFile starts the component from a configuration
// file named by GROUPCHAT_CONFIG, with the environment winning over it, and
// checks that a bad file stops it at start naming the key.
func TestServeReadsTheConfigFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "groupchat.toml")
	if err := os.WriteFile(file, []byte("http = \"127.0.0.1:0\"\nmax-members = 2\nname = \"From The File\"\nmessage-rate = 3000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The harness sets GROUPCHAT_MESSAGE_RATE, which wins over the file.
	h := privateHarness(t, "GROUPCHAT_CONFIG="+file)
	base := httpAddr(t, h)
	// The link may still be coming up (healthz says 503 until it is).
	waitFor(t, "/healthz of the component configured by file to be ok", func() bool {
		code, _ := httpGet(t, base+"/healthz")
		return code == http.StatusOK
	})
	alice := h.login(t, "alice", "pda")
	group := groupID("file")
	alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsCreate + `"/><properties><property name="name">Too big</property><property name="members">` +
		`<item jid="bob@` + xmppDomain + `" mid="bob"/><item jid="carol@` + xmppDomain + `" mid="carol"/></property></properties></presence>`)
	refusal := alice.expect("the refusal of a third member", func(s *xmppclient.Stanza) bool { return s.Type() == "error" })
	wantError(t, refusal, "modify", "policy-violation", "")

	cmd := exec.Command(binary, "serve", "--print-config")
	cmd.Env = append(os.Environ(), "GROUPCHAT_CONFIG="+file, "GROUPCHAT_MESSAGE_RATE=7", "GROUPCHAT_SECRET=hunter2")
	out, err := cmd.CombinedOutput()
	for _, want := range []string{"max-members = 2  # from key max-members in " + file, "message-rate = 7.0  # from GROUPCHAT_MESSAGE_RATE", `secret = "(redacted)"`} {
		if err != nil || !strings.Contains(string(out), want) {
			t.Errorf("--print-config lacks %q: %v\n%s", want, err, out)
		}
	}
	if strings.Contains(string(out), "hunter2") {
		t.Errorf("--print-config shows the secret:\n%s", out)
	}

	for _, c := range []struct{ file, want string }{
		{"max-members = \"two\"\n", "key max-members in"},
		{"maxmembers = 2\n", `unknown key "maxmembers"`},
		{"queue-size = -5\n", "--queue-size (key queue-size in"},
	} {
		bad := filepath.Join(dir, "bad.toml")
		if err := os.WriteFile(bad, []byte(c.file), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(binary, "serve", "--config", bad)
		cmd.Env = append(os.Environ(), "GROUPCHAT_SERVER="+h.srv.ComponentAddr(), "GROUPCHAT_DOMAIN="+service,
			"GROUPCHAT_SECRET="+secret, "GROUPCHAT_DATA="+filepath.Join(dir, "data"))
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if err == nil || !asExit(err, &exit) || exit.ExitCode() == 0 || !strings.Contains(string(out), c.want) {
			t.Errorf("serve with %q: want a non-zero exit naming %q, got %v:\n%s", c.file, c.want, err, out)
		}
	}
}
