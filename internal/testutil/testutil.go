// Package testutil holds helpers shared by the tests of this module: where
// the shared corpus of real captures is, globs that must match, and golden
// files with a single -update flag per test binary.
//
// It is not for use outside tests.
package testutil

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot returns the module's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// CorpusDir returns the directory of the shared corpus of real captures:
// $TRACEDIFF_CORPUS, or ../shared/corpus beside the repository. The test is
// skipped when it is absent, so that a clone stands alone.
func CorpusDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("TRACEDIFF_CORPUS")
	if dir == "" {
		dir = filepath.Join(RepoRoot(), "..", "shared", "corpus")
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		tb.Skipf("corpus of real captures not found at %s (set TRACEDIFF_CORPUS)", dir)
	}
	return dir
}

// Glob returns the files matching pattern and fails the test when none do,
// so that a renamed fixture cannot silently skip a test.
func Glob(tb testing.TB, pattern string) []string {
	tb.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil {
		tb.Fatalf("glob %s: %v", pattern, err)
	}
	if len(m) == 0 {
		tb.Fatalf("glob %s matched nothing", pattern)
	}
	return m
}

// Golden compares got with the golden file at path, or rewrites the file
// when update is true.
func Golden(tb testing.TB, path string, got []byte, update bool) {
	tb.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("output differs from %s (run with -update after checking):\n%s", path, firstDiff(want, got))
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(want, got []byte) string {
	wl := bytes.Split(want, []byte("\n"))
	gl := bytes.Split(got, []byte("\n"))
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g []byte
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if !bytes.Equal(w, g) {
			return "line " + itoa(i+1) + ":\n  want: " + string(w) + "\n  got:  " + string(g)
		}
	}
	return "(no line differs)"
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}
