package parse

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tracediff/tracediff/internal/testutil"
)

func dumpString(t *testing.T, tr *Trace) string {
	t.Helper()
	var sb strings.Builder
	if err := Dump(&sb, tr); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// TestTraceDatVariants reads one synthetic capture written in every file
// version, compression, byte order and long size, and checks that each
// gives the same model, kept as a golden dump. The capture exercises what
// the corpus does not: time extends, absolute time stamps, padding, lost
// events (counted and not), an exit without entry, an entry without exit,
// sched_switch and print events, module and unknown addresses.
func TestTraceDatVariants(t *testing.T) {
	var first string
	for _, v := range []struct {
		version    int
		comp       string
		big, long4 bool
	}{
		{7, "zstd", false, false}, {7, "zlib", false, false}, {7, "none", false, false},
		{7, "zlib", true, false}, {7, "zstd", false, true}, {7, "none", true, true},
		{6, "none", false, false}, {6, "none", true, true},
	} {
		name := strings.Join([]string{"v" + string(rune('0'+v.version)), v.comp,
			map[bool]string{false: "le", true: "be"}[v.big], map[bool]string{false: "long8", true: "long4"}[v.long4]}, "-")
		t.Run(name, func(t *testing.T) {
			data := datTestSpec(v.version, v.comp, v.big, v.long4).bytes()
			tr, err := ParseTraceDat("synth", bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			got := dumpString(t, tr)
			if first == "" {
				first = got
				testutil.Golden(t, filepath.Join("testdata", "tracedat", "synthetic.golden"), []byte(got), *update)
			} else if got != first {
				t.Errorf("differs from the first variant:\n%s\nwant:\n%s", got, first)
			}
			// The stream path (parse.Parse) must agree with the ReaderAt path.
			tr2, err := Parse("synth", bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if d := dumpString(t, tr2); d != got {
				t.Errorf("Parse and ParseTraceDat differ:\n%s\n%s", d, got)
			}
		})
	}
}

// TestTraceDatSeeds keeps the committed fuzz seeds equal to what the
// writer produces (go test -update rewrites them).
func TestTraceDatSeeds(t *testing.T) {
	for name, s := range map[string]*datSpec{
		"synthetic-v7-zstd.dat":    datTestSpec(7, "zstd", false, false),
		"synthetic-v7-zlib-be.dat": datTestSpec(7, "zlib", true, false),
		"synthetic-v6-long4.dat":   datTestSpec(6, "none", false, true),
	} {
		path := filepath.Join("testdata", "tracedat", name)
		testutil.Golden(t, path, s.bytes(), *update)
	}
}

func TestTraceDatErrors(t *testing.T) {
	good := datTestSpec(7, "zstd", false, false).bytes()
	v6 := datTestSpec(6, "none", false, false).bytes()
	mod := func(b []byte, f func([]byte) []byte) []byte { return f(append([]byte(nil), b...)) }
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"newer version", mod(good, func(b []byte) []byte { b[10] = '8'; return b }), "offset 10: trace.dat file version 8 is newer than this reader supports"},
		{"version 5", mod(good, func(b []byte) []byte { b[10] = '5'; return b }), "older than this reader supports"},
		{"bad endianness", mod(good, func(b []byte) []byte { b[12] = 7; return b }), "offset 12: expected endianness 0 (little) or 1 (big), found 7"},
		{"bad long size", mod(good, func(b []byte) []byte { b[13] = 3; return b }), "offset 13: expected a long size of 4 or 8 bytes"},
		{"bad page size", mod(good, func(b []byte) []byte { b[14] = 3; return b }), "offset 14: expected a page size that is a power of two"},
		{"unknown compression", mod(good, func(b []byte) []byte { copy(b[18:], "lz4\x00"); return b }), "offset 18: expected compression none, zstd or zlib"},
		{"header only", good[:20], "truncated input"},
		{"options offset past the end", mod(good, func(b []byte) []byte {
			b[len("\x17\x08Dtracing7\x00")+6+len("zstd\x001.0\x00")+7] = 0x7f
			return b
		}), "expected an options section at offset"},
		{"v6 truncated in kallsyms", v6[:900], "truncated input"},
		{"v6 bad data kind", mod(v6, func(b []byte) []byte {
			i := bytes.Index(b, []byte("flyrecord"))
			copy(b[i:], "flyaway")
			return b
		}), "expected \"options\", \"latency\" or \"flyrecord\""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseTraceDat("x.dat", bytes.NewReader(c.data), int64(len(c.data)))
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.File != "x.dat" || pe.Offset < 0 && pe.Line == 0 {
				t.Errorf("error %v (%T) is not a positioned *parse.Error", err, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

// TestTraceDatTruncated cuts real captures at 100 random offsets each: every
// cut gives an error (a trace.dat ends with its options), never a panic,
// and the per-CPU decoding goroutines end with the read.
func TestTraceDatTruncated(t *testing.T) {
	before := runtime.NumGoroutine()
	defer func() {
		for i := 0; i < 100 && runtime.NumGoroutine() > before; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			t.Errorf("%d goroutines before the reads, %d after", before, n)
		}
	}()
	files := testutil.Glob(t, filepath.Join("testdata", "tracedat", "*.dat"))
	if c := corpusFileIfPresent(t, "sockmap-bad.dat"); c != "" {
		files = append(files, c)
	}
	const seed = 20240611
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 100; i++ {
			n := rng.IntN(len(data))
			_, err := ParseTraceDat("cut.dat", bytes.NewReader(data[:n]), int64(n))
			if err == nil {
				t.Errorf("%s cut at %d: no error", filepath.Base(path), n)
				continue
			}
			var pe *Error
			if !errors.As(err, &pe) || strings.Contains(err.Error(), "internal error") {
				t.Errorf("%s cut at %d: %v", filepath.Base(path), n, err)
			}
		}
	}
}

// TestTraceDatNoData: a capture whose CPUs recorded nothing is not a
// trace to compare, and says so (without starting a decoder).
func TestTraceDatNoData(t *testing.T) {
	s := datTestSpec(7, "none", false, false)
	s.cpus = [][]datPage{nil, nil}
	data := s.bytes()
	_, err := ParseTraceDat("x.dat", bytes.NewReader(data), int64(len(data)))
	if !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), "holds no call or event") {
		t.Errorf("got %v, want a capture that holds no call or event", err)
	}
}

// TestTraceDatErrorStopsDecoders: when one CPU's data turns out corrupt
// while another CPU still has records to hand over, the read returns the
// error and every decoding goroutine ends.
func TestTraceDatErrorStopsDecoders(t *testing.T) {
	s := datTestSpec(7, "none", false, false)
	const mark = 0x0123456789abcdef // CPU 0's page timestamp, to find it
	s.cpus[0] = []datPage{{ts: mark, events: []rbEvent{{payload: s.entry(100, addrDoWork, 0)}}}}
	s.cpus[1] = nil
	for i := uint64(0); i < 4000; i++ { // more records than its batches hold
		ts := mark + 1 + i*1000
		s.cpus[1] = append(s.cpus[1], datPage{ts: ts, events: []rbEvent{
			{payload: s.entry(200, addrHelper, 0)},
			{delta: 10, payload: s.exit(200, addrHelper, 0, ts, ts+10)},
		}})
	}
	data := s.bytes()
	i := bytes.Index(data, binary.LittleEndian.AppendUint64(nil, mark))
	if i < 0 {
		t.Fatal("CPU 0's page not found")
	}
	binary.LittleEndian.PutUint64(data[i+8:], 1<<20) // its commit: past the page
	before := runtime.NumGoroutine()
	_, err := ParseTraceDat("x.dat", bytes.NewReader(data), int64(len(data)))
	if err == nil || !strings.Contains(err.Error(), "(CPU 0) to commit at most") {
		t.Fatalf("got %v, want an error about CPU 0's page", err)
	}
	for i := 0; i < 100 && runtime.NumGoroutine() > before; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines before the read, %d after", before, n)
	}
}

// corpusFileIfPresent returns the path of a corpus lab file, or "" when the
// corpus is absent.
func corpusFileIfPresent(t *testing.T, name string) string {
	dir := os.Getenv("TRACEDIFF_CORPUS")
	if dir == "" {
		dir = filepath.Join(testutil.RepoRoot(), "..", "shared", "corpus")
	}
	p := filepath.Join(dir, "lab", name)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// FuzzTraceDat: no input panics or hangs the reader, and an error comes
// back as a positioned *Error, never with a partial trace.
func FuzzTraceDat(f *testing.F) {
	for _, s := range []*datSpec{datTestSpec(7, "zstd", false, false), datTestSpec(7, "zlib", true, true),
		datTestSpec(7, "none", false, false), datTestSpec(6, "none", true, false)} {
		f.Add(s.bytes())
	}
	for _, path := range testutil.Glob(f, filepath.Join("testdata", "tracedat", "*.dat")) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := ParseTraceDat("fuzz.dat", bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if tr != nil {
				t.Fatal("error with a partial trace")
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *parse.Error", err)
			}
			if strings.Contains(err.Error(), "internal error") {
				t.Fatal(err)
			}
			return
		}
		var sb strings.Builder
		if err := Dump(&sb, tr); err != nil {
			t.Fatal(err)
		}
	})
}

// BenchmarkTraceDatLarge reads the corpus's large.dat (43 MB, 2.2 million
// calls) into the model.
func BenchmarkTraceDatLarge(b *testing.B) {
	path := filepath.Join(testutil.CorpusDir(b), "lab", "large.dat")
	st, err := os.Stat(path)
	if err != nil {
		b.Skip(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseTraceDatFile(path); err != nil {
			b.Fatal(err)
		}
	}
}
