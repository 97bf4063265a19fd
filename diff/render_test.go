package diff

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tracediff/tracediff/internal/testutil"
	"github.com/tracediff/tracediff/parse"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sockmapExample compares the bundled sockmap example (examples/sockmap):
// the same recvfrom loop with a sockmap program attached (good) and after
// it was detached (bad). Paths are relative to the repository root, so the
// outputs do not depend on where the checkout is.
func sockmapExample(t testing.TB) (*Result, RenderOptions) {
	t.Helper()
	root := testutil.RepoRoot()
	var traces [2]*parse.Trace
	var inputs []InputInfo
	for i, name := range []string{"examples/sockmap/good.report", "examples/sockmap/bad.report"} {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		tr, err := parse.Parse(name, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		traces[i] = tr
		sum := sha256.Sum256(data)
		inputs = append(inputs, InputInfo{Path: name, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])})
	}
	res, err := Compare(traces[0], traces[1], Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res, RenderOptions{
		Command: "tracediff examples/sockmap/good.report examples/sockmap/bad.report",
		Inputs:  inputs,
	}
}

func render(t testing.TB, r *Result, f OutputFormat, opts RenderOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, r, f, opts); err != nil {
		t.Fatalf("render %s: %v", f, err)
	}
	return buf.Bytes()
}

var goldenExt = map[OutputFormat]string{
	FormatText: "txt", FormatJSON: "json", FormatMarkdown: "md", FormatHTML: "html", FormatFolded: "folded", FormatSVG: "svg",
}

// TestRenderGoldens renders the sockmap example in every format, twice
// from two separate comparisons, and checks that the bytes are identical
// and match the golden files (go test ./diff -run TestRenderGoldens
// -update rewrites them).
func TestRenderGoldens(t *testing.T) {
	r1, opts := sockmapExample(t)
	r2, _ := sockmapExample(t)
	for _, f := range OutputFormats {
		t.Run(string(f), func(t *testing.T) {
			a := render(t, r1, f, opts)
			b := render(t, r2, f, opts)
			if !bytes.Equal(a, b) {
				t.Fatalf("%s output differs between two runs on the same inputs", f)
			}
			testutil.Golden(t, filepath.Join("testdata", "render", "sockmap."+goldenExt[f]), a, *update)
		})
	}
}

// compileSchema compiles docs/schema/tracediff-1.schema.json. With strict,
// every object that lists properties also gets unevaluatedProperties:
// false, so that a field the renderer writes but the schema does not
// document fails the test.
func compileSchema(t testing.TB, strict bool) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join(testutil.RepoRoot(), "docs", "schema", "tracediff-1.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	if strict {
		var walk func(v any)
		walk = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				if _, ok := v["properties"]; ok {
					v["unevaluatedProperties"] = false
				}
				for _, x := range v {
					walk(x)
				}
			case []any:
				for _, x := range v {
					walk(x)
				}
			}
		}
		walk(doc)
	}
	c := jsonschema.NewCompiler()
	const url = "tracediff-1.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func validateJSON(t testing.TB, out []byte) map[string]any {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	for _, strict := range []bool{false, true} {
		if err := compileSchema(t, strict).Validate(inst); err != nil {
			t.Fatalf("output does not validate against the schema (strict=%v): %v", strict, err)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestJSONSockmap validates the JSON of the sockmap example against the
// schema and checks that its first divergence is the substitution below
// inet_recvmsg: tcp_bpf_recvmsg on the good side, tcp_recvmsg on the bad.
func TestJSONSockmap(t *testing.T) {
	r, opts := sockmapExample(t)
	out := render(t, r, FormatJSON, opts)
	var rep struct {
		Schema string
		Inputs []struct {
			Path, Format, SHA256 string
			Size, Calls          int64
		}
		Divergences []struct {
			ID, Kind  string
			Row       int
			Path      []string
			Good, Bad struct{ Callees []struct{ Name string } }
		}
		Rows []struct {
			Index, Parent int
			Children      []int
		}
	}
	validateJSON(t, out)
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Schema != "tracediff/1" || len(rep.Inputs) != 2 || len(rep.Divergences) == 0 {
		t.Fatalf("unexpected report: schema %q, %d inputs, %d divergences", rep.Schema, len(rep.Inputs), len(rep.Divergences))
	}
	for i, in := range rep.Inputs {
		if in.Format != "trace-cmd-report" || in.SHA256 != opts.Inputs[i].SHA256 || in.Size != opts.Inputs[i].Size {
			t.Errorf("input %d: %+v", i, in)
		}
	}
	if rep.Inputs[0].Calls != int64(r.Good.Calls()) || rep.Inputs[1].Calls != int64(r.Bad.Calls()) {
		t.Errorf("input call counts %d, %d; want %d, %d", rep.Inputs[0].Calls, rep.Inputs[1].Calls, r.Good.Calls(), r.Bad.Calls())
	}
	d := rep.Divergences[0]
	if d.ID != "D1" || d.Kind != "substitution" {
		t.Errorf("first divergence is %s %s, want D1 substitution", d.ID, d.Kind)
	}
	if len(d.Path) == 0 || d.Path[len(d.Path)-1] != "inet_recvmsg" {
		t.Errorf("first divergence at %q, want a path ending in inet_recvmsg", d.Path)
	}
	if len(d.Good.Callees) == 0 || d.Good.Callees[0].Name != "tcp_bpf_recvmsg" {
		t.Errorf("good callees %+v, want tcp_bpf_recvmsg", d.Good.Callees)
	}
	if len(d.Bad.Callees) == 0 || d.Bad.Callees[0].Name != "tcp_recvmsg" {
		t.Errorf("bad callees %+v, want tcp_recvmsg", d.Bad.Callees)
	}
	// The tree is consistent: each row is its parent's child.
	for i, row := range rep.Rows {
		if row.Index != i {
			t.Fatalf("rows[%d].index = %d", i, row.Index)
		}
		for _, c := range row.Children {
			if rep.Rows[c].Parent != i {
				t.Fatalf("row %d lists child %d whose parent is %d", i, c, rep.Rows[c].Parent)
			}
		}
	}
}

// fencedBlocks returns the fenced code blocks of a Markdown document as
// CommonMark reads them (info string and content), and the lines outside
// them. A fence that is never closed fails the test.
func fencedBlocks(t testing.TB, md string) (blocks [][2]string, outside []string) {
	t.Helper()
	var open string
	var info string
	var body strings.Builder
	sc := bufio.NewScanner(strings.NewReader(md))
	for sc.Scan() {
		ln := sc.Text()
		trimmed := strings.TrimLeft(ln, " ")
		indent := len(ln) - len(trimmed)
		run := longestPrefix(trimmed, '`')
		switch {
		case open == "" && indent <= 3 && run >= 3 && !strings.Contains(trimmed[run:], "`"):
			open, info = trimmed[:run], strings.TrimSpace(trimmed[run:])
			body.Reset()
		case open != "" && indent <= 3 && run >= len(open) && strings.TrimSpace(trimmed[run:]) == "":
			blocks = append(blocks, [2]string{info, body.String()})
			open = ""
		case open != "":
			body.WriteString(ln + "\n")
		default:
			outside = append(outside, ln)
		}
	}
	if open != "" {
		t.Fatalf("fence %s (%s) is never closed", open, info)
	}
	return blocks, outside
}

func longestPrefix(s string, c byte) int {
	n := 0
	for n < len(s) && s[n] == c {
		n++
	}
	return n
}

// TestMarkdownSockmap checks that the sockmap divergence is shown in a
// ```diff block: the common ancestors, then tcp_bpf_recvmsg as removed
// and tcp_recvmsg as added, and that the footer has the command line and
// both checksums.
func TestMarkdownSockmap(t *testing.T) {
	r, opts := sockmapExample(t)
	md := string(render(t, r, FormatMarkdown, opts))
	blocks, _ := fencedBlocks(t, md)
	found := false
	for _, b := range blocks {
		if b[0] != "diff" {
			continue
		}
		var del, add, ctx bool
		for _, ln := range strings.Split(b[1], "\n") {
			f := strings.Fields(ln)
			switch {
			case len(f) >= 2 && f[0] == "-" && f[1] == "tcp_bpf_recvmsg":
				del = true
			case len(f) >= 2 && f[0] == "+" && f[1] == "tcp_recvmsg":
				add = true
			case len(f) >= 2 && f[0] == "!" && f[1] == "inet_recvmsg":
				ctx = true
			}
		}
		found = found || (del && add && ctx)
	}
	if !found {
		t.Errorf("no ```diff block shows inet_recvmsg with -tcp_bpf_recvmsg and +tcp_recvmsg:\n%s", md)
	}
	for _, want := range []string{"| D1 | substitution |", opts.Command, opts.Inputs[0].SHA256, opts.Inputs[1].SHA256} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

// TestHTMLSelfContained checks that the HTML report references nothing
// outside itself: no URL in src or href, no link element, no CSS import or
// url(), and a Content-Security-Policy that forbids every fetch.
func TestHTMLSelfContained(t *testing.T) {
	r, opts := sockmapExample(t)
	page := string(render(t, r, FormatHTML, opts))
	checkSelfContained(t, page)
	for _, want := range []string{"D1", "tcp_bpf_recvmsg", "tcp_recvmsg", "inet_recvmsg", `class="fr `} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func checkSelfContained(t testing.TB, page string) {
	t.Helper()
	low := strings.ToLower(page)
	for _, bad := range []string{"http://", "https://", "<link", "@import", "url(", "<iframe", "<object", "<embed", "<img", "<base", "<form", "//cdn"} {
		if strings.Contains(low, bad) {
			t.Errorf("page contains %q: it must not reference anything outside itself", bad)
		}
	}
	tag := regexp.MustCompile(`<[a-z][^>]*>`)
	attr := regexp.MustCompile(`\s(src|srcset|href|xlink:href|action|data|poster|background)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)`)
	for _, tg := range tag.FindAllString(low, -1) {
		for _, m := range attr.FindAllStringSubmatch(tg, -1) {
			v := strings.Trim(m[2], `"'`)
			if m[1] != "href" || !strings.HasPrefix(v, "#") {
				t.Errorf("%s=%q in %s: only links within the page are allowed", m[1], v, tg)
			}
		}
	}
	if !strings.Contains(page, `<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;`) {
		t.Error("page lacks its Content-Security-Policy")
	}
}

// TestFoldedSockmap checks the differential folded output of the sockmap
// pair as difffolded-style consumers read it: three fields a line (a path
// without spaces, two counts), each path once and sorted, and each
// column summing to its capture's calls.
func TestFoldedSockmap(t *testing.T) {
	r, opts := sockmapExample(t)
	out := render(t, r, FormatFolded, opts)
	var sumG, sumB int64
	prev := ""
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	for i, ln := range lines {
		f := strings.Split(ln, " ")
		if len(f) != 3 || f[0] == "" {
			t.Fatalf("line %d %q: want \"path count_good count_bad\"", i+1, ln)
		}
		g, err1 := strconv.ParseInt(f[1], 10, 64)
		b, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil || g < 0 || b < 0 || g+b == 0 {
			t.Fatalf("line %d %q: bad counts", i+1, ln)
		}
		if i > 0 && f[0] <= prev {
			t.Fatalf("line %d: path %q not after %q", i+1, f[0], prev)
		}
		prev = f[0]
		sumG += g
		sumB += b
	}
	if sumG != int64(r.Good.Calls()) || sumB != int64(r.Bad.Calls()) {
		t.Errorf("counts sum to %d good, %d bad; the captures hold %d and %d calls", sumG, sumB, r.Good.Calls(), r.Bad.Calls())
	}
	if !bytes.Contains(out, []byte(";inet_recvmsg;tcp_bpf_recvmsg ")) || !bytes.Contains(out, []byte(";inet_recvmsg;tcp_recvmsg ")) {
		t.Error("folded output lacks the diverging paths")
	}
}

// TestRenderEmptyListsNotNull checks that a result with no divergence
// renders in every format and that the JSON has [] rather than null.
func TestRenderEmptyListsNotNull(t *testing.T) {
	r, _ := sockmapExample(t)
	self, err := Compare(r.Good, r.Good, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range OutputFormats {
		render(t, self, f, RenderOptions{})
	}
	out := render(t, self, FormatJSON, RenderOptions{})
	if bytes.Contains(out, []byte("null")) {
		t.Errorf("JSON holds null:\n%s", out)
	}
	validateJSON(t, out)
}
