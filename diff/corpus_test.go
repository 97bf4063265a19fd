package diff

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracediff/tracediff/internal/testutil"
	"github.com/tracediff/tracediff/parse"
)

func mustParse(t testing.TB, path string) *parse.Trace {
	t.Helper()
	tr, err := parse.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// firstLines renders the text output and returns its first n lines.
func firstLines(t *testing.T, res *Result, n int) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, res, FormatText, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(buf.String(), "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// The story that started the project: on the bundled sockmap pair the first
// divergence, within the first 15 lines, is inet_recvmsg calling
// tcp_bpf_recvmsg on the good side and tcp_recvmsg on the bad side.
func TestSockmapExample(t *testing.T) {
	root := testutil.RepoRoot()
	g := mustParse(t, filepath.Join(root, "examples/sockmap/good.report"))
	b := mustParse(t, filepath.Join(root, "examples/sockmap/bad.report"))
	res, err := Compare(g, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := res.Divergences[0]
	if d.Kind != KindSubstitution || d.Good[0].Name != "tcp_bpf_recvmsg" || d.Bad[0].Name != "tcp_recvmsg" ||
		d.Path[len(d.Path)-1] != "inet_recvmsg" {
		t.Fatalf("first divergence: %s %q path %v", d.Kind, d.Summary, d.Path)
	}
	if d.Good[0].Line != 148 || d.Bad[0].Line != 19 {
		t.Errorf("source lines %d/%d, want 148/19", d.Good[0].Line, d.Bad[0].Line)
	}
	head := firstLines(t, res, 15)
	if !strings.Contains(head, "D1 substitution: inet_recvmsg: good -> tcp_bpf_recvmsg, bad -> tcp_recvmsg") {
		t.Errorf("first 15 lines lack the divergence:\n%s", head)
	}
}

// On the whole-system captures (a dozen busy tasks, two requests each), the
// same divergence ranks first without any flag.
func TestNoisyCorpusPair(t *testing.T) {
	if testing.Short() {
		t.Skip("large captures")
	}
	dir := testutil.CorpusDir(t)
	g := mustParse(t, filepath.Join(dir, "lab/noisy-good.report.gz"))
	b := mustParse(t, filepath.Join(dir, "lab/noisy-bad.report.gz"))
	res, err := Compare(g, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := res.Divergences[0]
	if d.Kind != KindSubstitution || !strings.HasPrefix(d.Summary, "inet_recvmsg: good -> tcp_bpf_recvmsg, bad -> tcp_recvmsg") {
		t.Fatalf("first divergence: %s %q", d.Kind, d.Summary)
	}
	if len(d.Also) != 1 {
		t.Errorf("the substitution repeats in both requests: Also=%v", d.Also)
	}
}

// Every function_graph capture of the corpus compared with itself has no
// divergence.
func TestSelfDiffCorpus(t *testing.T) {
	dir := testutil.CorpusDir(t)
	var files []string
	for _, pat := range []string{"lab/*.report", "lab/*.trace", "lab/*.report.gz", "public/*/*.txt", "public/*/*/*.txt"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		files = append(files, m...)
	}
	n := 0
	for _, f := range files {
		head := make([]byte, 64<<10)
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		k, _ := fh.Read(head)
		fh.Close()
		if strings.HasSuffix(f, ".gz") {
			if testing.Short() {
				continue
			}
		} else if fm := parse.Detect(head[:k]); fm != parse.FormatTraceCmd && fm != parse.FormatFtrace {
			continue
		}
		tr, err := parse.ParseFile(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if tr.Format != parse.FormatTraceCmd && tr.Format != parse.FormatFtrace {
			continue
		}
		n++
		res, err := Compare(tr, tr, Options{})
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if !res.Equal() {
			t.Errorf("%s compared with itself: %d divergences, first %q", f, len(res.Divergences), res.Divergences[0].Summary)
		}
	}
	if n < 10 {
		t.Errorf("only %d function_graph captures found in the corpus", n)
	}
	t.Logf("%d captures compared with themselves", n)
}

// trace.dat files give the same first divergence as their reports, alone
// and mixed with a report.
func TestTraceDatPair(t *testing.T) {
	dir := testutil.CorpusDir(t)
	for _, pair := range [][2]string{
		{"lab/sockmap-good.dat", "lab/sockmap-bad.dat"},
		{"lab/sockmap-good.dat", "lab/sockmap-bad.report"},
	} {
		g := mustParse(t, filepath.Join(dir, pair[0]))
		b := mustParse(t, filepath.Join(dir, pair[1]))
		res, err := Compare(g, b, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if d := res.Divergences[0]; d.Summary != "inet_recvmsg: good -> tcp_bpf_recvmsg, bad -> tcp_recvmsg" {
			t.Errorf("%s vs %s: first divergence %q", pair[0], pair[1], d.Summary)
		}
	}
}

// The bpftrace captures of the corpus, printed stacks and maps: the good
// side has the tcp_bpf_recvmsg stack under inet_recvmsg, the bad side never.
func TestBpftraceCorpus(t *testing.T) {
	dir := testutil.CorpusDir(t)
	for _, pair := range [][2]string{
		{"lab/bt-good.txt", "lab/bt-bad.txt"},
		{"lab/bt-map-good.txt", "lab/bt-map-bad.txt"},
	} {
		res, err := Compare(mustParse(t, filepath.Join(dir, pair[0])), mustParse(t, filepath.Join(dir, pair[1])), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Mode != "stacks" {
			t.Errorf("%s: mode %q", pair[0], res.Mode)
		}
		d := res.Divergences[0]
		if d.Path[len(d.Path)-1] == "" || !strings.HasPrefix(d.Path[len(d.Path)-1], "inet_recvmsg+") ||
			len(d.Good) != 1 || d.Good[0].Name != "tcp_bpf_recvmsg+1" || len(d.Bad) != 0 {
			t.Errorf("%s vs %s: first divergence %s %q", pair[0], pair[1], d.Kind, d.Summary)
		}
	}
}

// A function_graph capture and a stack capture compare as call paths.
func TestCallsAgainstStacks(t *testing.T) {
	dir := testutil.CorpusDir(t)
	res, err := Compare(mustParse(t, filepath.Join(dir, "lab/sockmap-good.report")), mustParse(t, filepath.Join(dir, "lab/bt-bad.txt")), Options{Focus: "inet_recvmsg"})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range res.Divergences {
		for _, c := range d.Good {
			if c.Name == "tcp_bpf_recvmsg" && strings.HasPrefix(d.Path[len(d.Path)-1], "inet_recvmsg") {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no divergence shows good's inet_recvmsg -> tcp_bpf_recvmsg; first: %q", res.Divergences[0].Summary)
	}
}

// A raw ftrace capture (tasks by CPU) against a trace-cmd report (tasks by
// comm): the tasks are paired by what they ran, and the divergence is the
// same.
func TestRawFtraceAgainstReport(t *testing.T) {
	dir := testutil.CorpusDir(t)
	g := mustParse(t, filepath.Join(dir, "lab/raw-default.trace"))
	b := mustParse(t, filepath.Join(dir, "lab/sockmap-bad.report"))
	res, err := Compare(g, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := res.Divergences[0]; d.Summary != "inet_recvmsg: good -> tcp_bpf_recvmsg, bad -> tcp_recvmsg" || d.Good[0].Line != 22 {
		t.Errorf("first divergence %q (good line %d)", d.Summary, d.Good[0].Line)
	}
}
