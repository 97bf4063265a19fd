package diff

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/tracediff/tracediff/parse"
)

// The HTML report is one self-contained file: the template, its style sheet
// and its script are embedded in the binary and inlined in the page, which
// loads nothing else. A Content-Security-Policy meta tag allows exactly the
// inlined style and script (by hash) and no fetch of any kind, so the page
// works offline from an attachment and a name from a capture could not run
// as a script even if it escaped html/template.
var (
	//go:embed html/report.html.tmpl
	htmlTemplateText string
	//go:embed html/report.css
	htmlCSS string
	//go:embed html/report.js
	htmlJS string

	htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{"inc": func(n int) int { return n + 1 }}).Parse(htmlTemplateText))
)

// Limits that keep the HTML report usable in a browser on a huge result:
// rows of the aligned tree past maxHTMLRows are left out (the JSON output
// has them all), and flame graph frames narrower than minFlameWidth
// percent are not drawn.
const (
	maxHTMLRows   = 20000
	htmlOpenDivs  = 20
	maxFlameDepth = 64
	minFlameWidth = 0.05
	flameRowPx    = 18
)

type htmlPage struct {
	Title       string
	CSP         string
	CSS         template.CSS
	JS          template.JS
	Data        htmlData
	Stats       string
	Inputs      []htmlInput
	Divergences []htmlDiv // the first htmlOpenDivs, listed open
	MoreDivs    []htmlDiv // the rest, in a collapsed list
	Rows        []htmlRow
	Omitted     int
	Flame       htmlFlame
	Notes       []string
	Command     string
}

// htmlData is what the script reads, through html/template's escaping of
// JSON in a script element.
type htmlData struct {
	Schema      string   `json:"schema"`
	Rows        int      `json:"rows"`
	Divergences []string `json:"divergences"`
	DivRows     []int32  `json:"divRows"`
}

type htmlInput struct {
	Side, Path, Format, Size, SHA256 string
	Calls, Tasks                     int
}

type htmlDiv struct {
	ID, Kind, Summary, Path, Good, Bad, Note string
	Also                                     string
	Row                                      int32
}

type htmlRow struct {
	ID, Parent, Size           int32
	Op, Marker, Indent         string
	Good, Bad, GoodDur, BadDur string
	Div                        string
	Collapsed, Hidden, HasKids bool
	DivTarget                  bool
}

type htmlFlame struct {
	Height    int
	Frames    []htmlFrame
	Good, Bad int64
	Skipped   int
}

type htmlFrame struct {
	X, W      string // percent
	Y         int
	Op        string
	Name      string
	Good, Bad int64
}

// renderHTML writes r as one self-contained HTML page: the divergence
// list, the aligned tree in two panes (good left, bad right) with the
// text renderer's colours (good only red, bad only green, changed yellow),
// collapsible rows and search, and a differential flame graph of the two
// captures drawn as inline SVG. Output is deterministic.
func renderHTML(w io.Writer, r *Result, opts RenderOptions) error {
	s := parse.Safe
	gin, bin := inputInfo(opts, 0, r.Good), inputInfo(opts, 1, r.Bad)
	p := &htmlPage{
		Title:   "tracediff: " + s(gin.Path) + " vs " + s(bin.Path),
		CSS:     template.CSS(htmlCSS),
		JS:      template.JS(htmlJS),
		Stats:   r.Stats(),
		Command: s(opts.Command),
		Data:    htmlData{Schema: JSONSchemaID, Divergences: []string{}, DivRows: []int32{}},
	}
	p.CSP = "default-src 'none'; script-src " + cspHash(htmlJS) + "; style-src " + cspHash(htmlCSS) +
		"; img-src 'none'; base-uri 'none'; form-action 'none'"
	for i, t := range []*parse.Trace{r.Good, r.Bad} {
		in := [...]InputInfo{gin, bin}[i]
		hi := htmlInput{Side: [...]string{"good", "bad"}[i], Path: s(in.Path), Format: t.Format.String(),
			Size: "?", SHA256: in.SHA256, Calls: t.Calls(), Tasks: len(t.Tasks)}
		if in.Size >= 0 {
			hi.Size = strconv.FormatInt(in.Size, 10)
		}
		p.Inputs = append(p.Inputs, hi)
	}
	for i := range r.Divergences {
		d := &r.Divergences[i]
		hd := htmlDiv{ID: d.ID, Kind: d.Kind.String(), Summary: s(d.Summary), Path: s(strings.Join(d.Path, " > ")),
			Good: htmlCallees(d.Good), Bad: htmlCallees(d.Bad), Row: d.Row}
		if d.Inconclusive {
			hd.Note = "inconclusive: " + s(d.Why)
		} else if d.Noise {
			hd.Note = "noise: " + s(d.Why)
		}
		if len(d.Also) > 0 {
			hd.Also = fmt.Sprintf("the same change repeats at %d more %s", len(d.Also), plural(len(d.Also), "place", "places"))
		}
		p.Divergences = append(p.Divergences, hd)
		p.Data.Divergences = append(p.Data.Divergences, d.ID)
		p.Data.DivRows = append(p.Data.DivRows, d.Row)
	}
	if len(p.Divergences) > htmlOpenDivs {
		p.Divergences, p.MoreDivs = p.Divergences[:htmlOpenDivs], p.Divergences[htmlOpenDivs:]
	}
	p.Rows, p.Omitted = htmlRows(r)
	p.Data.Rows = len(p.Rows)
	p.Flame = htmlFlameGraph(foldPair(r))
	for _, n := range r.Notes {
		p.Notes = append(p.Notes, "note: "+s(n))
	}
	for _, t := range []*parse.Trace{r.Good, r.Bad} {
		for _, wn := range t.Warnings {
			p.Notes = append(p.Notes, "warning: "+s(wn.Error()))
		}
	}
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, p); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// cspHash returns the Content-Security-Policy source expression that
// allows an inline script or style element with exactly this content.
func cspHash(content string) string {
	sum := sha256.Sum256([]byte(content))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// htmlRows lists the aligned tree in preorder, up to maxHTMLRows rows.
// Subtrees that are the same on both sides start collapsed, and so do
// one-sided subtrees below the first two levels; the rows inside a
// collapsed subtree are hidden until the script expands them.
func htmlRows(r *Result) ([]htmlRow, int) {
	order := r.Preorder()
	omitted := 0
	if len(order) > maxHTMLRows {
		omitted = len(order) - maxHTMLRows
		order = order[:maxHTMLRows]
	}
	pos := make(map[int32]int32, len(order))
	for i, id := range order {
		pos[id] = int32(i)
	}
	divTarget := map[int32]bool{}
	for i := range r.Divergences {
		divTarget[r.Divergences[i].Row] = true
	}
	rows := make([]htmlRow, 0, len(order))
	hiddenUntil := -1 // rows before this position are inside a collapsed subtree
	oneSidedDepth := make(map[int32]int32)
	for i, id := range order {
		row := &r.Rows[id]
		hr := htmlRow{ID: id, Parent: -1, Size: row.Size, Marker: string(row.Op.Marker()),
			Indent: strings.Repeat("  ", int(row.Depth)), HasKids: row.FirstChild != None, DivTarget: divTarget[id]}
		if row.Parent != None {
			hr.Parent = pos[row.Parent]
		}
		hr.Op = [...]string{"same", "changed", "good", "bad"}[row.Op&3]
		name := func(t *parse.Trace, n parse.NodeID, count int64) string {
			if row.Depth == 0 {
				return "task " + r.Pairs[row.Pair].Label
			}
			if n == parse.None {
				return ""
			}
			nm := t.NameOf(n)
			if count > 1 {
				nm += fmt.Sprintf(" x%d", count)
			}
			return nm
		}
		if row.Op != OpBadOnly {
			hr.Good = parse.Safe(name(r.Good, row.Good, row.GoodN))
			hr.GoodDur = durCol(row.GoodDur, row.Good == parse.None && row.Depth > 0)
		}
		if row.Op != OpGoodOnly {
			hr.Bad = parse.Safe(name(r.Bad, row.Bad, row.BadN))
			hr.BadDur = durCol(row.BadDur, row.Bad == parse.None && row.Depth > 0)
		}
		if row.Depth == 0 {
			hr.GoodDur, hr.BadDur = "", ""
		}
		if row.Div != None && int(row.Div) < len(r.Divergences) {
			hr.Div = r.Divergences[row.Div].ID
		}
		// One-sided subtrees open two levels deep from where they start.
		if row.Op == OpGoodOnly || row.Op == OpBadOnly {
			if d, ok := oneSidedDepth[row.Parent]; ok {
				oneSidedDepth[id] = d + 1
			} else {
				oneSidedDepth[id] = 0
			}
		}
		if hr.HasKids && (row.Op == OpSame || oneSidedDepth[id] >= 2) {
			hr.Collapsed = true
		}
		hr.Hidden = i < hiddenUntil
		if hr.Collapsed && !hr.Hidden {
			hiddenUntil = i + int(row.Size)
		}
		rows = append(rows, hr)
	}
	return rows, omitted
}

// htmlCallees lists one side's callees of a divergence on one line.
func htmlCallees(cs []Callee) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, parse.Safe(c.Name)+c.countDur())
	}
	return strings.Join(parts, ", ")
}

// flameNode is a frame of the merged call-path tree of both captures,
// with inclusive weights on each side.
type flameNode struct {
	name      string
	good, bad int64
	kids      map[string]*flameNode
}

// htmlFlameGraph lays out a differential flame graph (an icicle: roots on
// top) of the folded call paths of both captures. A frame's width is its
// inclusive weight on both sides together, so frames of either side are
// visible; its colour says whether it is on the good side only, the bad
// side only, on both with a different weight, or the same. Siblings are in
// name order, as in FlameGraph's, so the layout is deterministic.
func htmlFlameGraph(fp foldedPair) htmlFlame {
	root := &flameNode{kids: map[string]*flameNode{}}
	for i, p := range fp.Paths {
		g, b := fp.Good[i], fp.Bad[i]
		root.good += g
		root.bad += b
		n := root
		for depth, f := range strings.Split(p, ";") {
			if depth >= maxFlameDepth {
				break
			}
			k, ok := n.kids[f]
			if !ok {
				k = &flameNode{name: f, kids: map[string]*flameNode{}}
				n.kids[f] = k
			}
			k.good += g
			k.bad += b
			n = k
		}
	}
	fl := htmlFlame{Good: root.good, Bad: root.bad}
	total := float64(root.good + root.bad)
	if total == 0 {
		return fl
	}
	maxDepth := 0
	var walk func(n *flameNode, x float64, depth int)
	walk = func(n *flameNode, x float64, depth int) {
		names := make([]string, 0, len(n.kids))
		for k := range n.kids {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, nm := range names {
			k := n.kids[nm]
			w := 100 * float64(k.good+k.bad) / total
			if w < minFlameWidth {
				fl.Skipped++
				x += w
				continue
			}
			op := "changed"
			switch {
			case k.bad == 0:
				op = "good"
			case k.good == 0:
				op = "bad"
			case k.good == k.bad:
				op = "same"
			}
			fl.Frames = append(fl.Frames, htmlFrame{
				X: strconv.FormatFloat(x, 'f', 4, 64) + "%", W: strconv.FormatFloat(w, 'f', 4, 64) + "%",
				Y: depth * flameRowPx, Op: op, Name: k.name, Good: k.good, Bad: k.bad,
			})
			maxDepth = max(maxDepth, depth)
			walk(k, x, depth+1)
			x += w
		}
	}
	walk(root, 0, 0)
	fl.Height = (maxDepth + 1) * flameRowPx
	return fl
}
