package parse

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tracediff/tracediff/internal/testutil"
)

// head returns the first 64 KiB of a file, decompressed.
func head(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := Decompress(f)
	if err != nil {
		t.Fatal(err)
	}
	buf, err := io.ReadAll(io.LimitReader(r, headSize))
	if err != nil {
		t.Fatal(err)
	}
	return buf
}

func TestDetectFuncgraph(t *testing.T) {
	tests := []struct {
		glob string
		want Format
	}{
		{"testdata/funcgraph/*.report", FormatTraceCmd},
		{"testdata/funcgraph/report_function_graph_*.txt", FormatTraceCmd},
		{"testdata/funcgraph/trace-func-graph.txt", FormatTraceCmd},
		{"testdata/funcgraph/*.trace", FormatFtrace},
		{"testdata/funcgraph/fg_*.txt", FormatFtrace},
		{"testdata/funcgraph/funcg*.txt", FormatFtrace},
		{"testdata/funcgraph/funcslower_example.txt", FormatFtrace},
		{"testdata/funcgraph/ping_*.txt", FormatFtrace},
	}
	for _, tt := range tests {
		for _, path := range testutil.Glob(t, tt.glob) {
			if got := Detect(head(t, path)); got != tt.want {
				t.Errorf("%s: detected %s, want %s", path, got, tt.want)
			}
		}
	}
}

func TestDetectCorpusFuncgraph(t *testing.T) {
	dir := testutil.CorpusDir(t)
	tests := []struct {
		glob string
		want Format
	}{
		{"lab/*.report", FormatTraceCmd},
		{"lab/noisy-*.report.gz", FormatTraceCmd},
		{"lab/large.report.zst", FormatTraceCmd},
		{"lab/raw-*.trace", FormatFtrace},
		{"public/rostedt-trace-cmd/report_function_graph_*.txt", FormatTraceCmd},
		{"public/eclipse-tracecompass-incubator/trace-func-graph.txt", FormatTraceCmd},
		{"public/torvalds-linux-ftrace.rst/fg_*.txt", FormatFtrace},
		{"public/brendangregg-perf-tools/funcgraph_example.txt", FormatFtrace},
		{"public/brendangregg-perf-tools/funcslower_example.txt", FormatFtrace},
		{"public/brendangregg-perf-tools/extracted/*.txt", FormatFtrace},
		{"public/PacktPublishing-Linux-Kernel-Debugging/*.txt", FormatFtrace},
	}
	for _, tt := range tests {
		for _, path := range testutil.Glob(t, filepath.Join(dir, tt.glob)) {
			if got := Detect(head(t, path)); got != tt.want {
				t.Errorf("%s: detected %s, want %s", path, got, tt.want)
			}
		}
	}
}

// TestScoreOtherFormats checks that text of other formats, and function
// tracer (not graph) output, scores 0 for both function_graph readers.
func TestScoreOtherFormats(t *testing.T) {
	dir := testutil.CorpusDir(t)
	for _, pat := range []string{
		"public/brendangregg-FlameGraph/*.txt",
		"public/brendangregg-FlameGraph/*.gz",
		"public/bpftrace-bpftrace/*.txt",
		"public/bpftrace-bpftrace/*/*.txt",
		"public/iovisor-bcc/*.txt",
		"lab/bt-*.txt",
		"public/brendangregg-perf-tools/functrace_example.txt",
		"public/brendangregg-perf-tools/kprobe_example.txt",
		"public/torvalds-linux-ftrace.rst/function_tracer_*.txt",
		"public/torvalds-linux-ftrace.rst/latency_irqsoff_with_stack_trace.txt",
		"public/rostedt-trace-cmd/profile_*.txt",
	} {
		for _, path := range testutil.Glob(t, filepath.Join(dir, pat)) {
			h := head(t, path)
			if s := scoreTraceCmd(h); s != 0 {
				t.Errorf("%s: trace-cmd score %d, want 0", path, s)
			}
			if s := scoreFtrace(h); s != 0 {
				t.Errorf("%s: ftrace score %d, want 0", path, s)
			}
		}
	}
}

func TestScoreSynthetic(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		tc, ftr int
	}{
		{"folded", "bash;do_syscall_64;ksys_read 12\nbash;do_syscall_64;ksys_write 3\n", 0, 0},
		{"perf script", "swapper     0 [000] 12345.678901:   250000 cpu-clock:\n\tffffffff8107f6d5 native_safe_halt+0x5 ([kernel.kallsyms])\n", 0, 0},
		{"bpftrace", "@[\n    tcp_recvmsg+1\n    inet_recvmsg+82\n]: 3\n", 0, 0},
		{"histogram", "[4, 8)        12 |@@@@@@@@                |\n[8, 16)        3 |@@                      |\n", 0, 0},
		{"markdown table", "| a | b |\n|---|---|\n| f() { | x |\n", 0, 0},
		{"prose", "I ran funcgraph; it printed:\nthen { it } stopped;\n", 0, 0},
		{"one ftrace line", " 0)   3.296 us    |          __rcu_read_lock();", 0, 1},
		{"one trace-cmd line", "  bash-12 [001] 2.000001: funcgraph_exit:  1.000 us |  }\n", 1, 0},
	}
	for _, tt := range tests {
		if got := scoreTraceCmd([]byte(tt.in)); got != tt.tc {
			t.Errorf("%s: trace-cmd score %d, want %d", tt.name, got, tt.tc)
		}
		if got := scoreFtrace([]byte(tt.in)); got != tt.ftr {
			t.Errorf("%s: ftrace score %d, want %d", tt.name, got, tt.ftr)
		}
	}
	if got := Detect(bytes.Repeat([]byte("x"), 10)); got != FormatUnknown {
		t.Errorf("x: %s", got)
	}
}
