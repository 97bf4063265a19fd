package diff

import (
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/tracediff/tracediff/parse"
)

// names is the table of matching names shared by both sides of a result.
type names struct {
	strs []string
	ids  map[string]int32
}

func (n *names) intern(s string) int32 {
	if id, ok := n.ids[s]; ok {
		return id
	}
	id := int32(len(n.strs))
	n.strs = append(n.strs, s)
	n.ids[s] = id
	return id
}

// sharedNames interns the matching names of both captures in sorted
// order, so that key ids, and every tie broken by them, do not depend on
// which capture is good and which is bad.
func sharedNames(g, b *parse.Trace, raw bool) names {
	set := map[string]struct{}{}
	for _, t := range []*parse.Trace{g, b} {
		for i := 0; i < t.Names.Len(); i++ {
			id := parse.NameID(i)
			if !raw {
				id = t.Names.Key(id)
			}
			set[t.Names.String(id)] = struct{}{}
		}
	}
	all := make([]string, 0, len(set))
	for s := range set {
		all = append(all, s)
	}
	slices.Sort(all)
	nm := names{ids: make(map[string]int32, len(all))}
	for _, s := range all {
		nm.intern(s)
	}
	return nm
}

// side is one capture prepared for comparison: matching keys per name,
// the filter of calls that take part, structural hashes and call counts.
type side struct {
	t      *parse.Trace
	keyOf  []int32 // per parse.NameID: shared key, or -1 before first use
	hidden []bool  // per parse.NameID: matched a --hide glob
	hash   []uint64
	opts   *Options
	tasks  []taskUnit
	noise  int // tasks left out by the noise model
	where  *BoundFilter
}

// taskUnit is a task's roots after selection (--focus), with facts used to
// pair it with a task of the other side.
type taskUnit struct {
	task  int
	label string
	roots []parse.NodeID
	keys  []int32 // sorted distinct keys of its calls
	calls int
	// edges counts, per parent key << 32 | child key, the calls of the
	// parent that call the child at least once; inst counts the calls of
	// each key. Together they say how consistently a parent calls a child.
	edges map[uint64]int32
	inst  map[int32]int32
}

func newSide(t *parse.Trace, nm *names, opts *Options) *side {
	s := &side{t: t, opts: opts}
	s.keyOf = make([]int32, t.Names.Len())
	s.hidden = make([]bool, t.Names.Len())
	for i := range s.keyOf {
		id := parse.NameID(i)
		k := id
		if !opts.Raw {
			k = t.Names.Key(id)
		}
		s.keyOf[i] = nm.intern(t.Names.String(k))
		for _, g := range opts.Hide {
			if ok, _ := path.Match(g, t.Names.String(k)); ok {
				s.hidden[i] = true
			} else if ok, _ := path.Match(g, t.Names.String(id)); ok {
				s.hidden[i] = true
			}
		}
	}
	s.where = opts.Where.Bind(t)
	s.hash = make([]uint64, len(t.Nodes))
	return s
}

func (s *side) key(n parse.NodeID) int32 { return s.keyOf[s.t.Nodes[n].Name] }

// included reports whether call n takes part in the comparison.
func (s *side) included(n parse.NodeID) bool {
	nd := &s.t.Nodes[n]
	if nd.Flags&parse.FlagEvent != 0 && !s.opts.Events {
		return false
	}
	if nd.Flags&parse.FlagIRQ != 0 && !s.opts.IRQ {
		return false
	}
	if s.hidden[nd.Name] {
		return false
	}
	return s.where == nil || s.where.Match(n)
}

// children returns the included children of n, appended to buf.
func (s *side) children(n parse.NodeID, buf []parse.NodeID) []parse.NodeID {
	buf = buf[:0]
	for c := s.t.Nodes[n].FirstChild; c != parse.None; c = s.t.Nodes[c].NextSibling {
		if s.included(c) {
			buf = append(buf, c)
		}
	}
	return buf
}

// prepare selects each task's roots (the --focus subtrees or the task's
// roots), selects tasks, and computes hashes, call counts, key sets and
// call edges bottom-up, iteratively so that deep traces cannot exhaust the
// stack.
func (s *side) prepare(taskSel string, focus int32) {
	t := s.t
	var buf []parse.NodeID
	for ti := range t.Tasks {
		tk := &t.Tasks[ti]
		if taskSel != "" && !matchTask(tk, taskSel) {
			continue
		}
		if taskSel == "" && noiseTask(tk, s.opts) {
			s.noise++
			continue
		}
		u := taskUnit{task: ti, label: pairLabel(tk), edges: map[uint64]int32{}, inst: map[int32]int32{}}
		for r := tk.First; r != parse.None; r = t.Nodes[r].NextSibling {
			if !s.included(r) {
				continue
			}
			if focus < 0 {
				u.roots = append(u.roots, r)
				continue
			}
			// Topmost calls of the focus function under r.
			stack := []parse.NodeID{r}
			for len(stack) > 0 {
				n := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if s.key(n) == focus {
					u.roots = append(u.roots, n)
					continue
				}
				buf = s.children(n, buf)
				for i := len(buf) - 1; i >= 0; i-- {
					stack = append(stack, buf[i])
				}
			}
		}
		if len(u.roots) == 0 {
			continue
		}
		s.summarise(&u)
		s.tasks = append(s.tasks, u)
	}
}

// summarise computes hashes and call counts of u's subtrees, its key set
// and its call edges.
func (s *side) summarise(u *taskUnit) {
	t := s.t
	type frame struct {
		n    parse.NodeID
		done bool
	}
	seen := map[int32]struct{}{}
	var stack []frame
	var buf []parse.NodeID
	var kids []int32
	for _, r := range u.roots {
		stack = append(stack[:0], frame{r, false})
		for len(stack) > 0 {
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if !f.done {
				stack = append(stack, frame{f.n, true})
				buf = s.children(f.n, buf)
				for i := len(buf) - 1; i >= 0; i-- {
					stack = append(stack, frame{buf[i], false})
				}
				continue
			}
			k := s.key(f.n)
			h := uint64(k)*0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019
			kids = kids[:0]
			for c := t.Nodes[f.n].FirstChild; c != parse.None; c = t.Nodes[c].NextSibling {
				if !s.included(c) {
					continue
				}
				h = (h ^ s.hash[c]) * 0x100000001B3
				h ^= h >> 29
				ck := s.key(c)
				if !slices.Contains(kids, ck) {
					kids = append(kids, ck)
					u.edges[uint64(uint32(k))<<32|uint64(uint32(ck))]++
				}
			}
			u.inst[k]++
			s.hash[f.n] = h
			seen[k] = struct{}{}
			u.calls++
		}
	}
	u.keys = make([]int32, 0, len(seen))
	for k := range seen {
		u.keys = append(u.keys, k)
	}
	slices.Sort(u.keys)
}

// tracers are the comms of tools that write captures.
var tracers = map[string]bool{"trace-cmd": true, "perf": true, "bpftrace": true, "bpftrace-aotrt": true, "uftrace": true}

// noiseTask reports whether tk is left out by the noise model: an idle
// task, or the tracer itself.
func noiseTask(tk *parse.Task, opts *Options) bool {
	if !opts.Idle && (tk.PID == 0 || tk.Comm == "<idle>" || strings.HasPrefix(tk.Comm, "swapper/")) {
		return true
	}
	return !opts.Tracer && tracers[tk.Comm]
}

// pairLabel is what tasks are paired by: the comm, or the CPU for per-CPU
// pseudo-tasks.
func pairLabel(tk *parse.Task) string {
	if tk.Comm != "" && tk.Comm != "<...>" {
		return tk.Comm
	}
	if tk.PID >= 0 {
		return "pid " + strconv.Itoa(int(tk.PID))
	}
	if tk.CPU >= 0 {
		return "cpu " + strconv.Itoa(int(tk.CPU))
	}
	return "stacks"
}

// matchTask reports whether a --good-task/--bad-task selector (a pid, a
// comm glob, or "comm-pid") picks tk.
func matchTask(tk *parse.Task, sel string) bool {
	if pid, err := strconv.Atoi(sel); err == nil {
		return int(tk.PID) == pid
	}
	if ok, _ := path.Match(sel, tk.Comm); ok {
		return true
	}
	return strings.EqualFold(sel, tk.Label())
}

// jaccard returns |a∩b| / |a∪b| of two sorted sets.
func jaccard(a, b []int32) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	i, j, inter := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			inter++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}
