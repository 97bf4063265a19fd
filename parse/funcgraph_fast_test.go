package parse

import (
	"bufio"
	"bytes"
	"path/filepath"
	"reflect"
	"testing"
)

// sameTrace fails t unless a and b hold the same model: nodes, names,
// tasks, notes, return values, lost events, warnings and headers.
func sameTrace(t testing.TB, name string, a, b *Trace) {
	t.Helper()
	switch {
	case !reflect.DeepEqual(a.Nodes[:len(a.Nodes):len(a.Nodes)], b.Nodes[:len(b.Nodes):len(b.Nodes)]):
		t.Fatalf("%s: nodes differ", name)
	case !reflect.DeepEqual(a.Names.strs, b.Names.strs), !reflect.DeepEqual(a.Names.key, b.Names.key):
		t.Fatalf("%s: names differ", name)
	case !reflect.DeepEqual(a.Tasks, b.Tasks):
		t.Fatalf("%s: tasks differ", name)
	case !reflect.DeepEqual(a.Notes, b.Notes), !reflect.DeepEqual(a.Rets, b.Rets):
		t.Fatalf("%s: notes or return values differ", name)
	case !reflect.DeepEqual(a.Lost, b.Lost), !reflect.DeepEqual(a.Warnings, b.Warnings):
		t.Fatalf("%s: lost events or warnings differ:\n%v\n%v", name, a.Warnings, b.Warnings)
	case !reflect.DeepEqual(a.Header, b.Header), a.Lines != b.Lines:
		t.Fatalf("%s: headers or line counts differ", name)
	}
}

// readBothWays reads a trace-cmd report with and without fastGraph.
func readBothWays(t testing.TB, data []byte, bufSize int) (fast, slow *Trace, ferr, serr error) {
	bf := NewBuilder("in", FormatTraceCmd, int64(len(data)))
	ferr = readTraceCmd(bf, bufio.NewReaderSize(bytes.NewReader(data), bufSize), true)
	bs := NewBuilder("in", FormatTraceCmd, int64(len(data)))
	serr = readTraceCmd(bs, bufio.NewReaderSize(bytes.NewReader(data), bufSize), false)
	return bf.Trace(), bs.Trace(), ferr, serr
}

// TestFastGraphAgrees checks that the one-pass reading of common
// function_graph lines builds the same model as the general one, on every
// trace-cmd report of testdata and the corpus.
func TestFastGraphAgrees(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "funcgraph", "*.report"))
	more, _ := filepath.Glob(filepath.Join("testdata", "funcgraph", "report_*.txt"))
	files = append(files, more...)
	files = append(files, corpusGraphFiles(t)...)
	n := 0
	for _, path := range files {
		data := readAll(t, path)
		if Detect(data[:min(len(data), headSize)]) != FormatTraceCmd {
			continue
		}
		n++
		fast, slow, ferr, serr := readBothWays(t, data, 1<<20)
		if (ferr == nil) != (serr == nil) {
			t.Fatalf("%s: errors differ: %v, %v", path, ferr, serr)
		}
		sameTrace(t, path, fast, slow)
	}
	if n < 5 {
		t.Fatalf("only %d trace-cmd reports compared", n)
	}
}

// TestFastGraphLines checks lines close to the common shape, which the
// general reader must take.
func TestFastGraphLines(t *testing.T) {
	lines := []string{
		"  a-1 [000] 1.000001: funcgraph_entry: | f() {",
		"  a-1 [000] 1.000002: funcgraph_entry: 1.000 us | g();",
		"  a-1 [000] 1.000003: funcgraph_exit: + 12.000 us | }",
		"  a-1 [000] 1.000003: funcgraph_exit: 12.000 us | } /* f */",
		"  a-1 [000] 1.000004: funcgraph_entry: | f(x=1) {",
		"  a-1 [000] 1.000004: funcgraph_entry: | f () {",
		"  a-1 [000] 1.000004: funcgraph_entry: | f()  ;",
		"  a-1 [000] 1.000004: funcgraph_entry: | f(); /* <-g+0x1/0x2 */",
		"  a-1 [000] 1.000004: funcgraph_entry: | f() { (1)",
		"  a-1 [000] 1.000004: funcgraph_entry: | (); ",
		"  a-1 [000] 1.000004: funcgraph_entry: | } ",
		"  a-1 [000] 1.000004: funcgraph_exit: | f();",
		"  a-1 [000] 1.000004: funcgraph_exit: 1.0 ms | }",
		"  a-1 [000] d..1 1.000004: funcgraph_entry: | f() {",
		"  a-1 [000] 1.000004:funcgraph_entry: | f() {",
		"  a-1 [000] 1.000004: funcgraph_entry | f() {",
		"  a-1 [000] 1.000004: funcgraph_entry: func=0x1 depth=0",
		"  a-1 [000] 1.000004: funcgraph_entryx: | f() {",
		"  a b-1 [000] 1.000004: funcgraph_entry: | f() {",
		"  a-b [000] 1.000004: funcgraph_entry: | f() {",
		"  a-1x [000] 1.000004: funcgraph_entry: | f() {",
		"  a-1 [x] [001] 1.000004: funcgraph_entry: | f() {",
		"  a-1 [99999] 1.000004: funcgraph_entry: | f() {",
		"  a-1234567890 [000] 1.000004: funcgraph_entry: | f() {",
		"  -1 [000] 1.000004: funcgraph_entry: | f() {",
		"  <idle>-0 [001] 1.000004: funcgraph_entry: | f() {",
		"  a-1 [000] 1: funcgraph_entry: | f();",
		"  a-1 [000] 1.00000000001: funcgraph_entry: | f();",
		"\ta-1\t[000]\t1.000004:\tfuncgraph_entry:\t|\tf()\t{",
		"  a-1 [000] 1.000005: funcgraph_exit: | }",
		"  a-1 [000] 1.000005: funcgraph_exit: 1us | }",
		"  a-1 [000] 1.000005: funcgraph_exit: 1.5us | }",
		"  a-1 [000] 1.000005: funcgraph_exit: 12.5  us| }",
		"  a-1 [000] 1.000005: funcgraph_exit: +12.5 us | }",
		"  a-1 [000] 1.000005: funcgraph_exit: $   3594274 us | }",
		"  a-1 [000] 1.000005: funcgraph_exit: 12345678901 us | }",
		"  a-1 [000] 1.000005: funcgraph_exit: 1.23456 us | }",
		"  a-1 [000] 1.000005: funcgraph_exit: 1. us | }",
		"  a-1 [000] 1.000005: funcgraph_exit: .5 us | }",
		"  a-1 [000] 1.000005: funcgraph_exit: 1 usx | }",
		"  a-1 [000] 1.000005: funcgraph_exit: 1 ms | }",
		"  a-1 [000] 1.000005: funcgraph_exit: 1 u | }",
		"  a-1 [000] 1.000005: funcgraph_exit: 1 us 2 | }",
		"  a-1 [000] 1.000005: funcgraph_exit: |",
		"  a-1 [000] 1.000005: funcgraph_exit: ",
		"  a-1 [000] 1.000005: funcgraph_exit:",
		"  a-1 [0000000001] 1.000005: funcgraph_entry: | f();",
		"  a-1 [000000001] 1.000005: funcgraph_entry: | f();",
		"  a-0000000001 [000] 1.000005: funcgraph_entry: | f();",
		"  a-000000001 [000] 1.000005: funcgraph_entry: | f();",
		"  a-4294967297 [000] 1.000005: funcgraph_entry: | f();",
		"  a-1 [16384] 1.000005: funcgraph_entry: | f();",
		"  a-1 [16385] 1.000005: funcgraph_entry: | f();",
		"  a-1 [000] 12345678901.5: funcgraph_entry: | f();",
		"  a-1 [000] 1234567890.5: funcgraph_entry: | f();",
		"  a-1 [000] 1.0000000001: funcgraph_entry: | f();",
		"  a-1 [000] 1.5:x funcgraph_entry: | f();",
		"  a-1 [000] 1.5: funcgraph_entry: | f() ;",
		"  a-1 [000] 1.5: funcgraph_entry: | f(() {",
		"  a-1 [000] 1.5: funcgraph_entry: | a(b)();",
		"  a-1 [000] 1.5: funcgraph_entry: | f	();",
		"  a-1 [000] 1.5: funcgraph_entry: | /f();",
		"  a-1 [000] 1.5: funcgraph_entry: | |f();",
		"  a-1 [000] 1.5: funcgraph_entry: func=0x1 | f();",
	}
	var all []byte
	for _, l := range lines {
		all = append(all, l...)
		all = append(all, '\n')
		fast, slow, _, _ := readBothWays(t, []byte(l+"\n"), 4096)
		sameTrace(t, l, fast, slow)
	}
	fast, slow, _, _ := readBothWays(t, all, 4096)
	sameTrace(t, "all lines", fast, slow)
}
