package diff

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tracediff/tracediff/parse"
)

// svgWidth is the width in pixels of the SVG flame graph.
const svgWidth = 1200

// svgFill are the frame colours, those of the HTML report.
var svgFill = map[string]string{"good": "#e57373", "bad": "#81c784", "changed": "#ffd54f", "same": "#cfcfcf"}

// renderSVG writes a differential flame graph of the two captures as one
// standalone SVG file, drawn from the same layout as the HTML report's: an
// icicle with roots on top, a frame's width its calls (or stack weight) in
// both captures together, red where only the good capture has the path,
// green where only the bad one has it, yellow where both have it with
// different weights. Each frame's title gives both counts. Names are XML
// text, escaped; the file holds no script.
func renderSVG(w io.Writer, r *Result, opts RenderOptions) error {
	fl := htmlFlameGraph(foldPair(r))
	top := 44
	height := top + fl.Height + 10
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="monospace" font-size="11">
`, svgWidth, height, svgWidth, height)
	fmt.Fprintf(bw, "<title>%s</title>\n", esc("tracediff: "+r.Good.Path+" (good) vs "+r.Bad.Path+" (bad)"))
	fmt.Fprintf(bw, `<rect width="100%%" height="100%%" fill="#ffffff"/>
<text x="4" y="16" font-size="13">%s</text>
<text x="4" y="34"><tspan fill="#c62828">good only</tspan> · <tspan fill="#2e7d32">bad only</tspan> · <tspan fill="#f9a825">changed weight</tspan> · same · %d good calls, %d bad</text>
`, esc(fmt.Sprintf("tracediff: %s (good) vs %s (bad): %s", r.Good.Path, r.Bad.Path, r.Stats())), fl.Good, fl.Bad)
	for _, f := range fl.Frames {
		x := pct(f.X) * svgWidth / 100
		wd := pct(f.W) * svgWidth / 100
		y := top + f.Y
		fmt.Fprintf(bw, `<g><title>%s</title><rect x="%.2f" y="%d" width="%.2f" height="%d" fill="%s" stroke="#ffffff" stroke-width="0.5"/>`,
			esc(fmt.Sprintf("%s: %d in good, %d in bad", f.Name, f.Good, f.Bad)), x, y, wd, flameRowPx-1, svgFill[f.Op])
		// About 7 pixels a character at this size; label only what fits.
		if n := int(wd-4) / 7; n >= 3 {
			label := f.Name
			if len([]rune(label)) > n {
				label = string([]rune(label)[:n-2]) + ".."
			}
			fmt.Fprintf(bw, `<text x="%.2f" y="%d">%s</text>`, x+2, y+12, esc(label))
		}
		bw.WriteString("</g>\n")
	}
	if fl.Skipped > 0 {
		fmt.Fprintf(bw, "<!-- %d frames too narrow to draw -->\n", fl.Skipped)
	}
	bw.WriteString("</svg>\n")
	return bw.Flush()
}

// pct reads "12.3456%".
func pct(s string) float64 {
	v, _ := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	return v
}

// esc makes text from a capture safe as XML character data: control
// characters become visible escapes first (XML 1.0 cannot hold them), then
// markup characters are escaped.
func esc(s string) string {
	var sb strings.Builder
	xml.EscapeText(&sb, []byte(parse.Safe(s)))
	return sb.String()
}
