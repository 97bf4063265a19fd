package diff

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tracediff/tracediff/parse"
)

// uncertain are the flags that make a divergence inconclusive: the capture
// may simply not show what happened there.
const uncertain = parse.FlagLost | parse.FlagOrphan | parse.FlagUnclosed

// units returns the task units paired in pair pi (nil when one-sided).
func (c *comparer) unitsOf(pi int32) (g, b *taskUnit) {
	u := c.units[pi]
	if u[0] >= 0 {
		g = &c.g.tasks[u[0]]
	}
	if u[1] >= 0 {
		b = &c.b.tasks[u[1]]
	}
	return g, b
}

// share returns the fraction of calls of parent in u that call child,
// shrunk towards zero for few calls (n/(calls+1)): a choice seen in 2 of 2
// requests is better evidence than one seen once.
func share(u *taskUnit, parent, child int32) (float64, int32) {
	if u == nil || u.inst[parent] == 0 {
		return 0, 0
	}
	n := u.edges[uint64(uint32(parent))<<32|uint64(uint32(child))]
	return float64(n) / float64(u.inst[parent]+1), n
}

// rank finds every divergence in the aligned tree and orders them so that
// the one a kernel engineer would call the cause comes first.
func (c *comparer) rank() {
	res := c.res
	order := c.order
	pos := make([]int32, len(res.Rows))
	for i, id := range order {
		pos[id] = int32(i)
	}
	var divs []Divergence
	var timing []Divergence
	for _, id := range order {
		r := &res.Rows[id]
		if r.Depth == 0 && r.Op >= OpGoodOnly {
			side, t, task := "good", res.Good, res.Pairs[r.Pair].Good
			if r.Op == OpBadOnly {
				side, t, task = "bad", res.Bad, res.Pairs[r.Pair].Bad
			}
			divs = append(divs, Divergence{Kind: KindTask, Row: id, Pair: r.Pair, GoodDur: -1, BadDur: -1,
				GoodN: r.GoodN, BadN: r.BadN,
				Summary: fmt.Sprintf("task %s ran in the %s capture only (%d calls)", t.Tasks[task].Label(), side, r.GoodN+r.BadN)})
			continue
		}
		if r.Op != OpChanged {
			continue
		}
		if r.Depth > 0 && r.GoodN != r.BadN {
			divs = append(divs, c.countDiv(id))
		}
		// Gaps: maximal runs of one-sided children between matched ones.
		var gs, bs []int32
		flush := func() {
			if len(gs)+len(bs) > 0 {
				divs = append(divs, c.gapDiv(id, gs, bs))
			}
			gs, bs = nil, nil
		}
		for ch := r.FirstChild; ch != None; ch = res.Rows[ch].NextSibling {
			switch res.Rows[ch].Op {
			case OpGoodOnly:
				gs = append(gs, ch)
			case OpBadOnly:
				bs = append(bs, ch)
			default:
				flush()
			}
		}
		flush()
		if d, ok := c.timingDiv(id); ok {
			timing = append(timing, d)
		}
	}
	sort.SliceStable(timing, func(i, j int) bool { return absDelta(timing[i]) > absDelta(timing[j]) })
	if len(timing) > res.Options.MaxTiming {
		res.Notes = append(res.Notes, fmt.Sprintf("%d timing divergences past the first %d left out", len(timing)-res.Options.MaxTiming, res.Options.MaxTiming))
		timing = timing[:res.Options.MaxTiming]
	}
	divs = append(divs, timing...)
	divs = c.group(divs, pos)
	for i := range divs {
		d := &divs[i]
		d.Path = res.PathOf(d.Row)
		if d.Good == nil {
			d.Good = []Callee{}
		}
		if d.Bad == nil {
			d.Bad = []Callee{}
		}
	}
	sort.SliceStable(divs, func(i, j int) bool { return stronger(&divs[i], &divs[j], pos) })
	for i := range divs {
		divs[i].ID = fmt.Sprintf("D%d", i+1)
		if res.Rows[divs[i].Row].Div == None {
			res.Rows[divs[i].Row].Div = int32(i)
		}
	}
	res.Divergences = divs
}

// group merges divergences that repeat the same change at the same call
// path (the same substitution in each of several requests) into one, kept
// at its first occurrence, with the others listed in Also.
func (c *comparer) group(divs []Divergence, pos []int32) []Divergence {
	res := c.res
	sig := func(d *Divergence) string {
		var sb strings.Builder
		sb.WriteString(d.Kind.String())
		for n := d.Row; n != None; n = res.Rows[n].Parent {
			if res.Rows[n].Depth == 0 {
				fmt.Fprintf(&sb, "|pair%d", res.Rows[n].Pair)
			} else {
				fmt.Fprintf(&sb, "|%d", res.Rows[n].Key)
			}
		}
		for _, cs := range [][]Callee{d.Good, d.Bad} {
			sb.WriteString("|")
			for _, x := range cs {
				fmt.Fprintf(&sb, ",%d", res.Rows[x.Row].Key)
			}
		}
		if d.Kind == KindCount {
			fmt.Fprintf(&sb, "|%d|%d", d.GoodN, d.BadN)
		}
		return sb.String()
	}
	sort.SliceStable(divs, func(i, j int) bool { return pos[divs[i].Row] < pos[divs[j].Row] })
	first := map[string]int{}
	out := divs[:0]
	for _, d := range divs {
		if d.Kind == KindTiming || d.Kind == KindTask {
			out = append(out, d)
			continue
		}
		k := sig(&d)
		if i, ok := first[k]; ok {
			o := &out[i]
			o.Also = append(o.Also, d.Row)
			o.Inconclusive = o.Inconclusive && d.Inconclusive
			continue
		}
		first[k] = len(out)
		out = append(out, d)
	}
	for i := range out {
		if n := len(out[i].Also); n > 0 {
			out[i].Summary += fmt.Sprintf(" (%d times)", n+1)
		}
	}
	return out
}

// stronger orders divergences strongest first: conclusive before
// inconclusive, real before noise, by kind, then by how consistently they
// separate the captures, how often, by size for counts and timings, and
// last by position in the tree (pos maps rows to their pre-order rank).
func stronger(a, b *Divergence, pos []int32) bool {
	if a.Inconclusive != b.Inconclusive {
		return !a.Inconclusive
	}
	if a.Noise != b.Noise {
		return !a.Noise
	}
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	if sa, sb := int(a.Separation*10+0.5), int(b.Separation*10+0.5); sa != sb {
		return sa > sb
	}
	if a.Support != b.Support {
		return a.Support > b.Support
	}
	if a.Kind == KindTiming || a.Kind == KindCount {
		if da, db := absDelta(*a), absDelta(*b); da != db {
			return da > db
		}
	}
	return pos[a.Row] < pos[b.Row]
}

func absDelta(d Divergence) int64 {
	var x int64
	if d.Kind == KindCount {
		x = d.BadN - d.GoodN
	} else {
		x = d.BadDur - d.GoodDur
	}
	if x < 0 {
		return -x
	}
	return x
}

// callee describes row id as a callee on one side.
func (c *comparer) callee(id int32) Callee {
	r := &c.res.Rows[id]
	if r.Op == OpBadOnly || r.Good == parse.None {
		return Callee{Name: c.b.t.NameOf(r.Bad), Row: id, Count: r.BadN, Dur: r.BadDur, Line: int(c.b.t.Nodes[r.Bad].Line)}
	}
	return Callee{Name: c.g.t.NameOf(r.Good), Row: id, Count: r.GoodN, Dur: r.GoodDur, Line: int(c.g.t.Nodes[r.Good].Line)}
}

// gapDiv makes the divergence of a gap under row id: a substitution when
// both sides call something there, else a one-sided divergence.
func (c *comparer) gapDiv(id int32, gs, bs []int32) Divergence {
	res := c.res
	r := &res.Rows[id]
	d := Divergence{Kind: KindSubstitution, Row: id, Pair: r.Pair, GoodDur: r.GoodDur, BadDur: r.BadDur, GoodN: r.GoodN, BadN: r.BadN}
	if len(gs) == 0 || len(bs) == 0 {
		d.Kind = KindOneSided
	}
	flags := r.Flags
	noise := r.Flags&parse.FlagIRQ != 0
	allIRQ := true
	for _, g := range gs {
		d.Good = append(d.Good, c.callee(g))
		flags |= res.Rows[g].Flags
		allIRQ = allIRQ && res.Rows[g].Flags&parse.FlagIRQ != 0
	}
	for _, b := range bs {
		d.Bad = append(d.Bad, c.callee(b))
		flags |= res.Rows[b].Flags
		allIRQ = allIRQ && res.Rows[b].Flags&parse.FlagIRQ != 0
	}
	d.Noise = noise || allIRQ
	c.conclude(&d, flags)
	// Separation: how consistently the parent calls the good callees in
	// the good task and not in the bad one, and the bad callees in the bad
	// task and not in the good one.
	if r.Depth > 0 {
		gu, bu := c.unitsOf(r.Pair)
		best := func(rows []int32, same, other *taskUnit) float64 {
			m := 0.0
			for _, x := range rows {
				k := res.Rows[x].Key
				fs, n := share(same, r.Key, k)
				fo, _ := share(other, r.Key, k)
				if fs-fo > m {
					m = fs - fo
				}
				d.Support += int64(n)
			}
			return m
		}
		d.Separation = best(gs, gu, bu) + best(bs, bu, gu)
	}
	name := res.RowName(id)
	switch d.Kind {
	case KindSubstitution:
		d.Summary = fmt.Sprintf("%s: good -> %s, bad -> %s", name, calleeList(d.Good), calleeList(d.Bad))
		d.Detail = c.layerDetail(gs, bs)
	default:
		if len(d.Good) > 0 {
			d.Summary = fmt.Sprintf("%s: only good calls %s", name, calleeList(d.Good))
		} else {
			d.Summary = fmt.Sprintf("%s: only bad calls %s", name, calleeList(d.Bad))
		}
	}
	return d
}

// layerDetail says when a callee of one side calls, a few levels down, the
// callee of the other side: the difference is then a layer one side adds
// (tcp_bpf_recvmsg wrapping tcp_recvmsg), not two unrelated paths.
func (c *comparer) layerDetail(gs, bs []int32) string {
	res := c.res
	find := func(from []int32, key int32) int32 {
		type item struct {
			row   int32
			depth int
		}
		var queue []item
		for _, f := range from {
			for ch := res.Rows[f].FirstChild; ch != None; ch = res.Rows[ch].NextSibling {
				queue = append(queue, item{ch, 1})
			}
		}
		for len(queue) > 0 {
			it := queue[0]
			queue = queue[1:]
			if res.Rows[it.row].Key == key {
				return it.row
			}
			if it.depth < 3 {
				for ch := res.Rows[it.row].FirstChild; ch != None; ch = res.Rows[ch].NextSibling {
					queue = append(queue, item{ch, it.depth + 1})
				}
			}
		}
		return None
	}
	for _, b := range bs {
		if r := find(gs, res.Rows[b].Key); r != None {
			via := c.callee(res.Rows[r].Parent)
			return fmt.Sprintf("good's %s goes on to call %s (line %d): good has an extra layer", via.Name, c.g.t.NameOf(res.Rows[r].Good), c.g.t.Nodes[res.Rows[r].Good].Line)
		}
	}
	for _, g := range gs {
		if r := find(bs, res.Rows[g].Key); r != None {
			via := c.callee(res.Rows[r].Parent)
			return fmt.Sprintf("bad's %s goes on to call %s (line %d): bad has an extra layer", via.Name, c.b.t.NameOf(res.Rows[r].Bad), c.b.t.Nodes[res.Rows[r].Bad].Line)
		}
	}
	return ""
}

// conclude marks d inconclusive when flags say the capture may not show
// what happened there.
func (c *comparer) conclude(d *Divergence, flags parse.Flags) {
	var why []string
	if flags&parse.FlagLost != 0 {
		why = append(why, "events were lost here")
	}
	if flags&parse.FlagOrphan != 0 {
		why = append(why, "the capture starts inside this call")
	}
	if flags&parse.FlagUnclosed != 0 {
		why = append(why, "the capture ends inside this call")
	}
	if len(why) > 0 {
		d.Inconclusive = true
		d.Why = strings.Join(why, "; ")
	}
	if d.Noise {
		if d.Why != "" {
			d.Why += "; "
		}
		d.Why += "interrupt context"
	}
}

func (c *comparer) countDiv(id int32) Divergence {
	r := &c.res.Rows[id]
	d := Divergence{Kind: KindCount, Row: id, Pair: r.Pair, GoodN: r.GoodN, BadN: r.BadN, GoodDur: r.GoodDur, BadDur: r.BadDur,
		Noise: r.Flags&parse.FlagIRQ != 0, Good: []Callee{}, Bad: []Callee{}}
	c.conclude(&d, r.Flags)
	d.Summary = fmt.Sprintf("%s: x%d in good, x%d in bad", c.res.RowName(id), r.GoodN, r.BadN)
	return d
}

// timingDiv reports a matched call much slower on one side, unless one of
// its callees accounts for half the difference (that callee is reported
// instead, or the difference is a structural one).
func (c *comparer) timingDiv(id int32) (Divergence, bool) {
	res := c.res
	r := &res.Rows[id]
	if r.Depth == 0 || r.GoodDur < 0 || r.BadDur < 0 || r.GoodN != r.BadN {
		return Divergence{}, false
	}
	delta := r.BadDur - r.GoodDur
	if delta < 0 {
		delta = -delta
	}
	lo, hi := min(r.GoodDur, r.BadDur), max(r.GoodDur, r.BadDur)
	if delta < res.Options.TimingMin || float64(hi) < res.Options.TimingRatio*float64(lo) {
		return Divergence{}, false
	}
	for ch := r.FirstChild; ch != None; ch = res.Rows[ch].NextSibling {
		cr := &res.Rows[ch]
		var cd int64
		switch {
		case cr.Op == OpGoodOnly && cr.GoodDur > 0:
			cd = cr.GoodDur
		case cr.Op == OpBadOnly && cr.BadDur > 0:
			cd = cr.BadDur
		case cr.GoodDur >= 0 && cr.BadDur >= 0:
			cd = cr.BadDur - cr.GoodDur
			if cd < 0 {
				cd = -cd
			}
		}
		if cd*2 >= delta {
			return Divergence{}, false
		}
	}
	d := Divergence{Kind: KindTiming, Row: id, Pair: r.Pair, GoodN: r.GoodN, BadN: r.BadN, GoodDur: r.GoodDur, BadDur: r.BadDur,
		Noise: r.Flags&parse.FlagIRQ != 0, Good: []Callee{}, Bad: []Callee{}}
	c.conclude(&d, r.Flags)
	d.Summary = fmt.Sprintf("%s: %s in good, %s in bad", res.RowName(id), parse.FormatDuration(r.GoodDur), parse.FormatDuration(r.BadDur))
	return d, true
}

// calleeList renders up to three callees: "a, b x3, c (+2 more)".
func calleeList(cs []Callee) string {
	var parts []string
	for i, c := range cs {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("(+%d more)", len(cs)-3))
			break
		}
		s := c.Name
		if c.Count > 1 {
			s += fmt.Sprintf(" x%d", c.Count)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}
