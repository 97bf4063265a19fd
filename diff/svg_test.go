package diff

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// wellFormed parses b as XML and returns the names of its elements.
func wellFormed(t *testing.T, b []byte) []string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	var names []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			names = append(names, se.Name.Local)
		}
	}
}

func TestSVGSockmap(t *testing.T) {
	res, opts := sockmapExample(t)
	out := render(t, res, FormatSVG, opts)
	els := wellFormed(t, out)
	if els[0] != "svg" {
		t.Fatalf("root element %q", els[0])
	}
	for _, want := range []string{">tcp_bpf_recvmsg<", ">tcp_recvmsg<", "tcp_bpf_recvmsg: 37 in good, 0 in bad", `fill="#e57373"`, `fill="#81c784"`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

// Hostile names stay text: no element is made from them and no raw ESC
// reaches the file.
func TestHostileSVG(t *testing.T) {
	r := hostileCapture(t)
	out := render(t, r, FormatSVG, hostileOptions())
	for _, el := range wellFormed(t, out) {
		switch el {
		case "svg", "title", "rect", "text", "tspan", "g":
		default:
			t.Errorf("element <%s> in the SVG", el)
		}
	}
	if bytes.IndexByte(out, 0x1b) >= 0 {
		t.Error("raw ESC in the SVG")
	}
	if strings.Contains(string(out), "<script") {
		t.Error("a script element in the SVG")
	}
}
