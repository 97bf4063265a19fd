package parse

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tracediff/tracediff/internal/testutil"
)

var flameGraphLine = regexp.MustCompile(`^[^ ].* [0-9]+$`)

// checkFolded asserts WriteFolded's output is in FlameGraph's format and
// that its counts add up to the capture's calls or stack weights.
func checkFolded(t *testing.T, path string) {
	t.Helper()
	tr, err := ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteFolded(&buf, tr); err != nil {
		t.Fatal(err)
	}
	var sum int64
	for i, ln := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		if !flameGraphLine.MatchString(ln) {
			t.Fatalf("%s: folded line %d %q is not `path count`", path, i+1, ln)
		}
		n, err := strconv.ParseInt(ln[strings.LastIndexByte(ln, ' ')+1:], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		sum += n
	}
	want := int64(tr.Calls())
	if len(tr.Samples) > 0 {
		want = 0
		for _, s := range tr.Samples {
			want += s.Count
		}
	}
	if sum != want {
		t.Errorf("%s: folded counts sum to %d, want %d", path, sum, want)
	}
}

func TestFoldedExample(t *testing.T) {
	root := testutil.RepoRoot()
	for _, f := range testutil.Glob(t, filepath.Join(root, "examples/sockmap/*.report")) {
		checkFolded(t, f)
	}
}

func TestFoldedCorpus(t *testing.T) {
	dir := testutil.CorpusDir(t)
	for _, pat := range []string{"lab/bt-*.txt", "lab/mixed.report", "lab/raw-*.trace", "public/brendangregg-FlameGraph/perf-*.txt"} {
		for _, f := range testutil.Glob(t, filepath.Join(dir, pat)) {
			checkFolded(t, f)
		}
	}
}
