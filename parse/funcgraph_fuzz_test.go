package parse

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds adds the small testdata captures matching the globs as seeds.
func fuzzSeeds(f *testing.F, globs ...string) {
	for _, g := range globs {
		m, _ := filepath.Glob(filepath.Join("testdata", "funcgraph", g))
		for _, p := range m {
			if data, err := os.ReadFile(p); err == nil && len(data) < 16<<10 {
				f.Add(data)
			}
		}
	}
}

// fuzzParse runs a function_graph reader on data: it must not panic, and
// when it returns no error the trace's node links must be consistent.
func fuzzParse(t *testing.T, data []byte, f Format, parse func(*Builder, *bufio.Reader) error) {
	b := NewBuilder("fuzz", f, int64(len(data)))
	if err := parse(b, bufio.NewReaderSize(bytes.NewReader(data), 64)); err != nil {
		return
	}
	checkLinks(t, b.Trace())
}

func FuzzTraceCmd(f *testing.F) {
	fuzzSeeds(f, "sockmap-bad.report", "synthetic-*.report", "report_*.txt")
	f.Add([]byte("  a-1 [000] 1.000001: funcgraph_exit:  1.000 us |  } /* f */ (1)\n  a-1 [000] 1.0: funcgraph_entry: func=0x1 depth=0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, data, FormatTraceCmd, parseTraceCmd)
		// The one-pass reading of common lines must agree with the
		// general one.
		fast, slow, ferr, serr := readBothWays(t, data, 64)
		if (ferr == nil) != (serr == nil) {
			t.Fatalf("errors differ: %v, %v", ferr, serr)
		}
		sameTrace(t, "fuzz", fast, slow)
	})
}

func FuzzFtrace(f *testing.F) {
	fuzzSeeds(f, "fg_*.txt", "synthetic-*.trace", "funcgraph_*.txt")
	f.Add([]byte(" 0)  a-1  =>  <idle>-0 \n 0)   ==========> |\n 1) x(); /* = 1 */\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, data, FormatFtrace, parseFtrace) })
}
