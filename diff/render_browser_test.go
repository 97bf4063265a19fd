package diff

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The browser tests open the HTML report in headless Chromium. They are
// skipped when no Chromium is installed, unless TRACEDIFF_REQUIRE_BROWSER
// is set (as CI sets it), in which case they fail. TRACEDIFF_CHROMIUM
// names the binary when it is not on $PATH as chromium, chromium-browser,
// google-chrome or google-chrome-stable.
//
//	TRACEDIFF_REQUIRE_BROWSER=1 go test ./diff -run Browser -v

func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TRACEDIFF_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("TRACEDIFF_REQUIRE_BROWSER") != "" {
		t.Fatal("TRACEDIFF_REQUIRE_BROWSER is set but no Chromium was found (set TRACEDIFF_CHROMIUM)")
	}
	t.Skip("no Chromium found: the HTML report is not checked in a browser")
	return ""
}

// runChromium opens page (a file) in a fresh headless Chromium profile
// with every background service and DNS off, and returns its standard
// output. extra adds flags (--dump-dom, --screenshot=...).
func runChromium(t *testing.T, bin, page string, extra ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run",
		"--disable-extensions", "--disable-default-apps", "--mute-audio",
		"--user-data-dir=" + t.TempDir(),
		"--host-resolver-rules=MAP * ~NOTFOUND",
		"--window-size=1400,1600",
	}
	args = append(args, extra...)
	args = append(args, "file://"+page)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(extra, " "), err, lastLines(stderr.String(), 20))
	}
	return stdout.Bytes()
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// pageRequests reads a Chromium net log and returns the URLs of the
// requests a page made: those with a document as initiator ("null" for a
// file:// page). The browser's own background requests, which have no
// initiator ("not an origin"), are not the page's doing.
func pageRequests(t *testing.T, netlog string) []string {
	t.Helper()
	data, err := os.ReadFile(netlog)
	if err != nil {
		t.Fatalf("reading the net log: %v", err)
	}
	var log struct {
		Constants struct {
			LogEventTypes map[string]int `json:"logEventTypes"`
		} `json:"constants"`
		Events []struct {
			Type   int            `json:"type"`
			Params map[string]any `json:"params"`
		} `json:"events"`
	}
	if err := json.Unmarshal(data, &log); err != nil {
		t.Fatalf("parsing the net log: %v", err)
	}
	start, ok := log.Constants.LogEventTypes["URL_REQUEST_START_JOB"]
	if !ok {
		t.Fatal("the net log has no URL_REQUEST_START_JOB event type")
	}
	var urls []string
	for _, e := range log.Events {
		if e.Type != start {
			continue
		}
		url, _ := e.Params["url"].(string)
		init, _ := e.Params["initiator"].(string)
		if url != "" && init != "not an origin" {
			urls = append(urls, url+" (initiator "+init+")")
		}
	}
	return urls
}

// TestBrowserHTMLReport opens the sockmap report in headless Chromium:
// the page's script runs under its Content-Security-Policy (it marks the
// body data-ready), the DOM shows the divergence, the screenshot shows the
// tree's good-only and bad-only colours, and the page makes no network
// request. A control page that does load remote resources checks that
// the net log would have seen them.
func TestBrowserHTMLReport(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	r, opts := sockmapExample(t)
	page := filepath.Join(dir, "sockmap.html")
	if err := os.WriteFile(page, render(t, r, FormatHTML, opts), 0o644); err != nil {
		t.Fatal(err)
	}
	netlog := filepath.Join(dir, "net.json")
	dom := string(runChromium(t, bin, page, "--dump-dom", "--log-net-log="+netlog))
	if !strings.Contains(dom, `data-ready="`) {
		t.Errorf("the page's script did not run (blocked by its Content-Security-Policy?)")
	}
	for _, want := range []string{`id="div-D1"`, "inet_recvmsg: good -&gt; tcp_bpf_recvmsg, bad -&gt; tcp_recvmsg", `class="row good`, `class="row bad`, `class="fr `} {
		if !strings.Contains(dom, want) {
			t.Errorf("the DOM lacks %q", want)
		}
	}
	if reqs := pageRequests(t, netlog); len(reqs) > 0 {
		t.Errorf("the page made network requests: %q", reqs)
	}

	shot := filepath.Join(dir, "sockmap.png")
	runChromium(t, bin, page, "--screenshot="+shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	// Count the pixels of the good-only and bad-only row backgrounds
	// (report.css: #fdecea and #e8f5e9).
	var red, green int
	b := img.Bounds()
	near := func(v uint32, want uint8) bool { d := int(v>>8) - int(want); return d >= -3 && d <= 3 }
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			switch {
			case near(cr, 0xfd) && near(cg, 0xec) && near(cb, 0xea):
				red++
			case near(cr, 0xe8) && near(cg, 0xf5) && near(cb, 0xe9):
				green++
			}
		}
	}
	if red < 2000 || green < 2000 {
		t.Errorf("the screenshot shows %d good-only and %d bad-only background pixels; the tree is not drawn", red, green)
	}

	control := filepath.Join(dir, "control.html")
	os.WriteFile(control, []byte(`<!DOCTYPE html><img src="http://tracediff-control.invalid/x.png"><p>control</p>`), 0o644)
	controlLog := filepath.Join(dir, "control.json")
	runChromium(t, bin, control, "--dump-dom", "--log-net-log="+controlLog)
	if len(pageRequests(t, controlLog)) == 0 {
		t.Error("the net log did not show the control page's request: the no-request check cannot be trusted")
	}
}

// TestBrowserHostileHTML opens the hostile capture's report: the page's
// own script runs, and the DOM holds no element made from a name.
func TestBrowserHostileHTML(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "hostile.html")
	if err := os.WriteFile(page, render(t, hostileCapture(t), FormatHTML, hostileOptions()), 0o644); err != nil {
		t.Fatal(err)
	}
	netlog := filepath.Join(dir, "net.json")
	dom := strings.ToLower(string(runChromium(t, bin, page, "--dump-dom", "--log-net-log="+netlog)))
	if !strings.Contains(dom, `data-ready="`) {
		t.Error("the page's script did not run")
	}
	if n := strings.Count(dom, "<script"); n != 2 {
		t.Errorf("the DOM has %d script elements, want the page's own 2", n)
	}
	// The serialised DOM escapes < in text (and, in current Chromium, in
	// attribute values), so every literal tag is an element.
	for _, tag := range regexp.MustCompile(`<[a-z][^>]*>`).FindAllString(dom, -1) {
		if regexp.MustCompile(`^<img[\s/>]`).MatchString(tag) || strings.HasPrefix(tag, "<b>.") || regexp.MustCompile(`\son[a-z]+=`).MatchString(tag) {
			t.Errorf("the DOM holds an element made from a name: %s", tag)
		}
	}
	if reqs := pageRequests(t, netlog); len(reqs) > 0 {
		t.Errorf("the page made network requests: %q", reqs)
	}
}
