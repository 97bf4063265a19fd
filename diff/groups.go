package diff

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/tracediff/tracediff/parse"
)

// Edge is a call from one function to another, by normalised names
// (see [parse.Normalize]), so that edges match across captures.
type Edge struct {
	Parent, Child string
}

// String returns "parent -> child".
func (e Edge) String() string { return e.Parent + " -> " + e.Child }

// Sample is one request of a capture, as compared by [CompareGroups] and
// [ClusterRequests].
type Sample struct {
	Trace   *parse.Trace
	Request Request
}

// Label returns "#N" for a request of the only capture, or "file#N" when
// the samples come from several captures and file is set.
func (s *Sample) Label(file bool) string {
	if file {
		return parse.Safe(s.Trace.Path) + "#" + strconv.Itoa(s.Request.Number())
	}
	return "#" + strconv.Itoa(s.Request.Number())
}

type edgeInfo struct {
	depth int32 // depth of the parent below the request root (0: the root)
	dur   int64 // total duration of the child calls, ns
}

// sampleEdges returns the distinct call edges of a request with the
// shallowest depth each occurs at, leaving out events and, unless irq,
// interrupt subtrees. The request's root is the parent of depth 0.
func sampleEdges(s *Sample, irq bool) map[Edge]edgeInfo {
	t := s.Trace
	out := map[Edge]edgeInfo{}
	type frame struct {
		n     parse.NodeID
		depth int32
	}
	var stack []frame
	for _, r := range s.Request.Roots {
		if includedCall(t, r, irq) {
			stack = append(stack, frame{r, 0})
		}
	}
	key := func(n parse.NodeID) string { return t.Names.String(t.KeyOf(n)) }
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		pk := key(f.n)
		for c := t.Nodes[f.n].FirstChild; c != parse.None; c = t.Nodes[c].NextSibling {
			if !includedCall(t, c, irq) {
				continue
			}
			e := Edge{pk, key(c)}
			info, ok := out[e]
			if !ok || f.depth < info.depth {
				info.depth = f.depth
			}
			if d := t.Nodes[c].Duration; d > 0 {
				info.dur += d
			}
			out[e] = info
			stack = append(stack, frame{c, f.depth + 1})
		}
	}
	return out
}

// Separator is a call edge that tells two groups of requests apart.
type Separator struct {
	Edge
	InBad, InGood int   // requests of each group that make the edge
	Bad, Good     int   // sizes of the groups
	Dur           int64 // total duration of the edge's calls in all requests, ns (shown, not ranked by)
	Depth         int32 // shallowest depth of the parent below the request root
	// Shared: the parent is called in every request of both groups, so
	// the edge is a choice made there, not a consequence of an earlier
	// one.
	Shared bool
}

// Score returns how consistently s separates the groups, -1..1: its share
// of the bad requests less its share of the good ones. 1 means every bad
// request makes the edge and no good one does; -1 the reverse.
func (s *Separator) Score() float64 {
	return float64(s.InBad)/float64(max(s.Bad, 1)) - float64(s.InGood)/float64(max(s.Good, 1))
}

// Summary returns "inet_recvmsg -> tcp_recvmsg: in 3 of 3 bad, 0 of 3 good".
func (s *Separator) Summary() string {
	return fmt.Sprintf("%s: in %d of %d bad, %d of %d good", s.Edge, s.InBad, s.Bad, s.InGood, s.Good)
}

// Switch is a callee choice that separates the groups: at the same parent,
// the good requests call some functions and the bad ones others.
type Switch struct {
	Parent    string
	Good, Bad []Separator // the parent's separating edges of each side
}

// Summary returns "inet_recvmsg: good -> tcp_bpf_recvmsg, bad -> tcp_recvmsg".
func (w *Switch) Summary() string {
	names := func(ss []Separator) string {
		var n []string
		for _, s := range ss {
			n = append(n, s.Child)
		}
		return strings.Join(n, ", ")
	}
	return fmt.Sprintf("%s: good -> %s, bad -> %s", w.Parent, names(w.Good), names(w.Bad))
}

// GroupOptions tune [CompareGroups] and [ClusterRequests].
type GroupOptions struct {
	// IRQ keeps interrupt and softirq subtrees nested in requests.
	IRQ bool
}

// GroupComparison ranks the call edges that separate good requests from
// bad ones.
type GroupComparison struct {
	Good, Bad  []Sample
	Separators []Separator // strongest first
	Switches   []Switch    // callee choices among the separators, strongest first
}

// CompareGroups ranks the call edges of good and bad requests by how
// consistently they separate the two groups (see [Separator.Score]), not by
// how much time they account for: an edge made by every bad request and
// no good one outranks any edge made by both, however long. Ties go to
// edges whose parent every request calls (a choice made there), then to
// shallower edges, then to edges made by more requests.
func CompareGroups(good, bad []Sample, opts GroupOptions) *GroupComparison {
	res := &GroupComparison{Good: good, Bad: bad}
	all := map[Edge]*Separator{}
	parentIn := map[string]int{} // requests (of both groups) calling each parent at all
	add := func(ss []Sample, isBad bool) {
		for i := range ss {
			parents := map[string]bool{}
			for e, info := range sampleEdges(&ss[i], opts.IRQ) {
				s := all[e]
				if s == nil {
					s = &Separator{Edge: e, Bad: len(bad), Good: len(good), Depth: info.depth}
					all[e] = s
				}
				if isBad {
					s.InBad++
				} else {
					s.InGood++
				}
				s.Dur += info.dur
				s.Depth = min(s.Depth, info.depth)
				parents[e.Parent] = true
			}
			for p := range parents {
				parentIn[p]++
			}
		}
	}
	add(good, false)
	add(bad, true)
	n := len(good) + len(bad)
	for _, s := range all {
		if s.InBad*max(s.Good, 1) == s.InGood*max(s.Bad, 1) {
			continue // no separation at all
		}
		s.Shared = parentIn[s.Parent] == n
		res.Separators = append(res.Separators, *s)
	}
	sortSeparators(res.Separators)
	res.Switches = switches(res.Separators)
	return res
}

func sortSeparators(ss []Separator) {
	sort.Slice(ss, func(i, j int) bool {
		a, b := &ss[i], &ss[j]
		sa, sb := a.Score(), b.Score()
		if sa < 0 {
			sa = -sa
		}
		if sb < 0 {
			sb = -sb
		}
		if ra, rb := int(sa*1000+0.5), int(sb*1000+0.5); ra != rb {
			return ra > rb
		}
		if a.Shared != b.Shared {
			return a.Shared
		}
		if a.Depth != b.Depth {
			return a.Depth < b.Depth
		}
		if x, y := a.InBad+a.InGood, b.InBad+b.InGood; x != y {
			return x > y
		}
		if a.Parent != b.Parent {
			return a.Parent < b.Parent
		}
		return a.Child < b.Child
	})
}

// switches pairs, at each parent every request calls, the separators of
// the bad side with those of the good side that score as strongly, in the
// order of the strongest of them. Choices that separate weakly (|score|
// below 0.5) are left to the list of edges.
func switches(ss []Separator) []Switch {
	var out []Switch
	done := map[string]bool{}
	for i := range ss {
		p := ss[i].Parent
		if done[p] || !ss[i].Shared || ss[i].Score()*ss[i].Score() < 0.25 {
			continue
		}
		done[p] = true
		top := ss[i].Score()
		if top < 0 {
			top = -top
		}
		var w Switch
		w.Parent = p
		for j := range ss {
			s := ss[j]
			sc := s.Score()
			if s.Parent != p || sc*sc < top*top*0.99 {
				continue
			}
			if sc > 0 {
				w.Bad = append(w.Bad, s)
			} else {
				w.Good = append(w.Good, s)
			}
		}
		if len(w.Good) > 0 && len(w.Bad) > 0 {
			out = append(out, w)
		}
	}
	return out
}

// WriteText prints the comparison: the callee switches, then the top
// separating edges (all when top <= 0).
func (g *GroupComparison) WriteText(w io.Writer, what string, top int) error {
	var sb strings.Builder
	files := samplesFromSeveral(g.Good, g.Bad)
	fmt.Fprintf(&sb, "%d good %s (%s), %d bad %s (%s) of %s\n",
		len(g.Good), plural(len(g.Good), "request", "requests"), sampleList(g.Good, files),
		len(g.Bad), plural(len(g.Bad), "request", "requests"), sampleList(g.Bad, files), parse.Safe(what))
	if len(g.Separators) == 0 {
		sb.WriteString("no call edge separates the groups\n")
		_, err := io.WriteString(w, sb.String())
		return err
	}
	sb.WriteString("Call edges ranked by how consistently they separate the groups (not by time):\n")
	if len(g.Switches) > 0 {
		sb.WriteString("\ncallee choices:\n")
		for _, s := range g.Switches {
			fmt.Fprintf(&sb, "  %s\n", parse.Safe(s.Summary()))
			for _, x := range append(append([]Separator{}, s.Bad...), s.Good...) {
				fmt.Fprintf(&sb, "    %s\n", parse.Safe(x.Summary()))
			}
		}
	}
	sb.WriteString("\nseparating edges:\n")
	n := len(g.Separators)
	if top > 0 && top < n {
		n = top
	}
	for i := 0; i < n; i++ {
		s := &g.Separators[i]
		total := ""
		if s.Dur > 0 {
			total = "  (" + parse.FormatDuration(s.Dur) + " total)"
		}
		fmt.Fprintf(&sb, "  S%-3d %+.2f  %s%s\n", i+1, s.Score(), parse.Safe(s.Summary()), total)
	}
	if n < len(g.Separators) {
		fmt.Fprintf(&sb, "  ... %d more (--top 0 shows all)\n", len(g.Separators)-n)
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

func samplesFromSeveral(groups ...[]Sample) bool {
	var first *parse.Trace
	for _, g := range groups {
		for i := range g {
			if first == nil {
				first = g[i].Trace
			} else if g[i].Trace != first {
				return true
			}
		}
	}
	return false
}

// sampleList returns "#1, #3, #6", shortened past 12 samples.
func sampleList(ss []Sample, files bool) string {
	var parts []string
	for i := range ss {
		if i == 12 {
			parts = append(parts, fmt.Sprintf("... %d more", len(ss)-12))
			break
		}
		parts = append(parts, ss[i].Label(files))
	}
	return strings.Join(parts, ", ")
}

// Split is a way the requests of one capture fall into two groups by how
// they ran: the call edges that exactly the requests of one group make.
type Split struct {
	A, B []int // indices into the samples; A holds the first sample
	// AEdges and BEdges are the edges made by every request of A and no
	// request of B, and the reverse (InBad counts B, InGood counts A).
	AEdges, BEdges []Separator
	// Switch: some parent that every request calls calls one thing in A
	// and another in B.
	Switch bool
}

// ClusterRequests groups the requests of one capture by how they ran,
// without labels: each call edge that some but not all requests make cuts
// them in two, and the cuts that several edges agree on are the groups.
// Splits are ranked: a callee choice at a parent every request calls
// first, then the more balanced, then those more edges agree on. At most
// max splits are returned (all when limit <= 0).
func ClusterRequests(samples []Sample, opts GroupOptions, limit int) []Split {
	n := len(samples)
	if n < 2 {
		return nil
	}
	type edgeSet struct {
		in    []byte // '1' for requests making the edge
		count int
		depth int32
		dur   int64
	}
	edges := map[Edge]*edgeSet{}
	parentIn := map[string]int{}
	for i := range samples {
		parents := map[string]bool{}
		for e, info := range sampleEdges(&samples[i], opts.IRQ) {
			es := edges[e]
			if es == nil {
				es = &edgeSet{in: []byte(strings.Repeat("0", n)), depth: info.depth}
				edges[e] = es
			}
			es.in[i] = '1'
			es.count++
			es.depth = min(es.depth, info.depth)
			es.dur += info.dur
			parents[e.Parent] = true
		}
		for p := range parents {
			parentIn[p]++
		}
	}
	// Group the edges by the cut they make, canonically the side without
	// the first request.
	cuts := map[string]*Split{}
	for e, es := range edges {
		if es.count == 0 || es.count == n {
			continue
		}
		onA := es.in[0] == '1'
		key := string(es.in)
		if onA {
			b := []byte(key)
			for i := range b {
				b[i] ^= 1 // '0' <-> '1'
			}
			key = string(b)
		}
		sp := cuts[key]
		if sp == nil {
			sp = &Split{}
			for i := 0; i < n; i++ {
				if key[i] == '1' {
					sp.B = append(sp.B, i)
				} else {
					sp.A = append(sp.A, i)
				}
			}
			cuts[key] = sp
		}
		s := Separator{Edge: e, Bad: len(sp.B), Good: len(sp.A), Dur: es.dur, Depth: es.depth, Shared: parentIn[e.Parent] == n}
		if onA {
			s.InGood = len(sp.A)
			sp.AEdges = append(sp.AEdges, s)
		} else {
			s.InBad = len(sp.B)
			sp.BEdges = append(sp.BEdges, s)
		}
	}
	var out []Split
	for _, sp := range cuts {
		sortSeparators(sp.AEdges)
		sortSeparators(sp.BEdges)
		pa := map[string]bool{}
		for _, s := range sp.AEdges {
			if s.Shared {
				pa[s.Parent] = true
			}
		}
		for _, s := range sp.BEdges {
			if s.Shared && pa[s.Parent] {
				sp.Switch = true
			}
		}
		out = append(out, *sp)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if a.Switch != b.Switch {
			return a.Switch
		}
		if x, y := min(len(a.A), len(a.B)), min(len(b.A), len(b.B)); x != y {
			return x > y
		}
		if x, y := len(a.AEdges)+len(a.BEdges), len(b.AEdges)+len(b.BEdges); x != y {
			return x > y
		}
		return lessInts(a.B, b.B)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

func lessInts(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

// Describe returns one line per group of the split: "3 requests (#1, #3,
// #6) call inet_recvmsg -> tcp_bpf_recvmsg". A group that makes no edge of
// its own is described by what it does not call.
func (sp *Split) Describe(samples []Sample) [2]string {
	files := samplesFromSeveral(samples)
	side := func(idx []int, own, other []Separator) string {
		ss := make([]Sample, len(idx))
		for i, x := range idx {
			ss[i] = samples[x]
		}
		head := fmt.Sprintf("%d %s (%s)", len(idx), plural(len(idx), "request", "requests"), sampleList(ss, files))
		verb := map[bool]string{true: "calls", false: "call"}[len(idx) == 1]
		switch {
		case len(own) > 0:
			more := ""
			if len(own) > 1 {
				more = fmt.Sprintf(" (and %d more %s)", len(own)-1, plural(len(own)-1, "edge", "edges"))
			}
			return fmt.Sprintf("%s %s %s%s", head, verb, own[0].Edge, more)
		case len(other) > 0:
			return fmt.Sprintf("%s do not call %s", head, other[0].Edge)
		}
		return head
	}
	return [2]string{side(sp.A, sp.AEdges, sp.BEdges), side(sp.B, sp.BEdges, sp.AEdges)}
}

// WriteSplits prints how the requests fall into groups, strongest split
// first, each with up to edges separating edges per group.
func WriteSplits(w io.Writer, samples []Sample, splits []Split, what string, edges int) error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d requests of %s", len(samples), parse.Safe(what))
	if len(splits) == 0 {
		sb.WriteString(": all ran the same calls\n")
		_, err := io.WriteString(w, sb.String())
		return err
	}
	sb.WriteString(", grouped by how they ran (call edges made by exactly one group):\n")
	for i := range splits {
		sp := &splits[i]
		d := sp.Describe(samples)
		kind := ""
		if sp.Switch {
			kind = " (a callee choice)"
		}
		fmt.Fprintf(&sb, "\nG%d%s\n  %s\n  %s\n", i+1, kind, parse.Safe(d[0]), parse.Safe(d[1]))
		for g, list := range [][]Separator{sp.AEdges, sp.BEdges} {
			for j, s := range list {
				if edges > 0 && j == edges {
					fmt.Fprintf(&sb, "    ... %d more\n", len(list)-j)
					break
				}
				fmt.Fprintf(&sb, "    %s only: %s\n", [...]string{"first group", "second group"}[g], parse.Safe(s.Edge.String()))
			}
		}
	}
	_, err := io.WriteString(w, sb.String())
	return err
}
