package diff

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/tracediff/tracediff/parse"
)

// Pieces of a hostile capture: a terminal escape that clears the screen,
// an HTML script, backtick runs and a Markdown fence, a newline followed
// by Markdown that would close a block and open HTML.
const (
	hostileESC    = "\x1b[2J"
	hostileScript = "<script>alert(1)</script>"
	hostileFence  = "```"
)

var hostileNames = []string{
	"evil" + hostileESC + "_fn",
	hostileScript,
	"tick`tock``x",
	hostileFence,
	"x\n" + hostileFence + "\n</details><img src=x onerror=alert(2)>",
	"a\\|b*c*_d_[e](javascript:alert(3))",
}

// hostileCapture builds a pair of captures whose task comm and function
// names are hostile, with the hostile calls on one side or the other so
// that they show up in divergences, callees and one-sided subtrees.
func hostileCapture(t testing.TB) *Result {
	t.Helper()
	comm := "sh" + hostileESC + hostileScript + hostileFence
	mk := func(path string, good bool) *parse.Trace {
		b := parse.NewBuilder(path, parse.FormatFtrace, 0)
		task := b.Task(7, []byte(comm), -1)
		ts, line := int64(0), int32(0)
		next := func() (int64, int32) { ts += 1000; line++; return ts, line }
		enter := func(name string) { ts, l := next(); b.Enter(task, []byte(name), ts, 0, l) }
		leaf := func(name string) { ts, l := next(); b.Leaf(task, []byte(name), ts, 1000, 0, l) }
		exit := func() { ts, l := next(); b.Exit(task, nil, ts, 5000, 0, l) }
		enter("do_syscall_64")
		enter(hostileNames[0])
		for i, n := range hostileNames[1:] {
			if (i%2 == 0) == good {
				enter(n)
				leaf(hostileNames[(i+2)%len(hostileNames)])
				exit()
			} else {
				leaf(n)
			}
		}
		if good {
			leaf(hostileScript)
		} else {
			leaf(hostileFence + "`")
		}
		exit()
		exit()
		return b.Finish(int(line))
	}
	good := mk("good"+hostileESC+"<b>.report", true)
	bad := mk("bad```.report", false)
	res, err := Compare(good, bad, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Equal() {
		t.Fatal("the hostile captures should differ")
	}
	return res
}

func hostileOptions() RenderOptions {
	return RenderOptions{
		Trees:   -1,
		Command: "tracediff 'good" + hostileESC + "<b>.report' 'bad```.report'",
		Inputs: []InputInfo{
			{Path: "good" + hostileESC + "<b>.report", Size: 10, SHA256: strings.Repeat("a", 64)},
			{Path: "bad```.report", Size: 20, SHA256: strings.Repeat("b", 64)},
		},
	}
}

// TestHostileText checks that no control character from the capture
// reaches the terminal: without colour there is no ESC byte at all; with
// colour every escape sequence is a colour (SGR) sequence of the
// renderer's own.
func TestHostileText(t *testing.T) {
	r := hostileCapture(t)
	opts := hostileOptions()
	out := render(t, r, FormatText, opts)
	if i := bytes.IndexByte(out, 0x1b); i >= 0 {
		t.Fatalf("text output holds a raw ESC at byte %d:\n%q", i, out)
	}
	if !bytes.Contains(out, []byte(`\x1b[2J`)) {
		t.Errorf("the escape sequence should be shown as a visible escape:\n%s", out)
	}
	opts.Color = true
	out = render(t, r, FormatText, opts)
	sgr := regexp.MustCompile(`\x1b\[[0-9;]*m`)
	if rest := sgr.ReplaceAll(out, nil); bytes.IndexByte(rest, 0x1b) >= 0 {
		t.Fatalf("coloured text output holds an escape that is not a colour:\n%q", out)
	}
	for _, c := range out {
		if c < 0x20 && c != '\n' && c != 0x1b {
			t.Fatalf("text output holds control byte %#x", c)
		}
	}
}

// TestHostileHTML checks that nothing from the capture becomes markup: the
// page holds exactly its own two script elements, no element or event
// handler from a name, and is still self-contained.
func TestHostileHTML(t *testing.T) {
	r := hostileCapture(t)
	page := string(render(t, r, FormatHTML, hostileOptions()))
	low := strings.ToLower(page)
	if n := strings.Count(low, "<script"); n != 2 {
		t.Errorf("page has %d script elements, want its own 2", n)
	}
	if n := strings.Count(low, "</script"); n != 2 {
		t.Errorf("page has %d script end tags, want its own 2", n)
	}
	for _, bad := range []string{"<img", "<b>.report", "</details>", "\x1b"} {
		if strings.Contains(low, bad) {
			t.Errorf("page holds %q from the capture unescaped", bad)
		}
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the script name should be shown as escaped text")
	}
	// No event handler attribute anywhere: the page's own markup has none.
	if m := regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`).FindString(page); m != "" {
		t.Errorf("page has an event handler attribute: %s", m)
	}
	checkSelfContained(t, page)
}

// TestHostileMarkdown checks that the Markdown stays well formed: every
// fence closes where the renderer closed it (so the number of blocks is
// the renderer's own), the hostile names are inside code, and outside
// code there is no HTML but the renderer's details and summary tags.
func TestHostileMarkdown(t *testing.T) {
	r := hostileCapture(t)
	md := string(render(t, r, FormatMarkdown, hostileOptions()))
	if strings.Contains(md, "\x1b") {
		t.Fatal("markdown holds a raw ESC")
	}
	blocks, outside := fencedBlocks(t, md)
	diffs := 0
	for _, b := range blocks {
		switch b[0] {
		case "diff":
			diffs++
		case "sh":
		default:
			t.Errorf("unexpected code block %q: a fence was closed early:\n%s", b[0], md)
		}
	}
	if diffs < len(r.Divergences) {
		t.Errorf("%d diff blocks for %d divergences", diffs, len(r.Divergences))
	}
	// Table rows keep their number of cells: GFM splits a row at every
	// "|" not escaped by a backslash, code spans or not.
	cells := -1
	for _, ln := range outside {
		if !strings.HasPrefix(ln, "|") {
			cells = -1
			continue
		}
		n := 0
		for i := 0; i < len(ln); i++ {
			switch ln[i] {
			case '\\':
				i++
			case '|':
				n++
			}
		}
		if cells >= 0 && n != cells {
			t.Errorf("table row has %d cell separators, the table %d: %q", n, cells, ln)
		}
		cells = n
	}
	allowed := regexp.MustCompile(`^(<details>|</details>|<summary>[^<>]*</summary>)$`)
	for _, ln := range outside {
		text := stripCodeSpans(t, ln)
		if strings.ContainsAny(text, "<>") && !allowed.MatchString(ln) {
			t.Errorf("HTML outside code: %q", ln)
		}
		if strings.Contains(text, "](") {
			t.Errorf("link outside code: %q", ln)
		}
	}
	var inCode bool
	for _, b := range blocks {
		if strings.Contains(b[1], hostileFence+"`") {
			inCode = true
		}
	}
	if !inCode {
		t.Error("the fence-like name should be shown inside a code block")
	}
}

// stripCodeSpans removes the CommonMark code spans of a line (a run of n
// backticks up to the next run of exactly n) and backslash escapes, and
// fails on an unmatched run, which would let a name's backticks pair with
// the renderer's.
func stripCodeSpans(t testing.TB, ln string) string {
	t.Helper()
	var sb strings.Builder
	for i := 0; i < len(ln); {
		switch {
		case ln[i] == '\\' && i+1 < len(ln):
			i += 2
		case ln[i] == '`':
			n := longestPrefix(ln[i:], '`')
			j := i + n
			for {
				k := strings.IndexByte(ln[j:], '`')
				if k < 0 {
					t.Fatalf("unmatched backtick run at %d in %q", i, ln)
				}
				j += k
				m := longestPrefix(ln[j:], '`')
				if m == n {
					j += m
					break
				}
				j += m
			}
			i = j
		default:
			sb.WriteByte(ln[i])
			i++
		}
	}
	return sb.String()
}

// TestHostileJSON checks that the JSON of a hostile capture is valid,
// follows the schema, keeps the names exactly, and holds no raw control
// byte or HTML.
func TestHostileJSON(t *testing.T) {
	r := hostileCapture(t)
	out := render(t, r, FormatJSON, hostileOptions())
	for _, c := range out {
		if c < 0x20 && c != '\n' {
			t.Fatalf("JSON holds raw control byte %#x", c)
		}
	}
	if bytes.Contains(out, []byte("<script")) {
		t.Error("JSON holds <script unescaped")
	}
	validateJSON(t, out)
	var rep struct {
		Rows []struct {
			GoodName string `json:"good_name"`
			BadName  string `json:"bad_name"`
		}
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, row := range rep.Rows {
		found = found || row.GoodName == hostileScript || row.BadName == hostileScript
	}
	if !found {
		t.Error("the raw names should survive a JSON round trip")
	}
}

// TestHostileFolded checks that every folded line still has three fields.
func TestHostileFolded(t *testing.T) {
	r := hostileCapture(t)
	out := render(t, r, FormatFolded, hostileOptions())
	for _, ln := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		if len(strings.Split(ln, " ")) != 3 || strings.ContainsRune(ln, 0x1b) {
			t.Errorf("bad folded line %q", ln)
		}
	}
}
