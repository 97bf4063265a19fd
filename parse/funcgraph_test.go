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

// testdataGraphFiles lists the function_graph captures copied into testdata.
func testdataGraphFiles(t *testing.T) []string {
	var files []string
	for _, pat := range []string{"*.report", "*.trace", "*.txt"} {
		for _, f := range testutil.Glob(t, filepath.Join("testdata", "funcgraph", pat)) {
			if strings.Contains(f, "report_kernel_stack") {
				continue // a stack event alone: no call to read
			}
			files = append(files, f)
		}
	}
	return files
}

func TestTestdataCallCounts(t *testing.T) {
	for _, path := range testdataGraphFiles(t) {
		if strings.Contains(path, "synthetic-") {
			continue // holds deliberately cut lines; its golden checks it
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			checkCounts(t, path)
		})
	}
}

func TestFuncgraphGolden(t *testing.T) {
	for _, path := range testdataGraphFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			tr, err := Parse(filepath.Base(path), f)
			if err != nil {
				t.Fatal(err)
			}
			checkLinks(t, tr)
			var buf bytes.Buffer
			if err := Dump(&buf, tr); err != nil {
				t.Fatal(err)
			}
			for _, w := range tr.Warnings {
				buf.WriteString("warning: " + w.Error() + "\n")
			}
			testutil.Golden(t, path+".golden", buf.Bytes(), *update)
		})
	}
}

// checkLinks checks that the node links of tr are consistent: every child's
// Parent points back, every node is reached exactly once from the task
// roots, and each task's Calls counts its call nodes.
func checkLinks(t testing.TB, tr *Trace) {
	t.Helper()
	seen := make([]bool, len(tr.Nodes))
	calls := make([]int, len(tr.Tasks))
	var walk []NodeID
	for ti := range tr.Tasks {
		for r := tr.Tasks[ti].First; r != None; r = tr.Nodes[r].NextSibling {
			if tr.Nodes[r].Parent != None {
				t.Fatalf("root %d of task %d has parent %d", r, ti, tr.Nodes[r].Parent)
			}
			walk = append(walk, r)
			if len(walk) > len(tr.Nodes) {
				t.Fatalf("task %d: root list loops", ti)
			}
		}
	}
	for len(walk) > 0 {
		id := walk[len(walk)-1]
		walk = walk[:len(walk)-1]
		if id < 0 || int(id) >= len(tr.Nodes) {
			t.Fatalf("node id %d out of range", id)
		}
		if seen[id] {
			t.Fatalf("node %d reached twice", id)
		}
		seen[id] = true
		n := &tr.Nodes[id]
		if n.Flags&(FlagEvent|FlagFrame) == 0 {
			calls[n.Task]++
		}
		for c := n.FirstChild; c != None; c = tr.Nodes[c].NextSibling {
			if tr.Nodes[c].Parent != id {
				t.Fatalf("node %d (%s) is a child of %d but its Parent is %d", c, tr.NameOf(c), id, tr.Nodes[c].Parent)
			}
			if tr.Nodes[c].Task != n.Task {
				t.Fatalf("node %d is in task %d, its parent in %d", c, tr.Nodes[c].Task, n.Task)
			}
			walk = append(walk, c)
		}
	}
	for id, ok := range seen {
		if !ok && tr.Nodes[id].Flags&FlagFrame == 0 {
			t.Fatalf("node %d (%s) is not reachable from its task's roots", id, tr.NameOf(NodeID(id)))
		}
	}
	total := 0
	for ti := range tr.Tasks {
		if calls[ti] != tr.Tasks[ti].Calls {
			t.Fatalf("task %d: Calls is %d, %d call nodes found", ti, tr.Tasks[ti].Calls, calls[ti])
		}
		total += calls[ti]
	}
	if total != tr.Calls() {
		t.Fatalf("Calls() is %d, %d call nodes found", tr.Calls(), total)
	}
}

// TestSockmapGood checks the facts the corpus README states about the good
// sockmap capture.
func TestSockmapGood(t *testing.T) {
	path := filepath.Join("testdata", "funcgraph", "sockmap-good.report")
	data := readAll(t, path)
	if n := bytes.Count(data, []byte(" funcgraph_e")); n != 208 {
		t.Fatalf("%d funcgraph lines in the file, the README says 208", n)
	}
	tr, err := Parse("sockmap-good.report", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Format != FormatTraceCmd {
		t.Errorf("format %s", tr.Format)
	}
	if len(tr.Tasks) != 1 || tr.Tasks[0].Label() != "reqlab-srv-158" {
		t.Fatalf("tasks %+v, want reqlab-srv-158 alone", tr.Tasks)
	}
	if len(tr.Warnings) != 0 {
		t.Errorf("warnings: %v", tr.Warnings)
	}
	if got, want := tr.Calls(), countCallLines(t, data); got != want {
		t.Errorf("%d calls, %d entry lines", got, want)
	}
	byLine := map[int32]NodeID{}
	for i := range tr.Nodes {
		byLine[tr.Nodes[i].Line] = NodeID(i)
	}
	recv, ok := byLine[147]
	if !ok || tr.NameOf(recv) != "inet_recvmsg" {
		t.Fatalf("line 147 is not inet_recvmsg")
	}
	bpf := tr.Nodes[recv].FirstChild
	if bpf == None || tr.NameOf(bpf) != "tcp_bpf_recvmsg" || tr.Nodes[bpf].Line != 148 {
		t.Fatalf("inet_recvmsg's first callee is not tcp_bpf_recvmsg at line 148")
	}
	if tcp := byLine[151]; tr.NameOf(tcp) != "tcp_recvmsg" || tr.Nodes[tcp].Parent != bpf {
		t.Errorf("tcp_recvmsg at line 151 is not called by tcp_bpf_recvmsg")
	}
	if got := tr.PathOf(recv); got != "__sys_recvfrom > sock_recvmsg > inet_recvmsg" {
		t.Errorf("path of inet_recvmsg: %s", got)
	}
	// The timer interrupt nested in __rcu_read_lock is flagged, the
	// function it interrupted is not.
	var irqs int
	for i := range tr.Nodes {
		n := &tr.Nodes[i]
		name := tr.NameOf(NodeID(i))
		if name != "irq_enter_rcu" && name != "__sysvec_apic_timer_interrupt" {
			continue
		}
		irqs++
		if !n.Flags.Has(FlagIRQ) {
			t.Errorf("%s at line %d is not flagged FlagIRQ", name, n.Line)
		}
		if p := n.Parent; p == None || tr.NameOf(p) != "__rcu_read_lock" || tr.Nodes[p].Flags.Has(FlagIRQ) {
			t.Errorf("%s at line %d is not nested in a plain __rcu_read_lock", name, n.Line)
		}
		for c := n.FirstChild; c != None; c = tr.Nodes[c].NextSibling {
			if !tr.Nodes[c].Flags.Has(FlagIRQ) {
				t.Errorf("%s under %s is not flagged FlagIRQ", tr.NameOf(c), name)
			}
		}
	}
	if irqs != 2 {
		t.Errorf("%d interrupt entry calls, want irq_enter_rcu and __sysvec_apic_timer_interrupt", irqs)
	}
	if d := tr.Nodes[tr.Tasks[0].First].Duration; d != 6464447 {
		t.Errorf("__sys_recvfrom lasted %d ns, want 6464447", d)
	}
}

func TestSockmapBad(t *testing.T) {
	tr, err := ParseFile(filepath.Join("testdata", "funcgraph", "sockmap-bad.report"))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Tasks[0].Label() != "reqlab-srv-178" {
		t.Errorf("task %s", tr.Tasks[0].Label())
	}
	for i := range tr.Nodes {
		if tr.Nodes[i].Line == 18 && (tr.NameOf(NodeID(i)) != "inet_recvmsg" || tr.NameOf(tr.Nodes[i].FirstChild) != "tcp_recvmsg") {
			t.Errorf("line 18 is not inet_recvmsg calling tcp_recvmsg")
		}
		if tr.NameOf(NodeID(i)) == "tcp_bpf_recvmsg" {
			t.Errorf("tcp_bpf_recvmsg at line %d", tr.Nodes[i].Line)
		}
	}
}

// TestRawDefault checks the README's facts about raw-default.trace: the first
// inet_recvmsg calls tcp_bpf_recvmsg, the second tcp_recvmsg.
func TestRawDefault(t *testing.T) {
	tr, err := ParseFile(filepath.Join("testdata", "funcgraph", "raw-default.trace"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]string{21: "tcp_bpf_recvmsg", 100: "tcp_recvmsg"}
	for i := range tr.Nodes {
		if callee, ok := want[tr.Nodes[i].Line]; ok {
			if tr.NameOf(NodeID(i)) != "inet_recvmsg" || tr.NameOf(tr.Nodes[i].FirstChild) != callee {
				t.Errorf("line %d: %s calls %s, want inet_recvmsg calling %s", tr.Nodes[i].Line,
					tr.NameOf(NodeID(i)), tr.NameOf(tr.Nodes[i].FirstChild), callee)
			}
			delete(want, tr.Nodes[i].Line)
		}
	}
	if len(want) > 0 {
		t.Errorf("no call at lines %v", want)
	}
}
