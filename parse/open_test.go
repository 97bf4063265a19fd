package parse

import (
	"bytes"
	"compress/gzip"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// TestParseCompressed checks that Parse reads gzip, zstd and xz input as
// it reads the plain file.
func TestParseCompressed(t *testing.T) {
	path := filepath.Join("testdata", "funcgraph", "sockmap-good.report")
	plain := readAll(t, path)
	want := dumpOf(t, "sockmap-good.report", plain)
	compress := map[string]func([]byte) []byte{
		"gzip": func(b []byte) []byte {
			var buf bytes.Buffer
			w := gzip.NewWriter(&buf)
			w.Write(b)
			w.Close()
			return buf.Bytes()
		},
		"zstd": func(b []byte) []byte {
			w, err := zstd.NewWriter(nil)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			return w.EncodeAll(b, nil)
		},
		"xz": func(b []byte) []byte {
			var buf bytes.Buffer
			w, err := xz.NewWriter(&buf)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(b)
			w.Close()
			return buf.Bytes()
		},
	}
	for name, c := range compress {
		data := c(plain)
		if bytes.Equal(data[:8], plain[:8]) {
			t.Fatalf("%s: not compressed", name)
		}
		if got := dumpOf(t, "sockmap-good.report", data); got != want {
			t.Errorf("%s: the model differs from the plain file's", name)
		}
	}
	// A truncated compressed stream is an error naming the input.
	gz := compress["gzip"](plain)
	_, err := Parse("cut.report.gz", bytes.NewReader(gz[:len(gz)/2]))
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("cut.report.gz")) {
		t.Errorf("truncated gzip: err = %v", err)
	}
}

func dumpOf(t *testing.T, name string, data []byte) string {
	t.Helper()
	tr, err := Parse(name, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Dump(&buf, tr); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}
