package diff

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"

	"github.com/tracediff/tracediff/parse"
)

// JSONSchemaID is the value of the "schema" field of the JSON output. It
// changes only when a field is removed or changes meaning; fields may be
// added within a version. The schema is documented in
// docs/schema/tracediff-1.schema.json.
const JSONSchemaID = "tracediff/1"

// The JSON output mirrors [Result] as plain data. Every list is written as
// [] rather than null, durations are integer nanoseconds with -1 for
// unknown, and names are raw (as printed in the capture): JSON escaping is
// what keeps them inert, so consumers must escape them for their own
// display.
type jsonReport struct {
	Schema      string      `json:"schema"`
	Mode        string      `json:"mode"`
	Equal       bool        `json:"equal"`
	Summary     string      `json:"summary"`
	Options     jsonOptions `json:"options"`
	Inputs      []jsonInput `json:"inputs"`
	Divergences []jsonDiv   `json:"divergences"`
	Pairs       []jsonPair  `json:"pairs"`
	Roots       []int32     `json:"roots"`
	Notes       []string    `json:"notes"`
	// Rows come last and are written one per line by renderJSON, so
	// that a million-row tree is streamed rather than built in memory.
}

type jsonOptions struct {
	Command     string   `json:"command"`
	Focus       string   `json:"focus"`
	Hide        []string `json:"hide"`
	Depth       int      `json:"depth"`
	GoodTask    string   `json:"good_task"`
	BadTask     string   `json:"bad_task"`
	Raw         bool     `json:"raw"`
	IRQ         bool     `json:"irq"`
	Idle        bool     `json:"idle"`
	Tracer      bool     `json:"tracer"`
	Events      bool     `json:"events"`
	TimingMinNS int64    `json:"timing_min_ns"`
	TimingRatio float64  `json:"timing_ratio"`
	MaxTiming   int      `json:"max_timing"`
}

type jsonInput struct {
	Side     string        `json:"side"`
	Path     string        `json:"path"`
	Format   string        `json:"format"`
	Size     int64         `json:"size"`
	SHA256   string        `json:"sha256"`
	Lines    int           `json:"lines"`
	Calls    int           `json:"calls"`
	Samples  int           `json:"samples"`
	Nodes    int           `json:"nodes"`
	Tasks    []jsonTask    `json:"tasks"`
	Lost     []jsonLost    `json:"lost"`
	Warnings []jsonWarning `json:"warnings"`
	Header   []string      `json:"header"`
}

type jsonTask struct {
	Label string `json:"label"`
	PID   int32  `json:"pid"`
	Comm  string `json:"comm"`
	CPU   int16  `json:"cpu"`
	Calls int    `json:"calls"`
}

type jsonLost struct {
	Line  int32 `json:"line"`
	CPU   int16 `json:"cpu"`
	Count int64 `json:"count"`
}

type jsonWarning struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
	Text    string `json:"text"`
}

type jsonCallee struct {
	Name  string `json:"name"`
	Row   int32  `json:"row"`
	Count int64  `json:"count"`
	DurNS int64  `json:"dur_ns"`
	Line  int    `json:"line"`
}

type jsonSide struct {
	Count   int64        `json:"count"`
	DurNS   int64        `json:"dur_ns"`
	Callees []jsonCallee `json:"callees"`
}

type jsonDiv struct {
	ID           string   `json:"id"`
	Rank         int      `json:"rank"`
	Kind         string   `json:"kind"`
	Summary      string   `json:"summary"`
	Detail       string   `json:"detail"`
	Row          int32    `json:"row"`
	Path         []string `json:"path"`
	Good         jsonSide `json:"good"`
	Bad          jsonSide `json:"bad"`
	Inconclusive bool     `json:"inconclusive"`
	Noise        bool     `json:"noise"`
	Why          string   `json:"why"`
	Separation   float64  `json:"separation"`
	Support      int64    `json:"support"`
	Also         []int32  `json:"also"`
	Pair         int32    `json:"pair"`
}

type jsonPair struct {
	Label      string  `json:"label"`
	GoodTask   int     `json:"good_task"`
	BadTask    int     `json:"bad_task"`
	Row        int32   `json:"row"`
	Similarity float64 `json:"similarity"`
	Pinned     bool    `json:"pinned"`
}

type jsonRow struct {
	Index      int32    `json:"index"`
	Op         string   `json:"op"`
	Name       string   `json:"name"`
	Key        string   `json:"key"`
	GoodName   string   `json:"good_name"`
	BadName    string   `json:"bad_name"`
	GoodCount  int64    `json:"good_count"`
	BadCount   int64    `json:"bad_count"`
	GoodDurNS  int64    `json:"good_dur_ns"`
	BadDurNS   int64    `json:"bad_dur_ns"`
	GoodLine   int32    `json:"good_line"`
	BadLine    int32    `json:"bad_line"`
	Depth      int32    `json:"depth"`
	Size       int32    `json:"size"`
	Parent     int32    `json:"parent"`
	Children   []int32  `json:"children"`
	Divergence string   `json:"divergence"`
	Pair       int32    `json:"pair"`
	Flags      []string `json:"flags"`
}

// renderJSON writes r as one JSON document following the tracediff/1
// schema: the report indented two spaces, then "rows", the aligned tree,
// one row per line, streamed. The document ends in a newline.
func renderJSON(w io.Writer, r *Result, opts RenderOptions) error {
	head, err := json.MarshalIndent(buildJSON(r, opts), "", "  ")
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	head = bytes.TrimSuffix(bytes.TrimRight(head, "\n"), []byte("}"))
	bw.Write(bytes.TrimRight(head, "\n"))
	bw.WriteString(",\n  \"rows\": [")
	var jr jsonRow
	for i := range r.Rows {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		line, err := json.Marshal(jsonRowOf(r, int32(i), &jr))
		if err != nil {
			return err
		}
		bw.Write(line)
	}
	if len(r.Rows) > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]\n}\n")
	return bw.Flush()
}

func buildJSON(r *Result, opts RenderOptions) *jsonReport {
	o := r.Options
	rep := &jsonReport{
		Schema:  JSONSchemaID,
		Mode:    r.Mode,
		Equal:   r.Equal(),
		Summary: r.Stats(),
		Options: jsonOptions{
			Command: opts.Command, Focus: o.Focus, Hide: nonNil(o.Hide), Depth: o.Depth,
			GoodTask: o.GoodTask, BadTask: o.BadTask, Raw: o.Raw, IRQ: o.IRQ, Idle: o.Idle, Tracer: o.Tracer, Events: o.Events,
			TimingMinNS: o.TimingMin, TimingRatio: o.TimingRatio, MaxTiming: o.MaxTiming,
		},
		Inputs:      []jsonInput{jsonInputOf("good", r.Good, inputInfo(opts, 0, r.Good)), jsonInputOf("bad", r.Bad, inputInfo(opts, 1, r.Bad))},
		Divergences: make([]jsonDiv, 0, len(r.Divergences)),
		Pairs:       make([]jsonPair, 0, len(r.Pairs)),
		Roots:       make([]int32, 0, len(r.Pairs)),
		Notes:       nonNil(r.Notes),
	}
	for i := range r.Divergences {
		d := &r.Divergences[i]
		rep.Divergences = append(rep.Divergences, jsonDiv{
			ID: d.ID, Rank: i + 1, Kind: d.Kind.String(), Summary: d.Summary, Detail: d.Detail, Row: d.Row, Path: nonNil(d.Path),
			Good:         jsonSide{Count: d.GoodN, DurNS: d.GoodDur, Callees: jsonCallees(d.Good)},
			Bad:          jsonSide{Count: d.BadN, DurNS: d.BadDur, Callees: jsonCallees(d.Bad)},
			Inconclusive: d.Inconclusive, Noise: d.Noise, Why: d.Why,
			Separation: d.Separation, Support: d.Support, Also: nonNil(d.Also), Pair: d.Pair,
		})
	}
	for _, p := range r.Pairs {
		rep.Pairs = append(rep.Pairs, jsonPair{Label: p.Label, GoodTask: p.Good, BadTask: p.Bad, Row: p.Row, Similarity: p.Similarity, Pinned: p.Pinned})
		rep.Roots = append(rep.Roots, p.Row)
	}
	return rep
}

// jsonRowOf fills jr with row i of r, reusing its children slice.
func jsonRowOf(r *Result, i int32, jr *jsonRow) *jsonRow {
	row := &r.Rows[i]
	*jr = jsonRow{
		Index: i, Op: row.Op.String(), Name: r.RowName(i),
		GoodCount: row.GoodN, BadCount: row.BadN, GoodDurNS: row.GoodDur, BadDurNS: row.BadDur,
		Depth: row.Depth, Size: row.Size, Parent: row.Parent, Children: jr.Children[:0],
		Pair: row.Pair, Flags: flagNames(row.Flags),
	}
	if jr.Children == nil {
		jr.Children = []int32{}
	}
	if row.Key >= 0 && int(row.Key) < len(r.Names) {
		jr.Key = r.Names[row.Key]
	}
	if row.Depth == 0 {
		jr.Key = jr.Name
	}
	if row.Good != parse.None {
		jr.GoodName = r.Good.NameOf(row.Good)
		jr.GoodLine = r.Good.Nodes[row.Good].Line
	}
	if row.Bad != parse.None {
		jr.BadName = r.Bad.NameOf(row.Bad)
		jr.BadLine = r.Bad.Nodes[row.Bad].Line
	}
	if row.Div != None && int(row.Div) < len(r.Divergences) {
		jr.Divergence = r.Divergences[row.Div].ID
	}
	r.Children(i, func(c int32) { jr.Children = append(jr.Children, c) })
	return jr
}

// inputInfo returns what the caller said about input i, falling back to
// the trace's path with an unknown size and checksum.
func inputInfo(opts RenderOptions, i int, t *parse.Trace) InputInfo {
	if i < len(opts.Inputs) {
		in := opts.Inputs[i]
		if in.Path == "" {
			in.Path = t.Path
		}
		return in
	}
	return InputInfo{Path: t.Path, Size: -1}
}

func jsonInputOf(side string, t *parse.Trace, in InputInfo) jsonInput {
	ji := jsonInput{
		Side: side, Path: in.Path, Format: t.Format.String(), Size: in.Size, SHA256: in.SHA256,
		Lines: t.Lines, Calls: t.Calls(), Samples: len(t.Samples), Nodes: len(t.Nodes),
		Tasks:    make([]jsonTask, 0, len(t.Tasks)),
		Lost:     make([]jsonLost, 0, len(t.Lost)),
		Warnings: make([]jsonWarning, 0, len(t.Warnings)),
		Header:   nonNil(t.Header),
	}
	for i := range t.Tasks {
		tk := &t.Tasks[i]
		ji.Tasks = append(ji.Tasks, jsonTask{Label: tk.Label(), PID: tk.PID, Comm: tk.Comm, CPU: tk.CPU, Calls: tk.Calls})
	}
	for _, l := range t.Lost {
		ji.Lost = append(ji.Lost, jsonLost{Line: l.Line, CPU: l.CPU, Count: l.Count})
	}
	for i := range t.Warnings {
		wn := &t.Warnings[i]
		ji.Warnings = append(ji.Warnings, jsonWarning{Line: wn.Line, Message: wn.Msg, Text: wn.Error()})
	}
	return ji
}

func jsonCallees(cs []Callee) []jsonCallee {
	out := make([]jsonCallee, 0, len(cs))
	for _, c := range cs {
		out = append(out, jsonCallee{Name: c.Name, Row: c.Row, Count: c.Count, DurNS: c.Dur, Line: c.Line})
	}
	return out
}

// flagNames lists the flags of a row by their stable names.
func flagNames(f parse.Flags) []string {
	out := []string{}
	for _, x := range []struct {
		f parse.Flags
		s string
	}{{parse.FlagIRQ, "irq"}, {parse.FlagOrphan, "orphan"}, {parse.FlagUnclosed, "unclosed"}, {parse.FlagLost, "lost"}, {parse.FlagEvent, "event"}, {parse.FlagFrame, "frame"}} {
		if f&x.f != 0 {
			out = append(out, x.s)
		}
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
