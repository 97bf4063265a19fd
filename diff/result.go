package diff

import (
	"fmt"
	"strings"

	"github.com/tracediff/tracediff/parse"
)

// Op says how a row of the aligned tree relates the two captures.
type Op uint8

// Row operations.
const (
	OpSame     Op = iota // matched on both sides, identical subtree (and run length)
	OpChanged            // matched on both sides, something below (or its run length) differs
	OpGoodOnly           // present in the good capture only
	OpBadOnly            // present in the bad capture only
)

var opNames = [...]string{"same", "changed", "good-only", "bad-only"}

// String returns "same", "changed", "good-only" or "bad-only".
func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", int(o))
}

// Marker returns the one-character diff marker of o: ' ', '~', '-' or '+'.
func (o Op) Marker() byte { return " ~-+"[o&3] }

// Kind classifies a divergence. Kinds are listed strongest first.
type Kind uint8

// Divergence kinds.
const (
	// KindSubstitution: a call matched on both sides calls something else
	// in the same place ("inet_recvmsg: good -> tcp_bpf_recvmsg, bad ->
	// tcp_recvmsg").
	KindSubstitution Kind = iota
	// KindOneSided: a matched call makes calls on one side only.
	KindOneSided
	// KindCount: a run of identical calls repeats a different number of
	// times ("_raw_spin_lock x37 vs x12"), or a stack's share of the
	// samples shifts.
	KindCount
	// KindTiming: a matched call takes much longer on one side, and no
	// single callee explains the difference.
	KindTiming
	// KindTask: a task (by comm) ran in one capture only.
	KindTask
)

var kindNames = [...]string{"substitution", "one-sided", "count", "timing", "task"}

// String returns the kind's stable name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// None marks the absence of a row index.
const None int32 = -1

// Row is one node of the aligned tree: a call (or a folded run of identical
// calls) matched on both sides, or present on one side only. Rows are linked
// by index like the model's nodes.
type Row struct {
	Op          Op
	Key         int32        // index into Result.Names: the matching name
	Good, Bad   parse.NodeID // representative node on each side, or parse.None
	GoodN, BadN int64        // calls folded into this row (run length), or stack weight
	GoodDur     int64        // total duration in ns of the good calls, -1 unknown
	BadDur      int64        // total duration in ns of the bad calls, -1 unknown
	Parent      int32
	FirstChild  int32
	NextSibling int32
	Depth       int32 // 0 for a task row
	Size        int32 // rows in the subtree, this one included
	Div         int32 // index into Result.Divergences of the divergence at this row, or None
	Flags       parse.Flags
	Pair        int32 // index into Result.Pairs
}

// Callee is a call that one side makes where the other does not.
type Callee struct {
	Name  string // raw name of the representative call, as printed
	Row   int32  // its row in the aligned tree
	Count int64  // calls (or stack weight) it stands for
	Dur   int64  // total duration in ns, -1 unknown
	Line  int    // source line of the representative call, 0 unknown
}

// countDur returns what follows a callee's name in every renderer: its
// repeat count when above one and its duration when known, e.g.
// " x3 12.500us".
func (c *Callee) countDur() string {
	s := ""
	if c.Count > 1 {
		s = fmt.Sprintf(" x%d", c.Count)
	}
	if c.Dur >= 0 {
		s += " " + parse.FormatDuration(c.Dur)
	}
	return s
}

// Divergence is a place where the two captures differ, with what a reader
// needs to judge it.
type Divergence struct {
	ID           string // stable id: "D1", "D2", ... in rank order
	Kind         Kind
	Row          int32    // the row it sits at: the calling row for substitutions and one-sided calls
	Path         []string // names from the task down to the row (task label first)
	Good, Bad    []Callee // what only the good / only the bad side calls there
	GoodN, BadN  int64    // for count divergences: run lengths or weights of the row
	GoodDur      int64    // durations of the row on each side, ns, -1 unknown
	BadDur       int64
	Inconclusive bool   // inside a region with lost events, orphans or a cut capture
	Why          string // why it is inconclusive, or noise
	Noise        bool   // in interrupt context nested in a task
	// Separation, 0..2, says how consistently the call site tells the
	// captures apart: for each side, the share of the calling function's
	// calls that make this side's callees there, less the same share in the
	// other capture. 2 means every call in good does what no call in bad
	// does, and the reverse.
	Separation float64
	Support    int64   // how often the separating edges occur
	Also       []int32 // rows where the same change repeats (same path, same callees)
	Summary    string  // one line: "inet_recvmsg: good -> tcp_bpf_recvmsg, bad -> tcp_recvmsg"
	// Detail adds what the summary cannot say in one line, e.g. that one
	// side's callee goes on to call the other side's: an extra layer.
	Detail string
	Pair   int32
}

// Pair is a task of the good capture matched with one of the bad capture.
type Pair struct {
	Good, Bad  int     // task indices, -1 when the task is on one side only
	Label      string  // "comm" or the task label
	Row        int32   // the task's row in the aligned tree
	Similarity float64 // 0..1, similarity of the two tasks' call sets
	Pinned     bool    // chosen by the user
}

// Result is the outcome of comparing two captures: plain data that every
// renderer (text, JSON, Markdown, HTML, folded, the TUI) reads. No renderer
// re-derives alignment.
type Result struct {
	Good, Bad   *parse.Trace
	Names       []string // matching names, indexed by Row.Key
	Rows        []Row
	Pairs       []Pair
	Divergences []Divergence // ranked, strongest first
	Notes       []string     // how the comparison was done: fallbacks, hidden noise
	Mode        string       // "calls" (aligned call sequences) or "stacks" (calling-context trees)
	Options     Options
}

// Equal reports whether the captures showed no divergence.
func (r *Result) Equal() bool { return len(r.Divergences) == 0 }

// RowName returns the display name of a row: the raw name on the good side
// (or the bad side), with the bad side's raw name after " | " when the two
// differ (as offsets do: "inet_recvmsg+233 | inet_recvmsg+78").
func (r *Result) RowName(i int32) string {
	row := &r.Rows[i]
	if row.Depth == 0 {
		return r.Pairs[row.Pair].Label
	}
	var g, b string
	if row.Good != parse.None {
		g = r.Good.NameOf(row.Good)
	}
	if row.Bad != parse.None {
		b = r.Bad.NameOf(row.Bad)
	}
	switch {
	case g == "":
		return b
	case b == "" || b == g:
		return g
	}
	return g + " | " + b
}

// Children calls fn for each child row of i.
func (r *Result) Children(i int32, fn func(int32)) {
	for c := r.Rows[i].FirstChild; c != None; c = r.Rows[c].NextSibling {
		fn(c)
	}
}

// PathOf returns the display names from the task row down to row i.
func (r *Result) PathOf(i int32) []string {
	var p []string
	for n := i; n != None; n = r.Rows[n].Parent {
		p = append(p, r.RowName(n))
	}
	for a, b := 0, len(p)-1; a < b; a, b = a+1, b-1 {
		p[a], p[b] = p[b], p[a]
	}
	return p
}

// Stats summarises a result for a status line.
func (r *Result) Stats() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d %s", len(r.Divergences), plural(len(r.Divergences), "divergence", "divergences"))
	counts := map[Kind]int{}
	for _, d := range r.Divergences {
		counts[d.Kind]++
	}
	var parts []string
	for k := KindSubstitution; k <= KindTask; k++ {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	if len(parts) > 0 {
		sb.WriteString(" (" + strings.Join(parts, ", ") + ")")
	}
	return sb.String()
}
