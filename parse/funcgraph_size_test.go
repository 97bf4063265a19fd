package parse

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

// TestNodeCapacity checks that the node slice is sized from the input
// rather than grown by doubling: plain and compressed, small and larger
// than the sample the estimate reads.
func TestNodeCapacity(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "funcgraph", "sockmap-good.report"))
	if err != nil {
		t.Fatal(err)
	}
	body := data[bytes.IndexByte(data, '\n')+1:]
	big := append([]byte(nil), data...)
	for len(big) < 3<<20 {
		big = append(big, body...)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(big)
	zw.Close()
	for _, c := range []struct {
		name string
		in   []byte
		max  float64 // capacity over length
	}{
		{"small", data, 1.01},
		{"big", big, 1.15},
		{"big.gz", gz.Bytes(), 1.3},
	} {
		tr, err := Parse(c.name, bytes.NewReader(c.in))
		if err != nil {
			t.Fatal(err)
		}
		n, k := len(tr.Nodes), cap(tr.Nodes)
		if float64(k) > c.max*float64(n)+16 {
			t.Errorf("%s: capacity %d for %d nodes", c.name, k, n)
		}
		t.Logf("%s: capacity %d for %d nodes", c.name, k, n)
	}
}
