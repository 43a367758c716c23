package e2e

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
)

// chromium finds Debian's headless-capable browser.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; .ci/run must install it (apt-get install chromium)")
	}
	t.Skip("chromium is not installed (apt-get install chromium)")
	return ""
}

const shotWidth, shotHeight = 1280, 900

// TestWebView opens the daemon's web view in headless Chromium after real
// clients made a group and talked in it, and checks that the figures and
// the group's audit trail show what happened.
func TestWebView(t *testing.T) {
	browser := chromium(t)
	h := privateHarness(t, "GROUPCHAT_HTTP=127.0.0.1:0")
	base := httpAddr(t, h)
	alice := h.login(t, "alice", "pda")
	bob := h.login(t, "bob", "pda")
	group := groupID("web")
	createGroup(alice, group, "Web "+group, "bob")
	alice.send(`<presence to="` + gjid(group) + `"><x xmlns="` + nsAdd + `"/><item jid="carol@` + xmppDomain + `" mid="carol"/></presence>`)
	alice.expect("the addmember broadcast", presenceWith(group, nsAdd))
	for _, id := range []string{"w1", "w2"} {
		alice.send(`<message type="groupchat" id="` + id + `" to="` + gjid(group) + `"><body>seen on the web</body></message>`)
		bob.expect("message "+id, func(s *xmppclient.Stanza) bool { return s.Is("", "message") && s.ID() == id })
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*wait)
	defer cancel()
	tab, cancelTab := headlessTab(t, ctx, browser, shotWidth, shotHeight)
	defer cancelTab()

	err := chromedp.Do(tab,
		chromedp.EmulateViewport(shotWidth, shotHeight),
		chromedp.Navigate(base+"/?group="+group),
		chromedp.WaitVisible(chromedp.CSS(`body[data-figures="loaded"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#groups tr[data-group="`+group+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-audit="`+group+`"] #audit tr[data-action="added"]`)),
	)
	if err != nil {
		t.Fatalf("driving Chromium: %v\ncomponent log:\n%s", err, h.comp.log())
	}
	// The figures refresh every two seconds; wait for the last message.
	if _, err := chromedp.Run(tab, chromedp.Poll[bool](`document.getElementById("fig-messages").textContent === "2"`)); err != nil {
		t.Fatalf("the message count never showed 2: %v", err)
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return v
	}
	groups, messages, online, lag, link := text("#fig-groups"), text("#fig-messages"), text("#fig-online"), text("#fig-lag"), text("#link")
	shownName := text(`#groups tr[data-group="` + group + `"] td:nth-child(2)`)
	auditRows, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#audit tbody tr")].map(r => r.dataset.action + " " + r.cells[1].textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if groups != "1" || messages != "2" || online != "2" || lag != "0" || link != "link: up" {
		t.Errorf("figures: groups %q, messages %q, online %q, lag %q, %q", groups, messages, online, lag, link)
	}
	if shownName != "Web "+group {
		t.Errorf("the group's row shows the name %q", shownName)
	}
	actor := "alice@" + xmppDomain + "/pda"
	if len(auditRows) != 2 || auditRows[0] != "created "+actor || auditRows[1] != "added "+actor {
		t.Errorf("audit rows %q, want the creation and the addition by %s", auditRows, actor)
	}

	// GROUPCHAT_WEBVIEW_SCREENSHOT keeps a copy beyond the test, e.g. as a CI
	// artifact.
	checkScreenshot(t, shot, "webview.png", "GROUPCHAT_WEBVIEW_SCREENSHOT", shotWidth, shotHeight)
}

// headlessTab starts a headless browser of a window's size, bound to ctx,
// with nothing that reaches beyond the loopback, and returns its tab.
func headlessTab(t *testing.T, ctx context.Context, browser string, width, height int) (context.Context, context.CancelFunc) {
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(browser),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	tab, cancelTab := chromedp.NewContext(alloc)
	return tab, func() { cancelTab(); cancelAlloc() }
}

// checkScreenshot saves a browser's screenshot with the test's files (and
// a copy where the environment variable keep names one), and checks that
// it is a PNG of the window's size that is not blank.
func checkScreenshot(t *testing.T, shot []byte, name, keep string, width, height int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, shot, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	if keep := os.Getenv(keep); keep != "" {
		if err := os.WriteFile(keep, shot, 0o644); err != nil {
			t.Error(err)
		}
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	if img.Bounds() != image.Rect(0, 0, width, height) {
		t.Errorf("screenshot size %v, want %dx%d", img.Bounds(), width, height)
	}
	if n := colours(img); n < 8 {
		t.Errorf("the screenshot is blank: %d colours", n)
	}
}

// colours counts the distinct colours of an image, up to 1000.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= 1000 {
				return len(seen)
			}
		}
	}
	return len(seen)
}
