package diff

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/tracediff/tracediff/parse"
)

// cct is a calling-context tree: every distinct root-first call path of a
// capture once, with the weight of the stacks (or calls) through it.
type cct struct {
	t     *parse.Trace
	nodes []cctNode
	total int64
	calls bool // weights count function_graph calls, not stacks
}

type cctNode struct {
	key    int32
	weight int64        // stacks (or calls) through this path
	rep    parse.NodeID // first frame or call seen here, for its raw name and line
	kids   map[int32]int32
	flags  parse.Flags
	parent int32
}

func (c *cct) child(parent int32, key int32, rep parse.NodeID) int32 {
	p := &c.nodes[parent]
	if p.kids == nil {
		p.kids = map[int32]int32{}
	}
	if id, ok := p.kids[key]; ok {
		return id
	}
	id := int32(len(c.nodes))
	c.nodes[parent].kids[key] = id
	c.nodes = append(c.nodes, cctNode{key: key, rep: rep, parent: parent})
	return id
}

// buildCCT reduces a capture to its calling-context tree: stack samples by
// their counts; function_graph calls one each, at the path that ends with
// them. Interrupt subtrees and hidden names are left out as in call mode.
//
// Paths start at the first frame whose key is in anchor, when there is one:
// with --focus that is the focus function (and paths without it are left
// out); comparing a function_graph capture with stacks, it is the
// functions at which the function_graph capture's trees start, so that a
// stack from the syscall entry lines up with a trace started at
// __sys_recvfrom.
func buildCCT(t *parse.Trace, nm *names, opts *Options, anchor map[int32]bool, strict bool) *cct {
	s := newSide(t, nm, opts)
	c := &cct{t: t, nodes: []cctNode{{key: -1, rep: parse.None}}}
	if len(t.Samples) > 0 {
		for _, smp := range t.Samples {
			if s.where != nil && !s.where.Match(smp.Leaf) {
				continue
			}
			start := smp.Root
			if len(anchor) > 0 {
				start = parse.None
				for n := smp.Root; ; n = t.Nodes[n].FirstChild {
					if anchor[s.key(n)] {
						start = n
						break
					}
					if n == smp.Leaf || t.Nodes[n].FirstChild == parse.None {
						break
					}
				}
				if start == parse.None {
					if strict {
						continue
					}
					start = smp.Root
				}
			}
			cur := int32(0)
			c.nodes[0].weight += smp.Count
			for n := start; ; n = t.Nodes[n].FirstChild {
				if s.hidden[t.Nodes[n].Name] {
					break
				}
				cur = c.child(cur, s.key(n), n)
				c.nodes[cur].weight += smp.Count
				if n == smp.Leaf || t.Nodes[n].FirstChild == parse.None {
					break
				}
			}
			c.total += smp.Count
		}
		return c
	}
	type item struct {
		n   parse.NodeID
		cur int32
	}
	var stack []item
	for ti := range t.Tasks {
		for r := t.Tasks[ti].First; r != parse.None; r = t.Nodes[r].NextSibling {
			stack = append(stack[:0], item{r, -1})
			if !strict {
				stack[0].cur = 0
			}
			for len(stack) > 0 {
				it := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if !s.included(it.n) {
					continue
				}
				if it.cur < 0 {
					// Above the focus: look for it further down.
					if !anchor[s.key(it.n)] {
						for ch := t.Nodes[it.n].FirstChild; ch != parse.None; ch = t.Nodes[ch].NextSibling {
							stack = append(stack, item{ch, -1})
						}
						continue
					}
					it.cur = 0
				}
				cur := c.child(it.cur, s.key(it.n), it.n)
				c.nodes[cur].weight++
				c.nodes[cur].flags |= t.Nodes[it.n].Flags & uncertain
				c.nodes[0].weight++
				c.total++
				for ch := t.Nodes[it.n].FirstChild; ch != parse.None; ch = t.Nodes[ch].NextSibling {
					stack = append(stack, item{ch, cur})
				}
			}
		}
	}
	// A path's weight is every call at or below it, as a stack's frames
	// all carry the stack's weight. Children come after their parents.
	for i := len(c.nodes) - 1; i > 0; i-- {
		if p := c.nodes[i].parent; p > 0 {
			c.nodes[p].weight += c.nodes[i].weight
		}
	}
	c.calls = true
	return c
}

// compareStacks compares two captures as calling-context trees: paths are
// merged, children matched by name whatever their order, and weights
// compared as shares of each capture's total, so captures of different
// sizes compare fairly.
func compareStacks(good, bad *parse.Trace, opts Options) (*Result, error) {
	res := &Result{Good: good, Bad: bad, Options: opts, Mode: "stacks"}
	nm := sharedNames(good, bad, opts.Raw)
	anchor := map[int32]bool{}
	strict := false
	switch {
	case opts.Focus != "":
		k := parse.Normalize(opts.Focus)
		if opts.Raw {
			k = opts.Focus
		}
		anchor[nm.intern(k)] = true
		strict = true
	case len(good.Samples) == 0 || len(bad.Samples) == 0:
		// One side is a function_graph capture: its trees start where
		// tracing started (set_graph_function); start the stacks there.
		fg := good
		if len(good.Samples) > 0 {
			fg = bad
		}
		for ti := range fg.Tasks {
			for r := fg.Tasks[ti].First; r != parse.None; r = fg.Nodes[r].NextSibling {
				k := fg.Names.Key(fg.Nodes[r].Name)
				if opts.Raw {
					k = fg.Nodes[r].Name
				}
				anchor[nm.intern(fg.Names.String(k))] = true
			}
		}
		res.Notes = append(res.Notes, "a function_graph capture compared with stacks: both reduced to call paths, stacks started at the functions where the function_graph trees start")
	}
	gc := buildCCT(good, &nm, &res.Options, anchor, strict)
	bc := buildCCT(bad, &nm, &res.Options, anchor, strict)
	res.Names = nm.strs
	if opts.Depth > 0 || opts.GoodTask != "" || opts.BadTask != "" {
		res.Notes = append(res.Notes, "--depth and task selection apply to call-graph comparisons; stacks are compared whole")
	}
	res.Pairs = []Pair{{Good: -1, Bad: -1, Label: "stacks", Similarity: 1}}
	if len(good.Tasks) > 0 {
		res.Pairs[0].Good = 0
	}
	if len(bad.Tasks) > 0 {
		res.Pairs[0].Bad = 0
	}
	c := &comparer{res: res}
	root := c.newRow(Row{Op: OpChanged, Key: -1, Good: parse.None, Bad: parse.None, GoodN: gc.total, BadN: bc.total, GoodDur: -1, BadDur: -1}, None, nil)
	res.Pairs[0].Row = root
	type work struct {
		row    int32
		gn, bn int32 // cct nodes, -1 when absent
	}
	stack := []work{{root, 0, 0}}
	for len(stack) > 0 {
		w := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		keys := map[int32][2]int32{}
		if w.gn >= 0 {
			for k, id := range gc.nodes[w.gn].kids {
				e := keys[k]
				e[0] = id + 1
				keys[k] = e
			}
		}
		if w.bn >= 0 {
			for k, id := range bc.nodes[w.bn].kids {
				e := keys[k]
				e[1] = id + 1
				keys[k] = e
			}
		}
		order := make([]int32, 0, len(keys))
		for k := range keys {
			order = append(order, k)
		}
		weight := func(k int32) int64 {
			var x int64
			if e := keys[k]; e[0] > 0 {
				x += gc.nodes[e[0]-1].weight
			}
			if e := keys[k]; e[1] > 0 {
				x += bc.nodes[e[1]-1].weight
			}
			return x
		}
		sort.Slice(order, func(i, j int) bool {
			if wi, wj := weight(order[i]), weight(order[j]); wi != wj {
				return wi > wj
			}
			return nm.strs[order[i]] < nm.strs[order[j]]
		})
		last := None
		var pending []work
		for _, k := range order {
			e := keys[k]
			r := Row{Key: k, Good: parse.None, Bad: parse.None, GoodDur: -1, BadDur: -1}
			gi, bi := e[0]-1, e[1]-1
			if gi >= 0 {
				r.Good, r.GoodN, r.Flags = gc.nodes[gi].rep, gc.nodes[gi].weight, gc.nodes[gi].flags
			}
			if bi >= 0 {
				r.Bad, r.BadN = bc.nodes[bi].rep, bc.nodes[bi].weight
				r.Flags |= bc.nodes[bi].flags
			}
			switch {
			case gi >= 0 && bi >= 0:
				r.Op = OpChanged
			case gi >= 0:
				r.Op = OpGoodOnly
			default:
				r.Op = OpBadOnly
			}
			id := c.newRow(r, w.row, &last)
			pending = append(pending, work{id, gi, bi})
		}
		for i := len(pending) - 1; i >= 0; i-- {
			stack = append(stack, pending[i])
		}
	}
	// Settle ops bottom-up: matched rows are the same when their shares
	// agree and everything below is the same.
	order := res.preorder()
	for i := len(order) - 1; i >= 0; i-- {
		r := &res.Rows[order[i]]
		r.Size = 1
		changed := false
		for ch := r.FirstChild; ch != None; ch = res.Rows[ch].NextSibling {
			r.Size += res.Rows[ch].Size
			changed = changed || res.Rows[ch].Op != OpSame
		}
		if r.Op == OpChanged && !changed && math.Abs(shareOf(r.GoodN, gc.total)-shareOf(r.BadN, bc.total)) < shiftMin {
			r.Op = OpSame
		}
	}
	c.stackDivergences(gc, bc, order)
	return res, nil
}

// shiftMin is the smallest change of a path's share of all stacks reported
// as a weight shift: 20 percentage points.
const shiftMin = 0.2

func shareOf(n, total int64) float64 {
	if total <= 0 {
		return 0
	}
	return float64(n) / float64(total)
}

// stackDivergences finds the divergences of a calling-context comparison:
// callees on one side only at a matched frame (substitution or one-sided),
// and weight shifts no child explains.
func (c *comparer) stackDivergences(gc, bc *cct, order []int32) {
	res := c.res
	pos := make([]int32, len(res.Rows))
	for i, id := range order {
		pos[id] = int32(i)
	}
	var divs []Divergence
	for _, id := range order {
		r := &res.Rows[id]
		if r.Op != OpChanged {
			continue
		}
		var gs, bs []int32
		for ch := r.FirstChild; ch != None; ch = res.Rows[ch].NextSibling {
			switch res.Rows[ch].Op {
			case OpGoodOnly:
				gs = append(gs, ch)
			case OpBadOnly:
				bs = append(bs, ch)
			}
		}
		if len(gs)+len(bs) > 0 {
			d := Divergence{Kind: KindSubstitution, Row: id, GoodN: r.GoodN, BadN: r.BadN, GoodDur: -1, BadDur: -1, Good: []Callee{}, Bad: []Callee{}}
			if len(gs) == 0 || len(bs) == 0 {
				d.Kind = KindOneSided
			}
			var wg, wb int64
			flags := r.Flags
			for _, x := range gs {
				d.Good = append(d.Good, c.stackCallee(x, true))
				wg += res.Rows[x].GoodN
				flags |= res.Rows[x].Flags
			}
			for _, x := range bs {
				d.Bad = append(d.Bad, c.stackCallee(x, false))
				wb += res.Rows[x].BadN
				flags |= res.Rows[x].Flags
			}
			c.conclude(&d, flags)
			d.Separation = float64(wg)/float64(r.GoodN+1) + float64(wb)/float64(r.BadN+1)
			d.Support = wg + wb
			name := res.RowName(id)
			if r.Depth == 0 {
				name = "(root)"
			}
			of := func(w, n int64, c *cct) string {
				unit := "stacks"
				if c.calls {
					unit = "calls"
				}
				return fmt.Sprintf("(%d of %d %s)", w, n, unit)
			}
			list := func(cs []Callee) string {
				var s []string
				for _, x := range cs {
					s = append(s, x.Name)
				}
				if len(s) > 3 {
					s = append(s[:3], fmt.Sprintf("(+%d more)", len(cs)-3))
				}
				return strings.Join(s, ", ")
			}
			switch d.Kind {
			case KindSubstitution:
				d.Summary = fmt.Sprintf("%s: good -> %s %s, bad -> %s %s", name, list(d.Good), of(wg, r.GoodN, gc), list(d.Bad), of(wb, r.BadN, bc))
			default:
				if len(d.Good) > 0 {
					d.Summary = fmt.Sprintf("%s: only good calls %s %s", name, list(d.Good), of(wg, r.GoodN, gc))
				} else {
					d.Summary = fmt.Sprintf("%s: only bad calls %s %s", name, list(d.Bad), of(wb, r.BadN, bc))
				}
			}
			divs = append(divs, d)
		}
		if r.Depth > 0 {
			delta := shareOf(r.BadN, bc.total) - shareOf(r.GoodN, gc.total)
			explained := false
			for ch := r.FirstChild; ch != None; ch = res.Rows[ch].NextSibling {
				cr := &res.Rows[ch]
				if math.Abs(shareOf(cr.BadN, bc.total)-shareOf(cr.GoodN, gc.total))*2 >= math.Abs(delta) {
					explained = true
				}
			}
			if math.Abs(delta) >= shiftMin && !explained {
				d := Divergence{Kind: KindCount, Row: id, GoodN: r.GoodN, BadN: r.BadN, GoodDur: -1, BadDur: -1, Good: []Callee{}, Bad: []Callee{}}
				c.conclude(&d, r.Flags)
				d.Separation = math.Abs(delta)
				d.Summary = fmt.Sprintf("%s: %.0f%% of good stacks, %.0f%% of bad", res.RowName(id), 100*shareOf(r.GoodN, gc.total), 100*shareOf(r.BadN, bc.total))
				divs = append(divs, d)
			}
		}
	}
	sort.SliceStable(divs, func(i, j int) bool { return stronger(&divs[i], &divs[j], pos) })
	for i := range divs {
		divs[i].ID = fmt.Sprintf("D%d", i+1)
		divs[i].Path = res.PathOf(divs[i].Row)
		if res.Rows[divs[i].Row].Div == None {
			res.Rows[divs[i].Row].Div = int32(i)
		}
	}
	res.Divergences = divs
}

func (c *comparer) stackCallee(id int32, good bool) Callee {
	r := &c.res.Rows[id]
	t, n, w := c.res.Bad, r.Bad, r.BadN
	if good {
		t, n, w = c.res.Good, r.Good, r.GoodN
	}
	return Callee{Name: t.NameOf(n), Row: id, Count: w, Dur: -1, Line: int(t.Nodes[n].Line)}
}
