package parse

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tracediff/tracediff/internal/testutil"
)

// cpuPrefix matches a raw ftrace line with a CPU column and no "|"
// (nofuncgraph-duration): " 1)   getname() {".
var cpuPrefix = regexp.MustCompile(`^\s*\d+\) `)

// countCallLines counts, independently of the parser, the lines of a
// function_graph capture that open a call: every funcgraph_entry event of a
// trace-cmd report, and every raw ftrace line that ends in "{" or ";" (once
// a trailing /* comment */ is dropped) after a "|" or a CPU column.
func countCallLines(t *testing.T, data []byte) int {
	t.Helper()
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), " \t\r")
		if strings.Contains(l, ": funcgraph_entry:") {
			n++
			continue
		}
		if strings.Contains(l, "funcgraph_exit:") {
			continue
		}
		if strings.HasSuffix(l, "*/") {
			if i := strings.LastIndex(l, "/*"); i >= 0 {
				l = strings.TrimRight(l[:i], " \t")
			}
		}
		if !strings.HasSuffix(l, "{") && !strings.HasSuffix(l, ";") {
			continue
		}
		if strings.Contains(l, "|") || cpuPrefix.MatchString(l) {
			n++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// readAll reads a file, decompressing .gz.
func readAll(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		data, err = io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
	}
	return data
}

// corpusGraphFiles lists the function_graph captures of the corpus.
func corpusGraphFiles(t *testing.T) []string {
	dir := testutil.CorpusDir(t)
	var files []string
	for _, pat := range []string{
		"lab/*.report", "lab/raw-*.trace", "lab/noisy-*.report.gz",
		"public/torvalds-linux-ftrace.rst/fg_*.txt",
		"public/brendangregg-perf-tools/funcgraph_example.txt",
		"public/brendangregg-perf-tools/funcslower_example.txt",
		"public/brendangregg-perf-tools/extracted/*.txt",
		"public/PacktPublishing-Linux-Kernel-Debugging/*.txt",
		"public/rostedt-trace-cmd/report_function_graph_*.txt",
		"public/eclipse-tracecompass-incubator/trace-func-graph.txt",
	} {
		files = append(files, testutil.Glob(t, filepath.Join(dir, pat))...)
	}
	return files
}

// checkCounts parses path and checks that it reads without error and that
// its calls are exactly its entry and leaf lines.
func checkCounts(t *testing.T, path string) *Trace {
	t.Helper()
	data := readAll(t, path)
	tr, err := Parse(filepath.Base(path), bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	want := countCallLines(t, data)
	// A closing line with no entry (the capture started mid-call) is a
	// call too, flagged FlagOrphan: it is not an entry line, so it is
	// counted apart.
	orphans := 0
	for i := range tr.Nodes {
		if tr.Nodes[i].Flags.Has(FlagOrphan) {
			orphans++
		}
	}
	if got := tr.Calls() - orphans; got != want {
		t.Errorf("%s: %d calls (and %d orphan exits) in the model, %d entry and leaf lines in the file", path, got, orphans, want)
	}
	for _, w := range tr.Warnings {
		if strings.Contains(w.Msg, "expected") {
			t.Logf("%s: warning: %v", filepath.Base(path), &w)
		}
	}
	return tr
}

func TestCorpusCallCounts(t *testing.T) {
	for _, path := range corpusGraphFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			if testing.Short() && strings.HasSuffix(path, ".gz") {
				t.Skip("large capture")
			}
			checkCounts(t, path)
		})
	}
}
