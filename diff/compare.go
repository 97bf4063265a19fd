package diff

import (
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/tracediff/tracediff/parse"
)

// Options select what is compared and how.
type Options struct {
	// Focus compares only the subtrees rooted at calls of this function
	// (matched by its normalised name), e.g. "inet_recvmsg".
	Focus string
	// Hide drops calls whose name matches one of these globs, with their
	// subtrees.
	Hide []string
	// Depth compares calls down to this depth below the roots; 0 is all.
	Depth int
	// GoodTask and BadTask select the tasks of each side: a pid, a comm
	// glob or "comm-pid". When both are set the two are compared as a
	// pinned pair whatever their comms.
	GoodTask, BadTask string
	// Raw matches calls by their names as printed, without removing
	// compiler suffixes (.isra.0, .constprop.0) and offsets (+0x1e/0x40).
	Raw bool
	// IRQ includes interrupt and softirq subtrees nested in tasks. They are
	// noise by default: a timer interrupt lands anywhere.
	IRQ bool
	// Idle includes the idle tasks (pid 0, <idle>, swapper/N), noise by
	// default: what a CPU does while it has nothing to do.
	Idle bool
	// Tracer includes the tracer's own tasks (trace-cmd, perf, bpftrace),
	// noise by default: they write the capture, they are not traced work.
	Tracer bool
	// Where keeps only the calls the filter matches (with --where
	// 'comm == "nginx" && !irq'); a call left out takes its subtree with
	// it. Nil keeps every call.
	Where *Filter
	// Events aligns non-call events (sched_switch, trace_marker prints,
	// comments) with the calls; by default they are evidence shown with a
	// call, not compared.
	Events bool
	// TimingMin is the smallest duration difference, in ns, reported as a
	// timing divergence (default 100us); the slower side must also take
	// at least TimingRatio times as long (default 2).
	TimingMin   int64
	TimingRatio float64
	// MaxTiming bounds the number of timing divergences kept (default 20).
	MaxTiming int
}

func (o *Options) defaults() {
	if o.TimingMin == 0 {
		o.TimingMin = 100_000
	}
	if o.TimingRatio == 0 {
		o.TimingRatio = 2
	}
	if o.MaxTiming == 0 {
		o.MaxTiming = 20
	}
}

// Compare aligns the good capture against the bad one and finds and ranks
// their divergences. Two function_graph captures are compared by aligning
// their call sequences task by task; when either side holds stack samples
// (bpftrace, perf script, folded), both are reduced to calling-context
// trees and compared by weight (see [Result.Mode]).
func Compare(good, bad *parse.Trace, opts Options) (*Result, error) {
	opts.defaults()
	if len(good.Samples) > 0 || len(bad.Samples) > 0 {
		return compareStacks(good, bad, opts)
	}
	c := &comparer{res: &Result{Good: good, Bad: bad, Options: opts, Mode: "calls"}}
	c.nm = sharedNames(good, bad, opts.Raw)
	c.g = newSide(good, &c.nm, &c.res.Options)
	c.b = newSide(bad, &c.nm, &c.res.Options)
	focus := int32(-1)
	if opts.Focus != "" {
		k := parse.Normalize(opts.Focus)
		if opts.Raw {
			k = opts.Focus
		}
		focus = c.nm.intern(k)
	}
	// The two sides are summarised at once: they share only the name
	// table, which is read-only from here on.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.b.prepare(opts.BadTask, focus)
	}()
	c.g.prepare(opts.GoodTask, focus)
	wg.Wait()
	if opts.Focus != "" && (len(c.g.tasks) == 0 || len(c.b.tasks) == 0) {
		return nil, fmt.Errorf("--focus %s: no call of it in the %s capture", opts.Focus, map[bool]string{true: "good", false: "bad"}[len(c.g.tasks) == 0])
	}
	if (opts.GoodTask != "" && len(c.g.tasks) == 0) || (opts.BadTask != "" && len(c.b.tasks) == 0) {
		return nil, fmt.Errorf("no task matches the task selection (good %q, bad %q)", opts.GoodTask, opts.BadTask)
	}
	c.pairTasks(opts.GoodTask != "" && opts.BadTask != "")
	// Rows: about one per call of the larger side, plus what differs.
	gc, bc := 0, 0
	for _, u := range c.g.tasks {
		gc += u.calls
	}
	for _, u := range c.b.tasks {
		bc += u.calls
	}
	c.res.Rows = make([]Row, 0, max(gc, bc)+max(gc, bc)/8+len(c.res.Pairs))
	for pi := range c.res.Pairs {
		c.alignPair(int32(pi))
	}
	c.finish()
	c.res.Names = c.nm.strs
	c.rank()
	return c.res, nil
}

type comparer struct {
	res  *Result
	nm   names
	g, b *side
	// scratch
	gbuf, bbuf []parse.NodeID
	grs, brs   []run
	fg, fb     []uint64
	pending    []work
	order      []int32 // rows in pre-order, computed once by finish
	edits      []edit
	fellBack   int
	units      [][2]int // per pair: unit indices into g.tasks / b.tasks (-1 none)
}

// minCrossSimilarity is the similarity of call sets (Jaccard) above which
// two tasks of different names are paired.
const minCrossSimilarity = 0.5

// pairTasks pairs the tasks of both sides: by comm (or CPU), then, among
// several tasks of one comm, by the similarity of their call sets. With
// pinned selections, the selected tasks are paired whatever their comms.
func (c *comparer) pairTasks(pinned bool) {
	gu, bu := c.g.tasks, c.b.tasks
	type cand struct {
		gi, bi int
		sim    float64
	}
	var cands []cand
	for gi := range gu {
		for bi := range bu {
			if !pinned && gu[gi].label != bu[bi].label {
				continue
			}
			cands = append(cands, cand{gi, bi, jaccard(gu[gi].keys, bu[bi].keys)})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].sim != cands[j].sim {
			return cands[i].sim > cands[j].sim
		}
		if cands[i].gi != cands[j].gi {
			return cands[i].gi < cands[j].gi
		}
		return cands[i].bi < cands[j].bi
	})
	gTaken := make([]int, len(gu))
	bTaken := make([]int, len(bu))
	for i := range gTaken {
		gTaken[i] = -1
	}
	for i := range bTaken {
		bTaken[i] = -1
	}
	for _, cd := range cands {
		if gTaken[cd.gi] >= 0 || bTaken[cd.bi] >= 0 {
			continue
		}
		gTaken[cd.gi] = cd.bi
		bTaken[cd.bi] = cd.gi
	}
	// Tasks left without a partner of the same comm are paired by what
	// they ran when it is clearly the same work: a renamed binary, or a
	// raw ftrace capture (tasks by CPU) against a trace-cmd report (tasks
	// by comm).
	if !pinned {
		cands = cands[:0]
		for gi := range gu {
			for bi := range bu {
				if gTaken[gi] < 0 && bTaken[bi] < 0 {
					if sim := jaccard(gu[gi].keys, bu[bi].keys); sim >= minCrossSimilarity {
						cands = append(cands, cand{gi, bi, sim})
					}
				}
			}
		}
		sort.SliceStable(cands, func(i, j int) bool { return cands[i].sim > cands[j].sim })
		crossed := 0
		for _, cd := range cands {
			if gTaken[cd.gi] >= 0 || bTaken[cd.bi] >= 0 {
				continue
			}
			gTaken[cd.gi] = cd.bi
			bTaken[cd.bi] = cd.gi
			crossed++
		}
		if crossed > 0 {
			c.res.Notes = append(c.res.Notes, fmt.Sprintf("%d task pairs of different names paired by the similarity of their calls", crossed))
		}
	}
	add := func(gi, bi int) {
		p := Pair{Good: -1, Bad: -1, Pinned: pinned}
		switch {
		case gi >= 0 && bi >= 0:
			p.Good, p.Bad = gu[gi].task, bu[bi].task
			p.Similarity = jaccard(gu[gi].keys, bu[bi].keys)
			p.Label = gu[gi].label
			if gl, bl := c.g.t.Tasks[p.Good].Label(), c.b.t.Tasks[p.Bad].Label(); gl != bl {
				p.Label = gl + " / " + bl
			}
		case gi >= 0:
			p.Good, p.Label = gu[gi].task, c.g.t.Tasks[gu[gi].task].Label()
		default:
			p.Bad, p.Label = bu[bi].task, c.b.t.Tasks[bu[bi].task].Label()
		}
		c.res.Pairs = append(c.res.Pairs, p)
		c.units = append(c.units, [2]int{gi, bi})
	}
	for gi := range gu {
		add(gi, gTaken[gi])
	}
	for bi := range bu {
		if bTaken[bi] < 0 {
			add(-1, bi)
		}
	}
}

// newRow appends a row and links it as the last child of parent.
func (c *comparer) newRow(r Row, parent int32, last *int32) int32 {
	id := int32(len(c.res.Rows))
	r.Parent, r.FirstChild, r.NextSibling, r.Div = parent, None, None, None
	if parent != None {
		r.Depth = c.res.Rows[parent].Depth + 1
		r.Pair = c.res.Rows[parent].Pair
		r.Flags |= c.res.Rows[parent].Flags & (parse.FlagLost | parse.FlagOrphan | parse.FlagIRQ)
		if *last == None {
			c.res.Rows[parent].FirstChild = id
		} else {
			c.res.Rows[*last].NextSibling = id
		}
		*last = id
	}
	c.res.Rows = append(c.res.Rows, r)
	return id
}

// work is a matched pair of calls whose children are still to align.
type work struct {
	row  int32
	g, b parse.NodeID
}

// run is a maximal sequence of consecutive sibling calls with identical
// subtrees, shown as one row ("_raw_spin_lock x37").
type run struct {
	first parse.NodeID
	n     int64
	dur   int64
	key   int32
	hash  uint64
}

func runs(s *side, nodes []parse.NodeID, out []run) []run {
	out = out[:0]
	for _, n := range nodes {
		d := s.t.Nodes[n].Duration
		if k := len(out) - 1; k >= 0 && out[k].hash == s.hash[n] && out[k].key == s.key(n) {
			out[k].n++
			if out[k].dur >= 0 && d >= 0 {
				out[k].dur += d
			} else {
				out[k].dur = -1
			}
			continue
		}
		out = append(out, run{first: n, n: 1, dur: d, key: s.key(n), hash: s.hash[n]})
	}
	return out
}

// alignPair builds the rows of one task pair.
func (c *comparer) alignPair(pi int32) {
	u := c.units[pi]
	root := c.newRow(Row{Op: OpChanged, Key: -1, Good: parse.None, Bad: parse.None, GoodDur: -1, BadDur: -1, Pair: pi}, None, nil)
	c.res.Pairs[pi].Row = root
	var groots, broots []parse.NodeID
	if u[0] >= 0 {
		groots = c.g.tasks[u[0]].roots
		c.res.Rows[root].GoodN = int64(c.g.tasks[u[0]].calls)
	}
	if u[1] >= 0 {
		broots = c.b.tasks[u[1]].roots
		c.res.Rows[root].BadN = int64(c.b.tasks[u[1]].calls)
	}
	switch {
	case u[0] < 0:
		c.res.Rows[root].Op = OpBadOnly
	case u[1] < 0:
		c.res.Rows[root].Op = OpGoodOnly
	}
	stack := []work{}
	stack = c.alignChildren(root, groots, broots, stack)
	for len(stack) > 0 {
		w := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if c.res.Options.Depth > 0 && int(c.res.Rows[w.row].Depth) >= c.res.Options.Depth {
			continue
		}
		c.gbuf = c.g.children(w.g, c.gbuf)
		c.bbuf = c.b.children(w.b, c.bbuf)
		stack = c.alignChildren(w.row, c.gbuf, c.bbuf, stack)
	}
}

// alignChildren aligns two sibling lists under row parent, creating rows,
// and returns the work stack with the matched pairs to descend into.
func (c *comparer) alignChildren(parent int32, gs, bs []parse.NodeID, stack []work) []work {
	c.grs = runs(c.g, gs, c.grs)
	c.brs = runs(c.b, bs, c.brs)
	gr, br := c.grs, c.brs
	c.edits = c.alignRuns(gr, br, c.edits)
	last := None
	pending := c.pending[:0]
	for _, e := range c.edits {
		switch e.op {
		case OpSame:
			g, b := gr[e.a], br[e.b]
			op := OpChanged
			if g.hash == b.hash && g.n == b.n {
				op = OpSame
			}
			fl := (c.g.t.Nodes[g.first].Flags | c.b.t.Nodes[b.first].Flags) & rowFlags
			id := c.newRow(Row{Op: op, Key: g.key, Good: g.first, Bad: b.first, GoodN: g.n, BadN: b.n, GoodDur: g.dur, BadDur: b.dur, Flags: fl}, parent, &last)
			pending = append(pending, work{id, g.first, b.first})
		case OpGoodOnly:
			g := gr[e.a]
			fl := c.g.t.Nodes[g.first].Flags & rowFlags
			id := c.newRow(Row{Op: OpGoodOnly, Key: g.key, Good: g.first, Bad: parse.None, GoodN: g.n, GoodDur: g.dur, BadDur: -1, Flags: fl}, parent, &last)
			c.copySubtree(c.g, id, g.first, OpGoodOnly)
		case OpBadOnly:
			b := br[e.b]
			fl := c.b.t.Nodes[b.first].Flags & rowFlags
			id := c.newRow(Row{Op: OpBadOnly, Key: b.key, Good: parse.None, Bad: b.first, BadN: b.n, GoodDur: -1, BadDur: b.dur, Flags: fl}, parent, &last)
			c.copySubtree(c.b, id, b.first, OpBadOnly)
		}
	}
	// Descend in order: push in reverse so the first sibling is next.
	for i := len(pending) - 1; i >= 0; i-- {
		stack = append(stack, pending[i])
	}
	c.pending = pending[:0]
	return stack
}

// alignRuns aligns two lists of sibling runs in two passes. The first
// pass matches runs by their name and the name of their first callee, so
// that among many calls of one function (x64_sys_call dispatching every
// syscall) each is matched with the one that does the same thing. The
// second pass aligns what is left in each gap by name alone, so a call
// that went another way (inet_recvmsg calling tcp_recvmsg instead of
// tcp_bpf_recvmsg) is still matched with its counterpart.
func (c *comparer) alignRuns(gr, br []run, out []edit) []edit {
	fine := func(s *side, rs []run, t []uint64) []uint64 {
		t = t[:0]
		for _, r := range rs {
			ck := int32(-1)
			for ch := s.t.Nodes[r.first].FirstChild; ch != parse.None; ch = s.t.Nodes[ch].NextSibling {
				if s.included(ch) {
					ck = s.key(ch)
					break
				}
			}
			t = append(t, uint64(uint32(r.key))<<32|uint64(uint32(ck)))
		}
		return t
	}
	c.fg, c.fb = fine(c.g, gr, c.fg), fine(c.b, br, c.fb)
	fg, fb := c.fg, c.fb
	out = out[:0]
	if slices.Equal(fg, fb) {
		// The common case: both sides made the same calls in the same
		// order, whatever happened below them.
		for i := range fg {
			out = append(out, edit{OpSame, int32(i), int32(i)})
		}
		return out
	}
	// Dense token ids, ordered by value so that the alignment does not
	// depend on which side is which.
	all := append(append([]uint64(nil), fg...), fb...)
	slices.Sort(all)
	all = slices.Compact(all)
	dense := func(f []uint64) []int32 {
		t := make([]int32, len(f))
		for i, v := range f {
			j, _ := slices.BinarySearch(all, v)
			t[i] = int32(j)
		}
		return t
	}
	first, fell := align(dense(fg), dense(fb), nil)
	if fell {
		c.fellBack++
	}
	for i := 0; i < len(first); {
		if first[i].op == OpSame {
			out = append(out, first[i])
			i++
			continue
		}
		j := i
		var ga, ba []int32
		var gi, bi []int32
		for ; j < len(first) && first[j].op != OpSame; j++ {
			if first[j].op == OpGoodOnly {
				ga, gi = append(ga, gr[first[j].a].key), append(gi, first[j].a)
			} else {
				ba, bi = append(ba, br[first[j].b].key), append(bi, first[j].b)
			}
		}
		second, fell := align(ga, ba, nil)
		if fell {
			c.fellBack++
		}
		for _, e := range second {
			switch e.op {
			case OpSame:
				out = append(out, edit{OpSame, gi[e.a], bi[e.b]})
			case OpGoodOnly:
				out = append(out, edit{OpGoodOnly, gi[e.a], -1})
			default:
				out = append(out, edit{OpBadOnly, -1, bi[e.b]})
			}
		}
		i = j
	}
	return out
}

// copySubtree adds the rows of a call present on one side only.
func (c *comparer) copySubtree(s *side, row int32, n parse.NodeID, op Op) {
	type item struct {
		row int32
		n   parse.NodeID
	}
	stack := []item{{row, n}}
	var buf []parse.NodeID
	var rs []run
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if c.res.Options.Depth > 0 && int(c.res.Rows[it.row].Depth) >= c.res.Options.Depth {
			continue
		}
		buf = s.children(it.n, buf)
		rs = runs(s, buf, rs)
		last := None
		first := len(stack)
		for _, r := range rs {
			row := Row{Op: op, Key: r.key, Good: parse.None, Bad: parse.None, GoodDur: -1, BadDur: -1,
				Flags: s.t.Nodes[r.first].Flags & rowFlags}
			if op == OpGoodOnly {
				row.Good, row.GoodN, row.GoodDur = r.first, r.n, r.dur
			} else {
				row.Bad, row.BadN, row.BadDur = r.first, r.n, r.dur
			}
			id := c.newRow(row, it.row, &last)
			stack = append(stack, item{id, r.first})
		}
		// Keep pre-order: reverse what was just pushed.
		for i, j := first, len(stack)-1; i < j; i, j = i+1, j-1 {
			stack[i], stack[j] = stack[j], stack[i]
		}
	}
}

// finish computes each row's subtree size and settles matched rows' Op
// bottom-up: a matched row is the same only when its run lengths agree and
// every row below it is the same.
func (c *comparer) finish() {
	rows := c.res.Rows
	c.order = c.res.preorder()
	order := c.order
	for i := len(order) - 1; i >= 0; i-- {
		id := order[i]
		r := &rows[id]
		r.Size = 1
		changed := r.GoodN != r.BadN && r.Op <= OpChanged
		for ch := r.FirstChild; ch != None; ch = rows[ch].NextSibling {
			r.Size += rows[ch].Size
			if rows[ch].Op != OpSame {
				changed = true
			}
		}
		if r.Op <= OpChanged {
			cut := c.res.Options.Depth > 0 && int(r.Depth) >= c.res.Options.Depth
			switch {
			case changed:
				r.Op = OpChanged
			case !cut:
				r.Op = OpSame
			}
		}
	}
	for _, s := range []*side{c.g, c.b} {
		if s.noise > 0 {
			c.res.Notes = append(c.res.Notes, fmt.Sprintf("%s: %d idle or tracer tasks left out as noise (--idle, --tracer show them)", s.t.Path, s.noise))
		}
	}
	if c.fellBack > 0 {
		c.res.Notes = append(c.res.Notes, fmt.Sprintf("%d call sequences too long for an exact alignment were matched greedily in order", c.fellBack))
	}
	for _, s := range []*side{c.g, c.b} {
		hidden := 0
		for i := range s.t.Nodes {
			n := &s.t.Nodes[i]
			if n.Flags&parse.FlagIRQ != 0 && (n.Parent == parse.None || s.t.Nodes[n.Parent].Flags&parse.FlagIRQ == 0) {
				hidden++
			}
		}
		if hidden > 0 && !c.res.Options.IRQ {
			c.res.Notes = append(c.res.Notes, fmt.Sprintf("%s: %d interrupt subtrees nested in tasks left out as noise (--irq shows them)", s.t.Path, hidden))
		}
	}
}

// rowFlags are the node flags a row keeps.
const rowFlags = parse.FlagLost | parse.FlagOrphan | parse.FlagUnclosed | parse.FlagIRQ

// preorder returns the row indices in depth-first order, task by task.
func (r *Result) preorder() []int32 {
	order := make([]int32, 0, len(r.Rows))
	var stack []int32
	for pi := range r.Pairs {
		stack = append(stack[:0], r.Pairs[pi].Row)
		for len(stack) > 0 {
			id := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			order = append(order, id)
			first := len(stack)
			for ch := r.Rows[id].FirstChild; ch != None; ch = r.Rows[ch].NextSibling {
				stack = append(stack, ch)
			}
			for i, j := first, len(stack)-1; i < j; i, j = i+1, j-1 {
				stack[i], stack[j] = stack[j], stack[i]
			}
		}
	}
	return order
}

// Preorder returns the row indices of the aligned tree in depth-first
// order, task by task: the order in which renderers list rows.
func (r *Result) Preorder() []int32 { return r.preorder() }
