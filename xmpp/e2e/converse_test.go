package e2e

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"mellium.im/xmpp/jid"

	"github.com/uuchat/groupchat/internal/testenv/linkwatch"
	"github.com/uuchat/groupchat/internal/testenv/xmppclient"
	"github.com/uuchat/groupchat/internal/webclient"
)

// converse finds the pinned Converse.js where `groupchat dev` serves it
// from by default.
func converse(t *testing.T) string {
	t.Helper()
	dir, err := webclient.DefaultDir()
	if err == nil {
		_, err = webclient.Dist(dir)
	}
	if err == nil {
		return dir
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%v; .ci/run must install it (just web-client)", err)
	}
	t.Skipf("%v (just web-client installs it with npm)", err)
	return ""
}

// The size of the browser window, and of the screenshot in docs/img.
const converseWidth, converseHeight = 1100, 640

// TestConverseInDev runs `groupchat dev` as a newcomer does and uses the
// URL it prints: Converse.js in headless Chromium logs in as alice over
// Prosody's WebSocket, opens the demo group as a XEP-0045 room and chats in
// it with bob, who speaks the native protocol.
func TestConverseInDev(t *testing.T) {
	browser := chromium(t)
	if kind != "prosody" {
		t.Skipf("dev serves the browser client behind Prosody only (its mod_websocket), not %s", kind)
	}
	dir := converse(t)

	ports, err := freePorts(4)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "dev", "--dir", t.TempDir(), "--web-client-dir", dir,
		"--c2s-port", ports[0], "--component-port", ports[1], "--websocket-port", ports[2], "--web-port", ports[3])
	cmd.Env = os.Environ()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			<-exited
		}
	})
	var (
		mu    sync.Mutex
		logs  strings.Builder
		links linkwatch.Log
	)
	proc := links.Process()
	running := make(chan string, 1)
	open := regexp.MustCompile(`^\s*Open:\s+(http://\S+)`)
	go func() {
		sc := bufio.NewScanner(stderr)
		url := ""
		for sc.Scan() {
			proc.Observe(sc.Text())
			mu.Lock()
			logs.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if m := open.FindStringSubmatch(sc.Text()); m != nil {
				url = m[1]
			}
			if strings.Contains(sc.Text(), "Press Ctrl-C to stop.") {
				running <- url
			}
		}
		cmd.Wait()
		close(exited)
	}()
	devLog := func() string {
		mu.Lock()
		defer mu.Unlock()
		return logs.String()
	}
	var url string
	select {
	case url = <-running:
	case <-exited:
		t.Fatalf("dev exited before running:\n%s", devLog())
	case <-time.After(2 * time.Minute):
		t.Fatalf("dev did not start within two minutes:\n%s", devLog())
	}
	if url == "" {
		t.Fatalf("dev printed no URL to open:\n%s", devLog())
	}
	if !strings.Contains(devLog(), "Demo group:  demo@groupchat.localhost") {
		t.Fatalf("dev made no demo group:\n%s", devLog())
	}
	const room = "demo@groupchat.localhost"

	// bob, on the native protocol, online for the service.
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	bob, err := xmppclient.Dial(ctx, "127.0.0.1:"+ports[0], jid.MustParse("bob@localhost/native"), "bob")
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	if err := bob.SendRaw(ctx, `<presence to="groupchat.localhost"/>`); err != nil {
		t.Fatal(err)
	}

	bctx, cancelBrowser := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancelBrowser()
	tab, cancelTab := headlessTab(t, bctx, browser, converseWidth, converseHeight)
	defer cancelTab()
	// What Converse logs explains a failure that the DOM alone does not.
	var console []string
	consoleCtx, stopConsole := context.WithCancel(tab)
	defer stopConsole()
	if err := chromedp.Do(tab, chromedp.EmulateViewport(converseWidth, converseHeight)); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	messages := chromedp.Console(consoleCtx)
	consoleDone := make(chan struct{})
	go func() {
		defer close(consoleDone)
		for m, err := range messages {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, string(m.Type)+": "+m.Text+" @"+m.URL)
			mu.Unlock()
		}
	}()
	failf := func(format string, args ...any) {
		t.Helper()
		stopConsole()
		<-consoleDone
		t.Fatalf(format+"\nbrowser console:\n%s\ndev log:\n%s", append(args, strings.Join(console, "\n"), devLog())...)
	}

	// Each step has a minute, so that a failure says which one.
	do := func(steps ...chromedp.Action[chromedp.Void]) error {
		ctx, cancel := context.WithTimeout(tab, time.Minute)
		defer cancel()
		return chromedp.Do(ctx, steps...)
	}

	roomView := `converse-muc[jid="` + room + `"]`
	textarea := roomView + ` textarea.chat-textarea`
	err = do(
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(`#converse-login input[name="jid"]`)),
	)
	if err != nil {
		failf("opening %s: %v", url, err)
	}
	// The form comes with alice filled in: the newcomer types the password
	// dev printed and presses Log in.
	user, err := chromedp.Run(tab, chromedp.Value(chromedp.CSS(`#converse-login input[name="jid"]`)))
	if err != nil || user != "alice" {
		failf("the login form's user is %q (%v), want alice", user, err)
	}
	if !strings.Contains(devLog(), "log in as alice, password alice") {
		failf("dev does not say how to log in")
	}
	err = do(
		chromedp.SendKeys(chromedp.CSS(`#converse-login input[name="password"]`), "alice"),
		chromedp.Click(chromedp.CSS(`#converse-login button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(textarea)),
	)
	if err != nil {
		failf("logging in and opening %s: %v", room, err)
	}

	// alice writes in the room; bob gets it as a group message.
	const fromAlice = "Hello bob, this is Converse"
	if err := do(chromedp.SendKeys(chromedp.CSS(textarea), fromAlice+"\n")); err != nil {
		failf("typing in the room: %v", err)
	}
	got, err := bob.Expect(ctx, func(s *xmppclient.Stanza) bool {
		return s.Is("", "message") && s.ChildText("", "body") == fromAlice
	})
	if err != nil {
		failf("bob never got alice's message: %v", err)
	}
	if !strings.HasPrefix(got.From(), room) || got.Type() != "groupchat" {
		t.Errorf("bob got alice's message as %s", got.Raw)
	}

	// bob answers natively; the page shows it.
	const fromBob = "Hi alice, bob here on the native protocol"
	if err := bob.SendRaw(ctx, `<message type="groupchat" id="bob-1" to="`+room+`"><body>`+fromBob+`</body></message>`); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Expect(ctx, func(s *xmppclient.Stanza) bool { return s.ID() == "bob-1" }); err != nil {
		failf("bob's message was not reflected: %v", err)
	}
	shown := `[...document.querySelectorAll('` + roomView + ` .chat-msg__text')].map(e => e.textContent.trim())`
	if _, err := chromedp.Run(tab, chromedp.Poll[bool](shown+`.includes(`+strconv.Quote(fromBob)+`)`, chromedp.WithPollingTimeout(wait))); err != nil {
		texts, _ := chromedp.Run(tab, chromedp.Evaluate[[]string](shown))
		failf("the page never showed bob's message: %v; it shows %q", err, texts)
	}
	texts, err := chromedp.Run(tab, chromedp.Evaluate[[]string](shown))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(strings.Join(texts, "\n"), fromAlice); n != 1 {
		t.Errorf("the page shows alice's message %d times, want once: %q", n, texts)
	}
	authors, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll('`+roomView+` .chat-msg__author')].map(e => e.textContent.trim())`))
	if err != nil {
		t.Fatal(err)
	}
	if !containsPrefix(authors, "bob") {
		t.Errorf("the page names the authors %q, want bob among them", authors)
	}

	// Let the last message settle before the picture.
	time.Sleep(500 * time.Millisecond)
	shot, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	// GROUPCHAT_CONVERSE_SCREENSHOT keeps a copy beyond the test: the
	// README's picture is docs/img/converse.png, written so.
	checkScreenshot(t, shot, "converse.png", "GROUPCHAT_CONVERSE_SCREENSHOT", converseWidth, converseHeight)
	if r := links.Since(0); !r.OK() {
		t.Errorf("%s: %s", t.Name(), r)
	}
}

// containsPrefix reports whether some element of list starts with prefix.
func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// freePorts returns n TCP ports that were free on 127.0.0.1 a moment ago.
func freePorts(n int) ([]string, error) {
	var ports []string
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	return ports, nil
}
