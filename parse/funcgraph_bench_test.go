package parse

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/tracediff/tracediff/internal/testutil"
)

var (
	largeOnce sync.Once
	largeData []byte
)

// largeReport returns the corpus's large.report, decompressed once.
func largeReport(b *testing.B) []byte {
	dir := testutil.CorpusDir(b)
	largeOnce.Do(func() {
		raw, err := os.ReadFile(filepath.Join(dir, "lab", "large.report.zst"))
		if err != nil {
			return
		}
		zr, err := zstd.NewReader(nil)
		if err != nil {
			return
		}
		defer zr.Close()
		largeData, _ = zr.DecodeAll(raw, nil)
	})
	if largeData == nil {
		b.Skip("lab/large.report.zst not readable")
	}
	return largeData
}

func benchParse(b *testing.B, name string, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	lines := bytes.Count(data, []byte("\n"))
	b.ResetTimer()
	for b.Loop() {
		if _, err := Parse(name, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(lines), "ns/line")
}

// BenchmarkParseLarge reads the corpus's 374 MB trace-cmd report (3 million
// lines of a loaded system) from memory.
func BenchmarkParseLarge(b *testing.B) {
	benchParse(b, "large.report", largeReport(b))
}

// BenchmarkParseSockmap reads the small sockmap report.
func BenchmarkParseSockmap(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "funcgraph", "sockmap-good.report"))
	if err != nil {
		b.Fatal(err)
	}
	benchParse(b, "sockmap-good.report", data)
}

// BenchmarkParseRawFtrace reads the raw ftrace capture of the same request.
func BenchmarkParseRawFtrace(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "funcgraph", "raw-funcgraph-proc.trace"))
	if err != nil {
		b.Fatal(err)
	}
	benchParse(b, "raw-funcgraph-proc.trace", data)
}

// TestParseAllocsPerLine checks that the scanning loop allocates nothing per
// line: a report of 100 copies of the sockmap request allocates about as
// often as one copy.
func TestParseAllocsPerLine(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "funcgraph", "sockmap-good.report"))
	if err != nil {
		t.Fatal(err)
	}
	body := data[bytes.IndexByte(data, '\n')+1:]
	big := append([]byte(nil), data...)
	for i := 0; i < 99; i++ {
		big = append(big, body...)
	}
	lines := bytes.Count(big, []byte("\n"))
	allocs := testing.AllocsPerRun(3, func() {
		if _, err := Parse("big.report", bytes.NewReader(big)); err != nil {
			t.Fatal(err)
		}
	})
	if per := allocs / float64(lines); per > 0.01 {
		t.Errorf("%.0f allocations for %d lines: %.3f a line", allocs, lines, per)
	}
	t.Logf("%.0f allocations for %d lines", allocs, lines)
}
