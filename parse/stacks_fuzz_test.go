package parse

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzStacks runs parse on in and checks the invariant of every stack
// reader: no panic and, when it reads without error, every sample is a
// consistent chain with a count of zero or more.
func fuzzStacks(t *testing.T, parse func(*Builder, *bufio.Reader) error, in []byte) {
	b := NewBuilder("fuzz", FormatUnknown, -1)
	if err := parse(b, bufio.NewReader(bytes.NewReader(in))); err != nil {
		if _, ok := err.(*Error); !ok {
			t.Fatalf("error %T is not a *Error: %v", err, err)
		}
		return
	}
	tr := b.Trace()
	for _, s := range tr.Samples {
		if err := checkChain(tr, s); err != nil {
			t.Fatalf("sample at line %d: %v", s.Line, err)
		}
	}
}

// addSeeds adds the testdata/stacks files whose names match glob.
func addSeeds(f *testing.F, glob string) {
	m, _ := filepath.Glob(filepath.Join("testdata", "stacks", glob))
	for _, p := range m {
		if strings.HasSuffix(p, ".golden") {
			continue
		}
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
}

func FuzzBpftrace(f *testing.F) {
	addSeeds(f, "b*.txt")
	addSeeds(f, "seed-*.txt")
	f.Add([]byte("@[\n    a+1\n, x]: 3\n@[1, 2, \n\tffff b+2 (/l)\n]:\n[1, 2)  3 |@|\nLost 3 events\n"))
	f.Fuzz(func(t *testing.T, in []byte) { fuzzStacks(t, parseBpftrace, in) })
}

func FuzzBpftraceJSON(f *testing.F) {
	addSeeds(f, "*.ndjson")
	f.Add([]byte(`{"type": "map", "data": {"@": {"x,\n a+1\n,y": [{"count": 2}]}}}` + "\n"))
	f.Fuzz(func(t *testing.T, in []byte) { fuzzStacks(t, parseBpftraceJSON, in) })
}

func FuzzPerfScript(f *testing.F) {
	addSeeds(f, "perf-*.txt")
	f.Add([]byte("java  3244 cpu-clock: \n\t    7f1e214c24d9 SpinPause (/lib.so)\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) { fuzzStacks(t, parsePerfScript, in) })
}

func FuzzFolded(f *testing.F) {
	addSeeds(f, "folded-*.txt")
	f.Add([]byte("a;b c;d 3\n;; 1\n"))
	f.Fuzz(func(t *testing.T, in []byte) { fuzzStacks(t, parseFolded, in) })
}
