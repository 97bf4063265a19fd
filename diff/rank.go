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

// edgesOf returns the call edges of the units paired in pair pi.
func (c *comparer) edgesOf(pi int32) (g, b map[uint64]int32) {
	u := c.units[pi]
	if u[0] >= 0 {
		g = c.g.tasks[u[0]].edges
	}
	if u[1] >= 0 {
		b = c.b.tasks[u[1]].edges
	}
	return g, b
}

// rank finds every divergence in the aligned tree and orders them so that
// the one a kernel engineer would call the cause comes first.
func (c *comparer) rank() {
	res := c.res
	order := res.preorder()
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
	sort.SliceStable(divs, func(i, j int) bool {
		a, b := &divs[i], &divs[j]
		if a.Inconclusive != b.Inconclusive {
			return !a.Inconclusive
		}
		if a.Noise != b.Noise {
			return !a.Noise
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Separation != b.Separation {
			return a.Separation > b.Separation
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
	})
	for i := range divs {
		divs[i].ID = fmt.Sprintf("D%d", i+1)
		if res.Rows[divs[i].Row].Div == None {
			res.Rows[divs[i].Row].Div = int32(i)
		}
	}
	res.Divergences = divs
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
	// Separation: does a side use a call edge the other capture's task
	// never uses?
	if r.Depth > 0 {
		ge, be := c.edgesOf(r.Pair)
		sepG, sepB := false, false
		for _, g := range gs {
			e := uint64(uint32(r.Key))<<32 | uint64(uint32(res.Rows[g].Key))
			if ge[e] > 0 && be[e] == 0 {
				sepG = true
				d.Support += int64(ge[e])
			}
		}
		for _, b := range bs {
			e := uint64(uint32(r.Key))<<32 | uint64(uint32(res.Rows[b].Key))
			if be[e] > 0 && ge[e] == 0 {
				sepB = true
				d.Support += int64(be[e])
			}
		}
		if sepG {
			d.Separation++
		}
		if sepB {
			d.Separation++
		}
	}
	name := res.RowName(id)
	switch d.Kind {
	case KindSubstitution:
		d.Summary = fmt.Sprintf("%s: good -> %s, bad -> %s", name, calleeList(d.Good), calleeList(d.Bad))
	default:
		if len(d.Good) > 0 {
			d.Summary = fmt.Sprintf("%s: only good calls %s", name, calleeList(d.Good))
		} else {
			d.Summary = fmt.Sprintf("%s: only bad calls %s", name, calleeList(d.Bad))
		}
	}
	return d
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
