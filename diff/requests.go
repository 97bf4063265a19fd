package diff

import (
	"regexp"
	"sort"

	"github.com/tracediff/tracediff/parse"
)

// RequestOptions say how a capture is cut into requests.
type RequestOptions struct {
	// Task keeps only the requests of tasks matching this selector: a pid,
	// a comm glob or "comm-pid". Empty keeps every task.
	Task string
	// Raw matches the root function by its name as printed, without
	// removing compiler suffixes and offsets.
	Raw bool
	// IRQ also counts calls of the root made in interrupt context, and
	// keeps interrupt and softirq subtrees in the requests' call paths.
	// They are noise by default: a timer interrupt lands anywhere.
	IRQ bool
	// Marker, when set, cuts each task's timeline at events (trace_marker
	// prints and other non-call events) whose name or text matches it,
	// instead of at calls of a root function: a request is the calls
	// between one matching event and the next.
	Marker *regexp.Regexp
}

// Request is one request found in a capture: a topmost call of the root
// function, or the calls between two marker events. Requests are samples
// of the same work, to be compared with each other.
type Request struct {
	Index    int          // 0-based position among the capture's requests, in time order
	Task     int          // index into Trace.Tasks
	Node     parse.NodeID // the root call; for marker requests, the marker event
	Roots    []parse.NodeID
	Entry    int64 // entry timestamp in ns, -1 unknown
	Duration int64 // ns, -1 unknown
	Line     int   // source line of the root call or marker
	Marker   string
}

// Number returns the request's 1-based number, as printed.
func (r *Request) Number() int { return r.Index + 1 }

// maxStackRepeat bounds how many requests one map entry of a stack capture
// stands for.
const maxStackRepeat = 1000

// splitStacks makes a request of each stack of a stack capture: one per
// event, so a map entry counted N times stands for N requests (at most
// maxStackRepeat). With root set, a stack's request starts at its first
// frame of root, and stacks without it are left out.
func splitStacks(t *parse.Trace, root string, opts RequestOptions) []Request {
	want := root
	if !opts.Raw {
		want = parse.Normalize(root)
	}
	var reqs []Request
	for _, smp := range t.Samples {
		if opts.Task != "" && !matchTask(&t.Tasks[smp.Task], opts.Task) {
			continue
		}
		start := smp.Root
		if root != "" {
			start = parse.None
			for n := smp.Root; ; n = t.Nodes[n].FirstChild {
				name := t.Nodes[n].Name
				if !opts.Raw {
					name = t.Names.Key(name)
				}
				if t.Names.String(name) == want {
					start = n
					break
				}
				if n == smp.Leaf || t.Nodes[n].FirstChild == parse.None {
					break
				}
			}
			if start == parse.None {
				continue
			}
		}
		for k := int64(0); k < min(max(smp.Count, 1), maxStackRepeat); k++ {
			reqs = append(reqs, Request{Task: int(smp.Task), Node: start, Roots: []parse.NodeID{start},
				Entry: -1, Duration: -1, Line: int(smp.Line)})
		}
	}
	return reqs
}

// SplitRequests cuts t into requests. Each topmost call of root (matched
// by its normalised name, see [parse.Normalize]: "__x64_sys_read",
// "__sys_recvfrom") is a request, with the call's subtree as its tree;
// calls of root nested in another call of root belong to the outer one.
// With opts.Marker set, root is ignored and the marker events cut the
// timeline instead. In a stack capture (bpftrace, perf script, folded)
// each stack is a request, one per event it stands for, starting at root
// when root is set. Requests are numbered in time order (entry time, then
// task, then position in the capture).
func SplitRequests(t *parse.Trace, root string, opts RequestOptions) []Request {
	var reqs []Request
	switch {
	case opts.Marker != nil:
		reqs = splitMarkers(t, opts)
	case len(t.Samples) > 0:
		reqs = splitStacks(t, root, opts)
	default:
		reqs = splitRoots(t, root, opts)
	}
	sort.SliceStable(reqs, func(i, j int) bool {
		a, b := &reqs[i], &reqs[j]
		if a.Entry != b.Entry && a.Entry >= 0 && b.Entry >= 0 {
			return a.Entry < b.Entry
		}
		if a.Task != b.Task {
			return a.Task < b.Task
		}
		return a.Node < b.Node
	})
	for i := range reqs {
		reqs[i].Index = i
	}
	return reqs
}

func splitRoots(t *parse.Trace, root string, opts RequestOptions) []Request {
	want := root
	if !opts.Raw {
		want = parse.Normalize(root)
	}
	// The root's name ids: every raw name whose key (or itself) is want.
	match := make([]bool, t.Names.Len())
	anyMatch := false
	for i := range match {
		id := parse.NameID(i)
		k := id
		if !opts.Raw {
			k = t.Names.Key(id)
		}
		if t.Names.String(k) == want {
			match[i] = true
			anyMatch = true
		}
	}
	if !anyMatch {
		return nil
	}
	var reqs []Request
	var stack []parse.NodeID
	for ti := range t.Tasks {
		tk := &t.Tasks[ti]
		if opts.Task != "" && !matchTask(tk, opts.Task) {
			continue
		}
		for r := tk.First; r != parse.None; r = t.Nodes[r].NextSibling {
			stack = append(stack[:0], r)
			for len(stack) > 0 {
				n := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				nd := &t.Nodes[n]
				if nd.Flags&(parse.FlagEvent|parse.FlagFrame) != 0 {
					continue
				}
				if nd.Flags&parse.FlagIRQ != 0 && !opts.IRQ {
					continue
				}
				if match[nd.Name] {
					reqs = append(reqs, Request{Task: ti, Node: n, Roots: []parse.NodeID{n},
						Entry: nd.Entry, Duration: nd.Duration, Line: int(nd.Line)})
					continue
				}
				// Push children in reverse so they pop in time order.
				mark := len(stack)
				for c := nd.FirstChild; c != parse.None; c = t.Nodes[c].NextSibling {
					stack = append(stack, c)
				}
				for a, b := mark, len(stack)-1; a < b; a, b = a+1, b-1 {
					stack[a], stack[b] = stack[b], stack[a]
				}
			}
		}
	}
	return reqs
}

// splitMarkers cuts each selected task's roots at marker events: an event
// at the outermost level whose name or note matches opts.Marker starts a
// request holding the roots that follow it, up to the next marker.
func splitMarkers(t *parse.Trace, opts RequestOptions) []Request {
	var reqs []Request
	for ti := range t.Tasks {
		tk := &t.Tasks[ti]
		if opts.Task != "" && !matchTask(tk, opts.Task) {
			continue
		}
		cur := -1
		for r := tk.First; r != parse.None; r = t.Nodes[r].NextSibling {
			nd := &t.Nodes[r]
			if nd.Flags&parse.FlagEvent != 0 {
				text := t.NameOf(r) + " " + t.NoteOf(r)
				if opts.Marker.MatchString(text) {
					reqs = append(reqs, Request{Task: ti, Node: r, Entry: nd.Entry, Duration: -1,
						Line: int(nd.Line), Marker: t.NoteOf(r)})
					cur = len(reqs) - 1
				}
				continue
			}
			if cur < 0 || nd.Flags&parse.FlagFrame != 0 || nd.Flags&parse.FlagIRQ != 0 && !opts.IRQ {
				continue
			}
			q := &reqs[cur]
			q.Roots = append(q.Roots, r)
			if nd.Entry >= 0 && nd.Duration >= 0 && q.Entry >= 0 {
				if end := nd.Entry + nd.Duration - q.Entry; end > q.Duration {
					q.Duration = end
				}
			}
		}
	}
	return reqs
}
