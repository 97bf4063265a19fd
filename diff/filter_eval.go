package diff

import (
	"strconv"
	"strings"

	"github.com/tracediff/tracediff/parse"
)

// Matching a parsed --where filter against the calls of a trace.

// BoundFilter is a Filter prepared for one trace: it caches the result of
// each string comparison per name and per task, so that matching a million
// calls compares each distinct name once and allocates nothing. It is not
// safe for concurrent use; bind once per goroutine.
type BoundFilter struct {
	f     *Filter
	t     *parse.Trace
	cache [][]uint8 // per slot, per name id (or task): 0 unknown, 1 false, 2 true
}

// Bind prepares f for matching the calls of t. A nil Filter binds to a nil
// BoundFilter, which matches every call.
func (f *Filter) Bind(t *parse.Trace) *BoundFilter {
	if f == nil {
		return nil
	}
	b := &BoundFilter{f: f, t: t, cache: make([][]uint8, f.slots)}
	f.root.walk(func(n *fltNode) {
		if n.slot < 0 {
			return
		}
		size := t.Names.Len()
		if n.field == fComm {
			size = len(t.Tasks)
		}
		b.cache[n.slot] = make([]uint8, size)
	})
	return b
}

func (n *fltNode) walk(fn func(*fltNode)) {
	fn(n)
	for _, k := range n.kids {
		k.walk(fn)
	}
}

// Match reports whether call id of the bound trace satisfies the filter.
// Events and stack frames are matched by the same fields (a frame has no
// duration); for a stack sample, pass its Leaf.
func (b *BoundFilter) Match(id parse.NodeID) bool {
	if b == nil {
		return true
	}
	return b.eval(b.f.root, id)
}

// Match reports whether call id of t satisfies the filter, without the
// caching of [Filter.Bind]; prefer Bind to match many calls. A nil Filter
// matches every call.
func (f *Filter) Match(t *parse.Trace, id parse.NodeID) bool {
	if f == nil {
		return true
	}
	b := BoundFilter{f: f, t: t}
	return b.eval(f.root, id)
}

func (b *BoundFilter) eval(n *fltNode, id parse.NodeID) bool {
	switch n.kind {
	case fltOrK:
		for _, k := range n.kids {
			if b.eval(k, id) {
				return true
			}
		}
		return false
	case fltAndK:
		for _, k := range n.kids {
			if !b.eval(k, id) {
				return false
			}
		}
		return true
	case fltNotK:
		return !b.eval(n.kids[0], id)
	case fltFlagK:
		nd := &b.t.Nodes[id]
		if n.field == fLeaf {
			return fltIsLeaf(b.t, id)
		}
		return nd.Flags&fltFlagBits[n.field] != 0
	}
	return b.cmp(n, id)
}

// fltIsLeaf reports whether call id calls nothing: events and frames under
// it do not count.
func fltIsLeaf(t *parse.Trace, id parse.NodeID) bool {
	for c := t.Nodes[id].FirstChild; c != parse.None; c = t.Nodes[c].NextSibling {
		if t.Nodes[c].Flags&(parse.FlagEvent|parse.FlagFrame) == 0 {
			return false
		}
	}
	return true
}

func (b *BoundFilter) cmp(n *fltNode, id parse.NodeID) bool {
	t := b.t
	nd := &t.Nodes[id]
	switch n.field {
	case fName:
		return b.cached(n, int(t.Names.Key(nd.Name)), t.Names.String)
	case fRaw:
		return b.cached(n, int(nd.Name), t.Names.String)
	case fComm:
		if nd.Task < 0 || int(nd.Task) >= len(t.Tasks) {
			return false
		}
		return b.cached(n, int(nd.Task), func(i parse.NameID) string { return t.Tasks[i].Comm })
	case fRet:
		if nd.Flags&parse.FlagRet == 0 {
			return false
		}
		s, ok := t.Rets[id]
		if !ok {
			return false
		}
		if n.typ == tString {
			return fltCmpString(n, s)
		}
		v, ok := fltRetValue(s)
		return ok && fltCmpInt(n.op, v, n.num)
	}
	var v int64
	switch n.field {
	case fPID:
		if nd.Task < 0 || int(nd.Task) >= len(t.Tasks) || t.Tasks[nd.Task].PID < 0 {
			return false
		}
		v = int64(t.Tasks[nd.Task].PID)
	case fCPU:
		if nd.CPU < 0 {
			return false
		}
		v = int64(nd.CPU)
	case fDuration:
		if nd.Duration < 0 {
			return false
		}
		v = nd.Duration
	case fLine:
		v = int64(nd.Line)
	case fDepth:
		for p := nd.Parent; p != parse.None; p = t.Nodes[p].Parent {
			v++
		}
	}
	return fltCmpInt(n.op, v, n.num)
}

// cached evaluates a string comparison on the string of key i (a name id or
// a task index), once per key when the filter is bound.
func (b *BoundFilter) cached(n *fltNode, i int, str func(parse.NameID) string) bool {
	if n.slot < 0 || n.slot >= len(b.cache) || i < 0 || i >= len(b.cache[n.slot]) {
		s := str(parse.NameID(i))
		return s != "" && fltCmpString(n, s)
	}
	c := b.cache[n.slot]
	if c[i] == 0 {
		s := str(parse.NameID(i))
		c[i] = 1
		if s != "" && fltCmpString(n, s) {
			c[i] = 2
		}
	}
	return c[i] == 2
}

func fltCmpString(n *fltNode, s string) bool {
	switch n.op {
	case cEq:
		return s == n.str
	case cNe:
		return s != n.str
	case cMatch:
		return n.re.MatchString(s)
	case cNoMatch:
		return !n.re.MatchString(s)
	}
	return false
}

func fltCmpInt(op fltCmpOp, v, w int64) bool {
	switch op {
	case cEq:
		return v == w
	case cNe:
		return v != w
	case cLt:
		return v < w
	case cLe:
		return v <= w
	case cGt:
		return v > w
	case cGe:
		return v >= w
	}
	return false
}

// fltRetValue reads a printed return value as an integer: "-22", "0",
// "0xffffffffffffffea" (a 64-bit pattern, so -22).
func fltRetValue(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if v, err := strconv.ParseInt(s, 0, 64); err == nil {
		return v, true
	}
	if u, err := strconv.ParseUint(s, 0, 64); err == nil {
		return int64(u), true
	}
	return 0, false
}
