package diff

import (
	"path/filepath"
	"testing"

	"github.com/tracediff/tracediff/internal/testutil"
)

// BenchmarkCompareNoisy aligns the two whole-system captures of the corpus
// (about 500k lines each): the comparison alone, parsing excluded.
func BenchmarkCompareNoisy(b *testing.B) {
	dir := testutil.CorpusDir(b)
	g := mustParse(b, filepath.Join(dir, "lab/noisy-good.report.gz"))
	bad := mustParse(b, filepath.Join(dir, "lab/noisy-bad.report.gz"))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Compare(g, bad, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompareLarge compares the corpus's largest capture (3M lines,
// 2.16M calls) with a second copy of itself, parsed separately.
func BenchmarkCompareLarge(b *testing.B) {
	dir := testutil.CorpusDir(b)
	path := filepath.Join(dir, "lab/large.report.zst")
	g := mustParse(b, path)
	bad := mustParse(b, path)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Compare(g, bad, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
