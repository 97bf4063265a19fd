package parse

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracediff/tracediff/internal/testutil"
)

// trace-cmd report -i good.dat -i bad.dat prints each line behind its
// file name, right-aligned to the longest ("%*s: "), records merged by time.
// The two sockmap reports are laid out that way here; their tasks must stay
// apart and keep their calls.
func TestMultiInputReport(t *testing.T) {
	root := testutil.RepoRoot()
	var sb strings.Builder
	for _, f := range []struct{ name, path string }{{"good.dat", "examples/sockmap/good.report"}, {"bad.dat", "examples/sockmap/bad.report"}} {
		data, err := os.ReadFile(filepath.Join(root, f.path))
		if err != nil {
			t.Fatal(err)
		}
		for _, ln := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			fmt.Fprintf(&sb, "%*s: %s\n", len("good.dat"), f.name, ln)
		}
	}
	tr, err := Parse("multi.report", strings.NewReader(sb.String()))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := range tr.Tasks {
		got = append(got, fmt.Sprintf("%s calls=%d", tr.Tasks[i].Label(), tr.Tasks[i].Calls))
	}
	want := []string{"good.dat:reqlab-srv-158 calls=146", "bad.dat:reqlab-srv-178 calls=43"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("tasks %q, want %q", got, want)
	}
	if len(tr.Warnings) != 0 {
		t.Errorf("warnings: %v", tr.Warnings)
	}
}
