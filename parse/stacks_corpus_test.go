package parse

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tracediff/tracediff/internal/testutil"
)

// stackCount is the number of stacks and frames in a capture.
type stackCount struct{ stacks, frames int }

// countRead counts the samples and frames of t by walking each sample's
// chain from its root to its leaf, checking the chain on the way.
func countRead(tb testing.TB, t *Trace) stackCount {
	tb.Helper()
	var c stackCount
	for _, s := range t.Samples {
		c.stacks++
		if err := checkChain(t, s); err != nil {
			tb.Fatalf("sample at line %d: %v", s.Line, err)
		}
		for n := s.Root; ; n = t.Nodes[n].FirstChild {
			c.frames++
			if n == s.Leaf {
				break
			}
		}
	}
	return c
}

// checkChain checks that a sample's frames are a chain from Root to Leaf of
// frame nodes of the sample's task, each the only child of the one before.
func checkChain(t *Trace, s Sample) error {
	if s.Count < 0 {
		return errors.New("negative count")
	}
	if s.Task < 0 || int(s.Task) >= len(t.Tasks) {
		return errors.New("task out of range")
	}
	in := func(n NodeID) bool { return n >= 0 && int(n) < len(t.Nodes) }
	if !in(s.Root) || !in(s.Leaf) || t.Nodes[s.Root].Parent != None {
		return errors.New("root or leaf out of range, or root has a parent")
	}
	steps := 0
	for n := s.Root; ; {
		nd := &t.Nodes[n]
		if !nd.Flags.Has(FlagFrame) || nd.Task != s.Task {
			return errors.New("chain holds a node that is not a frame of the task")
		}
		if n == s.Leaf {
			if nd.FirstChild != None {
				return errors.New("leaf has a child")
			}
			return nil
		}
		c := nd.FirstChild
		if !in(c) || t.Nodes[c].Parent != n || t.Nodes[c].NextSibling != None {
			return errors.New("broken chain")
		}
		n = c
		if steps++; steps > len(t.Nodes) {
			return errors.New("cycle")
		}
	}
}

// Independent counters: simple line rules per format, written apart from
// the parsers so that each checks the other.
var (
	btFrameLineRE = regexp.MustCompile(`^[ \t]*(?:[0-9a-f]{3,}[ \t]+)?(?:[^ \t]+\+(?:0x)?[0-9a-f]+|0x[0-9a-f]+|[0-9a-f]{8,}|\[unknown\])(?:[ \t]+\(.*\))?(?:[ \t]+#.*)?$`)
	btOpenRE      = regexp.MustCompile(`^@[A-Za-z0-9_]*\[[^\]]*$`)
	btCloseRE     = regexp.MustCompile(`^(?:\]|,.*\]):`)
)

func countIndependently(f Format, data []byte) stackCount {
	var c stackCount
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	switch f {
	case FormatFolded:
		for _, l := range lines {
			if strings.TrimSpace(l) != "" {
				c.stacks++
				c.frames += strings.Count(l[:strings.LastIndexByte(l, ' ')], ";") + 1
			}
		}
	case FormatPerfScript:
		for _, l := range lines {
			switch {
			case strings.TrimSpace(l) == "" || l[0] == '#':
			case l[0] == ' ' || l[0] == '\t':
				c.frames++
			default:
				c.stacks++
			}
		}
	case FormatBpftrace:
		inKey, run := false, 0
		for _, l := range lines {
			switch {
			case btOpenRE.MatchString(l):
				inKey, run = true, 0
			case inKey && btCloseRE.MatchString(strings.TrimSpace(l)):
				inKey = false
				c.stacks++
				c.frames += run
				run = 0
			case inKey:
				if strings.TrimSpace(l) != "" {
					run++
				}
			case btFrameLineRE.MatchString(l):
				if run == 0 {
					c.stacks++
				}
				run++
				c.frames++
			default:
				run = 0
			}
		}
	}
	return c
}

func parseTestFile(tb testing.TB, path string) *Trace {
	tb.Helper()
	tr, err := ParseFile(path)
	if err != nil {
		tb.Fatalf("ParseFile: %v", err)
	}
	return tr
}

func readMaybeGz(tb testing.TB, path string) []byte {
	tb.Helper()
	r, _, err := Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestStacksTestdata reads each stack capture under testdata/stacks, checks
// its format, its counts against the independent counter (when the test
// gives none) and its golden dump.
func TestStacksTestdata(t *testing.T) {
	tests := []struct {
		file   string
		format Format
		want   *stackCount // nil: count independently
	}{
		{"bt-good.txt", FormatBpftrace, nil},
		{"bt-bad.txt", FormatBpftrace, nil},
		{"bt-map-good.txt", FormatBpftrace, nil},
		{"bt-map-bad.txt", FormatBpftrace, nil},
		{"seed-good.txt", FormatBpftrace, nil},
		{"seed-bad.txt", FormatBpftrace, nil},
		{"bpftrace-kstack_perf_mode.txt", FormatBpftrace, nil},
		{"bpftrace-kstack_raw_mode.txt", FormatBpftrace, nil},
		{"bpftrace-ustack_printf_perf_mode.txt", FormatBpftrace, nil},
		{"bpftrace-kstack_map_ip_output_tcp.txt", FormatBpftrace, nil},
		{"bpftrace-ustack_map_bash_open.txt", FormatBpftrace, nil},
		{"bpftrace-biostacks_example.txt", FormatBpftrace, nil},
		{"bpftrace-tcpdrop_example.txt", FormatBpftrace, nil},
		{"bpftrace-lesson9_profile_kstack_unindented.txt", FormatBpftrace, nil},
		{"perf-dd-stacks-01.txt", FormatPerfScript, nil},
		{"folded-perf-iperf-collapsed-kernel.txt", FormatFolded, nil},
		// printf: 1 stack of 3 frames; map: 2 of 3 and 1 of 2; hist 1;
		// stats 1.
		{"bpftrace-json.ndjson", FormatBpftraceJSON, &stackCount{6, 3 + 3 + 3 + 2 + 1 + 1}},
	}
	files := testutil.Glob(t, filepath.Join("testdata", "stacks", "*"))
	seen := map[string]bool{}
	for _, f := range files {
		seen[filepath.Base(f)] = true
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "stacks", tc.file)
			if !seen[tc.file] {
				t.Fatalf("%s missing", path)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := Detect(data); got != tc.format {
				t.Fatalf("Detect = %s, want %s", got, tc.format)
			}
			tr := parseTestFile(t, path)
			want := tc.want
			if want == nil {
				c := countIndependently(tc.format, data)
				want = &c
			}
			if got := countRead(t, tr); got != *want {
				t.Errorf("read %d stacks, %d frames; want %d, %d", got.stacks, got.frames, want.stacks, want.frames)
			}
			var buf bytes.Buffer
			if err := Dump(&buf, tr); err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, path+".golden", buf.Bytes(), *update)
		})
	}
}

// TestStacksCorpus reads every stack capture of the shared corpus.
func TestStacksCorpus(t *testing.T) {
	dir := testutil.CorpusDir(t)
	var files []string
	for _, pat := range []string{
		"lab/bt-*.txt",
		"public/bpftrace-bpftrace/*.txt",
		"public/bpftrace-bpftrace/*/*.txt",
		"public/brendangregg-FlameGraph/perf-*.txt",
		"public/brendangregg-FlameGraph/*.gz",
		"public/brendangregg-FlameGraph/example-dtrace-stacks.txt",
		"public/iovisor-bcc/*.txt",
	} {
		files = append(files, testutil.Glob(t, filepath.Join(dir, pat))...)
	}
	for _, path := range files {
		rel, _ := filepath.Rel(dir, path)
		t.Run(rel, func(t *testing.T) {
			data := readMaybeGz(t, path)
			want := FormatBpftrace
			switch {
			case strings.Contains(rel, "collapsed"):
				want = FormatFolded
			case strings.Contains(rel, "FlameGraph/perf-"), strings.HasSuffix(rel, ".gz"):
				want = FormatPerfScript
			case strings.Contains(rel, "iovisor-bcc/"):
				want = FormatBCC
			}
			head := data
			if len(head) > headSize {
				head = head[:headSize]
			}
			if got := Detect(head); got != want {
				t.Fatalf("Detect = %s, want %s", got, want)
			}
			tr := parseTestFile(t, path)
			got := countRead(t, tr)
			exp := countIndependently(want, data)
			if want == FormatBCC {
				exp = countBCC(strings.TrimSuffix(filepath.Base(rel), "_example.txt"), data)
			}
			if got != exp || got.stacks == 0 {
				t.Errorf("read %d stacks, %d frames; counted %d, %d", got.stacks, got.frames, exp.stacks, exp.frames)
			}
		})
	}
}

// TestStacksFacts checks what the corpus README says of the lab captures.
func TestStacksFacts(t *testing.T) {
	good := parseTestFile(t, filepath.Join("testdata", "stacks", "bt-good.txt"))
	found := false
	for _, s := range good.Samples {
		p := good.PathOf(s.Leaf)
		if strings.HasSuffix(p, "inet_recvmsg+288 > tcp_bpf_recvmsg+1") {
			found = true
		}
	}
	if !found {
		t.Errorf("bt-good: no stack tcp_bpf_recvmsg+1 <- inet_recvmsg+288")
	}
	bad := parseTestFile(t, filepath.Join("testdata", "stacks", "bt-map-bad.txt"))
	if len(bad.Samples) != 1 {
		t.Fatalf("bt-map-bad: %d samples, want 1", len(bad.Samples))
	}
	s := bad.Samples[0]
	if leaf, parent := bad.NameOf(s.Leaf), bad.NameOf(bad.Nodes[s.Leaf].Parent); leaf != "tcp_recvmsg+1" || parent != "inet_recvmsg+82" || s.Count != 3 {
		t.Errorf("bt-map-bad: %s <- %s count %d, want tcp_recvmsg+1 <- inet_recvmsg+82 count 3", leaf, parent, s.Count)
	}
	// Offsets are kept for display and normalised for matching.
	if bad.Names.String(bad.KeyOf(s.Leaf)) != "tcp_recvmsg" {
		t.Errorf("key of %s = %s", bad.NameOf(s.Leaf), bad.Names.String(bad.KeyOf(s.Leaf)))
	}
	// The seed's notes stay on the frame they were pasted after.
	seed := parseTestFile(t, filepath.Join("testdata", "stacks", "seed-good.txt"))
	if len(seed.Samples) != 2 {
		t.Fatalf("seed-good: %d samples, want 2", len(seed.Samples))
	}
	for _, s := range seed.Samples {
		if n := seed.NoteOf(s.Leaf); n != "<-- correspond to a successful request" || seed.NameOf(s.Leaf) != "tcp_bpf_recvmsg+1" {
			t.Errorf("seed-good leaf %q note %q", seed.NameOf(s.Leaf), n)
		}
	}
	js := parseTestFile(t, filepath.Join("testdata", "stacks", "bpftrace-json.ndjson"))
	if len(js.Lost) != 1 || js.Lost[0].Count != 7 {
		t.Errorf("json: lost %+v, want 7 events", js.Lost)
	}
	aggs := map[string]string{}
	for _, s := range js.Samples {
		aggs[s.Keys] = s.Agg
	}
	if aggs["map=@usecs"] != "hist" || aggs["map=@lat"] != "avg" || aggs["map=@bytes reqlab-srv"] != "" {
		t.Errorf("json aggregations %v", aggs)
	}
	perf := parseTestFile(t, filepath.Join("testdata", "stacks", "perf-dd-stacks-01.txt"))
	if k := perf.Samples[0].Keys; !regexp.MustCompile(`^comm=dd pid=\d+ event=\S+$`).MatchString(k) {
		t.Errorf("perf keys %q", k)
	}
}

// TestBpftraceMapKeys checks several keys around a stack, named from the
// echoed program, and aggregations.
func TestBpftraceMapKeys(t *testing.T) {
	in := "# bpftrace -e 'k:tcp_recvmsg { @bytes[pid, comm, kstack] = sum(arg2); @[kstack, comm] = count(); }'\n" +
		"Attaching 1 probe...\nLost 12 events\n\n" +
		"@[\n    tcp_recvmsg+1\n    inet_recvmsg+82\n, curl]: 2\n" +
		"@bytes[4242, nginx, \n        tcp_recvmsg+1   # <-- slow\n        inet_recvmsg+82\n]: 8192\n"
	tr, err := Parse("keys.txt", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Samples) != 2 {
		t.Fatalf("%d samples", len(tr.Samples))
	}
	a, b := tr.Samples[0], tr.Samples[1]
	if a.Keys != "comm=curl" || a.Count != 2 || a.Agg != "" {
		t.Errorf("first: keys %q count %d agg %q", a.Keys, a.Count, a.Agg)
	}
	if b.Keys != "map=@bytes pid=4242 comm=nginx" || b.Count != 8192 || b.Agg != "sum" || tr.Tasks[b.Task].Label() != "nginx-4242" {
		t.Errorf("second: keys %q count %d agg %q task %s", b.Keys, b.Count, b.Agg, tr.Tasks[b.Task].Label())
	}
	if tr.NoteOf(b.Leaf) != "<-- slow" {
		t.Errorf("note %q", tr.NoteOf(b.Leaf))
	}
	if len(tr.Lost) != 1 || tr.Lost[0].Count != 12 || tr.Lost[0].Line != 3 {
		t.Errorf("lost %+v", tr.Lost)
	}
}

// TestStackErrors checks positioned errors of malformed input.
func TestStackErrors(t *testing.T) {
	tests := []struct {
		name   string
		parse  func(*Builder, *bufio.Reader) error
		in     string
		want   string // substring of the error
		isTrun bool
	}{
		{"map cut mid-key", parseBpftrace, "Attaching 1 probe...\n@[\n    tcp_recvmsg+1\n    inet_recvmsg+82\n", `in.txt:4: expected a stack frame or the "]: value" closing the map key opened at line 2, found end of input`, true},
		{"map cut by next entry", parseBpftrace, "@[\n    tcp_recvmsg+1\n@[\n    tcp_recvmsg+1\n]: 3\n", `in.txt:3: expected a stack frame or the "]: value" closing the map key opened at line 1, found another map entry "@["`, false},
		{"prose inside a key", parseBpftrace, "@[\n    tcp_recvmsg+1\nthe next frame was lost here\n]: 3\n", `in.txt:3: expected a stack frame or the "]: value" closing the map key opened at line 1, found text "the next frame was lost here"`, false},
		{"garbage", parseBpftrace, "\x01\x02 hello world\nmore prose here\n", `in.txt:1: expected a bpftrace stack`, false},
		{"map without value", parseBpftrace, "@[\n    tcp_recvmsg+1\n]:\n\n", `in.txt:1: expected a value after "]:", found none`, false},
		{"bad histogram row", parseBpftrace, "@[\n    tcp_recvmsg+1\n]:\n[1, 2)  x |@@|\n", `in.txt:4: expected a histogram row`, false},
		{"json garbage", parseBpftraceJSON, "{\"type\": \"printf\", \"data\": \"x\"}\nnot json\n", `in.txt:2: expected a JSON record`, false},
		{"json cut", parseBpftraceJSON, "{\"type\": \"map\", \"data\": {\n", `in.txt:1: expected the end of the JSON record started at line 1, found end of input`, true},
		{"json bad lost", parseBpftraceJSON, "{\"type\": \"lost_events\", \"data\": {\"events\": \"x\"}}\n", `in.txt:1: expected {"events": N}`, false},
		{"perf frame before header", parsePerfScript, "\tffffffff8172f5d4 tcp_recvmsg ([kernel.kallsyms])\n", `in.txt:1: expected a sample header`, false},
		{"perf bad header", parsePerfScript, "this is prose\n", `in.txt:1: expected a sample header "comm pid [cpu] time: event:", found "this is prose"`, false},
		{"perf bad frame", parsePerfScript, "dd 12 [000] 1.5: cycles:\n\tnot a frame\n", `in.txt:2: expected a frame`, false},
		{"folded without count", parseFolded, "a;b;c 3\na;b;c\n", `in.txt:2: expected a folded stack "root;child;leaf COUNT", found "a;b;c"`, false},
		{"folded negative count", parseFolded, "a;b -3\n", `in.txt:1: expected a folded stack`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBuilder("in.txt", FormatUnknown, -1)
			err := tc.parse(b, bufio.NewReader(strings.NewReader(tc.in)))
			if err == nil {
				t.Fatalf("no error")
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.Line == 0 {
				t.Fatalf("error %v is not a positioned *Error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n  %v\nwant it to contain\n  %s", err, tc.want)
			}
			if errors.Is(err, ErrTruncated) != tc.isTrun {
				t.Errorf("errors.Is(err, ErrTruncated) = %v", !tc.isTrun)
			}
		})
	}
}

// funcgraphSnippets are function_graph lines no stack scorer may claim.
var funcgraphSnippets = []string{
	" 0)   1.234 us    |  foo();\n 0)               |  bar() {\n 0)   0.345 us    |    baz();\n 0)   2.000 us    |  }\n",
	"          <idle>-0     [000]  1234.567: funcgraph_entry:                   |  do_IRQ() {\n          <idle>-0     [000]  1234.568: funcgraph_exit:       + 36.358 us   |  }\n",
}

// TestStackScorersRejectFuncgraph checks that function_graph traces score 0
// in every stack scorer.
func TestStackScorersRejectFuncgraph(t *testing.T) {
	scorers := map[string]func([]byte) int{
		"bpftrace": scoreBpftrace, "bpftrace-json": scoreBpftraceJSON, "perf-script": scorePerfScript, "folded": scoreFolded,
		"bcc": scoreBCC,
	}
	check := func(t *testing.T, name string, head []byte) {
		for sn, sc := range scorers {
			if s := sc(head); s != 0 {
				t.Errorf("%s: %s scorer gives %d, want 0", name, sn, s)
			}
		}
	}
	for i, s := range funcgraphSnippets {
		check(t, "snippet "+string(rune('0'+i)), []byte(s))
	}
	t.Run("corpus", func(t *testing.T) {
		dir := testutil.CorpusDir(t)
		var files []string
		for _, pat := range []string{"lab/*.report", "lab/*.report.gz", "lab/raw-*.trace", "public/torvalds-linux-ftrace.rst/fg_*.txt",
			"public/brendangregg-perf-tools/extracted/funcgraph_*.txt", "public/PacktPublishing-Linux-Kernel-Debugging/*.txt",
			"public/eclipse-tracecompass-incubator/*.txt", "public/rostedt-trace-cmd/report_function_graph*.txt"} {
			files = append(files, testutil.Glob(t, filepath.Join(dir, pat))...)
		}
		for _, f := range files {
			data := readMaybeGz(t, f)
			if len(data) > headSize {
				data = data[:headSize]
			}
			check(t, filepath.Base(f), data)
		}
	})
}
