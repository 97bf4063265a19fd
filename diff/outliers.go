package diff

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/tracediff/tracediff/parse"
)

// Class says why a call made a request slow. Classes are ordered weakest
// first, so that a larger Class is a stronger explanation.
type Class uint8

// Reason classes, weakest first.
const (
	// ClassNone: the request makes no call its peers rarely make.
	ClassNone Class = iota
	// ClassOther: rare calls that fit no stronger class (a page-list
	// flush, a slow path of some allocator).
	ClassOther
	// ClassLock: lock contention (queued_spin_lock_slowpath,
	// __mutex_lock, rwsem_down_read_slowpath).
	ClassLock
	// ClassSleep: the request went off CPU (schedule, *_wait*).
	ClassSleep
	// ClassReclaim: memory reclaim or compaction on the request's path.
	ClassReclaim
	// ClassBlockIO: block I/O or a page-cache miss (submit_bio,
	// io_schedule, blk_*, filemap_add_folio, *_readahead).
	ClassBlockIO
)

var classNames = [...]string{"none", "other", "lock", "sleeping", "memory reclaim", "block I/O"}

// String returns the class's stable name: "block I/O", "sleeping", ...
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// Classify returns the class of a call by its normalised name, ClassOther
// when it names no known cause of slowness. Only the name is looked at:
// whether the call is rare among the requests is decided by the caller.
func Classify(name string) Class {
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(name, s) {
				return true
			}
		}
		return false
	}
	pre := func(ps ...string) bool {
		for _, p := range ps {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
		return false
	}
	switch {
	case pre("submit_bio", "__submit_bio", "io_schedule", "blk_", "__blk_", "bio_", "submit_bh", "virtblk_",
		"virtio_queue_rq", "nvme_queue_rq", "scsi_queue_rq", "filemap_add_folio", "__filemap_add_folio",
		"add_to_page_cache", "__add_to_page_cache", "filemap_read_folio", "filemap_create_folio",
		"read_pages", "page_cache_ra_", "folio_wait_bit", "wait_on_page_bit", "__folio_lock"),
		has("_readahead", "readpage", "read_folio", "mpage_read"):
		return ClassBlockIO
	case pre("shrink_", "try_to_free_", "do_try_to_free_pages", "__alloc_pages_slowpath",
		"__alloc_pages_direct", "__perform_reclaim", "balance_pgdat", "compact_", "try_to_compact"),
		has("_reclaim"):
		return ClassReclaim
	case name == "schedule" || name == "__schedule" || pre("schedule_", "preempt_schedule", "do_nanosleep",
		"msleep", "usleep_range", "wait_for_completion", "wait_woken", "sk_wait_data", "futex_wait", "__wait_",
		"prepare_to_wait", "finish_wait"),
		has("_wait_event", "_wait_queue_sleep"):
		return ClassSleep
	case has("_slowpath", "slowlock") || pre("__mutex_lock", "mutex_spin_on_owner", "rwsem_down_",
		"rwsem_optimistic_spin", "osq_lock", "__down", "__rt_mutex"):
		return ClassLock
	}
	return ClassOther
}

// OutlierOptions tune [FindOutliers].
type OutlierOptions struct {
	// Rare is the largest share of the requests (0..1) that may make a
	// call path for it to count as rare, and so as a possible reason for a
	// request's slowness (default 0.05). At least one request may always
	// make it.
	Rare float64
	// IRQ keeps interrupt and softirq subtrees nested in the requests.
	// They are noise by default: a timer interrupt lands in any request.
	IRQ bool
}

// Reason is a call path that a request makes and few of its peers do.
type Reason struct {
	Class    Class
	Path     []string // normalised names from the request's root down to the call
	Requests int      // requests that make this path
	Calls    int      // calls of this path in the request
	Dur      int64    // total duration of those calls in ns, -1 unknown
	Line     int      // source line of the first of them
}

// Name returns the called function (the last element of the path).
func (r *Reason) Name() string { return r.Path[len(r.Path)-1] }

// Outlier is a request ranked among its peers, with the rare calls that
// explain it.
type Outlier struct {
	Request
	Class   Class    // the strongest class among its reasons
	Reasons []Reason // rare call paths: strongest class first, then in time order
	// IRQTime is the time in ns spent in interrupt subtrees nested in the
	// request when they are left out as noise, and IRQName the longest
	// of them: what a request with no rare calls most likely lost its
	// time to.
	IRQTime int64
	IRQName string
}

// headline names, per class, the calls that say most plainly what happened;
// [Outlier.Why] names them first.
var headline = map[Class][]string{
	ClassBlockIO: {"submit_bio", "io_schedule", "filemap_add_folio", "page_cache_ra_unbounded", "blk_mq_submit_bio", "folio_wait_bit_common"},
	ClassReclaim: {"try_to_free_pages", "shrink_node", "__alloc_pages_slowpath"},
	ClassSleep:   {"schedule", "io_schedule", "__schedule"},
	ClassLock:    {"queued_spin_lock_slowpath", "native_queued_spin_lock_slowpath", "__mutex_lock", "rwsem_down_read_slowpath", "rwsem_down_write_slowpath"},
}

// Why summarises the strongest reasons of o: "block I/O: submit_bio,
// io_schedule, filemap_add_folio (+30 more)", or "" when it has none. The
// class's headline calls come first, then the others in time order; for
// other rare calls only the topmost of each rare subtree is named.
func (o *Outlier) Why() string {
	if o.Class == ClassNone {
		if o.IRQTime > 0 && o.Duration > 0 && o.IRQTime*4 >= o.Duration {
			return fmt.Sprintf("interrupts (noise): %s in %s and others", parse.FormatDuration(o.IRQTime), o.IRQName)
		}
		return ""
	}
	var names []string
	seen := map[string]bool{}
	for i := range o.Reasons {
		r := &o.Reasons[i]
		if r.Class != o.Class || seen[r.Name()] {
			continue
		}
		if o.Class == ClassOther && topmostSeen(r, o.Reasons[:i]) {
			continue
		}
		seen[r.Name()] = true
		names = append(names, r.Name())
	}
	rank := func(n string) int {
		for i, h := range headline[o.Class] {
			if h == n {
				return i
			}
		}
		return len(headline[o.Class])
	}
	sort.SliceStable(names, func(a, b int) bool { return rank(names[a]) < rank(names[b]) })
	const show = 4
	more := ""
	if len(names) > show {
		more = fmt.Sprintf(" (+%d more)", len(names)-show)
		names = names[:show]
	}
	return o.Class.String() + ": " + strings.Join(names, ", ") + more
}

// topmostSeen reports whether an earlier reason's path is a prefix of r's:
// r only repeats a rare call found higher up.
func topmostSeen(r *Reason, before []Reason) bool {
	for i := range before {
		p := before[i].Path
		if len(p) < len(r.Path) && slicesEqual(p, r.Path[:len(p)]) {
			return true
		}
	}
	return false
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Outliers is the outcome of [FindOutliers].
type Outliers struct {
	Trace    *parse.Trace
	Root     string
	Ranked   []Outlier // strongest explanation first, then slowest first
	Median   int64     // median request duration in ns, -1 unknown
	RareMax  int       // a path made by at most this many requests is rare
	Requests int
	Options  OutlierOptions
}

// FindOutliers compares each request with its peers and explains the slow
// ones by the call paths only they (or very few of them) make. It ranks
// requests by why they were slow, not how long they took: a request with
// block I/O ranks above one that slept, which ranks above lock
// contention, then memory reclaim, then other rare calls, then requests
// with none; duration orders requests within a class. Interrupt subtrees
// are left out unless opts.IRQ, so that a timer interrupt that lands in a
// request, however long, never outranks a page-cache miss.
func FindOutliers(t *parse.Trace, root string, reqs []Request, opts OutlierOptions) *Outliers {
	if opts.Rare <= 0 {
		opts.Rare = 0.05
	}
	res := &Outliers{Trace: t, Root: root, Requests: len(reqs), Options: opts, Median: -1}
	res.RareMax = int(opts.Rare * float64(len(reqs)))
	if res.RareMax < 1 {
		res.RareMax = 1
	}
	// Pass 1: the distinct path hashes of each request, and how many
	// requests make each path.
	type pathInfo struct {
		reqs int
		node parse.NodeID // a representative call
		last int          // last request counted
	}
	paths := map[uint64]*pathInfo{}
	perReq := make([][]pathCall, len(reqs))
	irq := make([]irqTime, len(reqs))
	for i := range reqs {
		perReq[i], irq[i] = requestPaths(t, &reqs[i], opts.IRQ, perReq[i])
		for _, pc := range perReq[i] {
			pi := paths[pc.hash]
			if pi == nil {
				pi = &pathInfo{node: pc.node, last: -1}
				paths[pc.hash] = pi
			}
			if pi.last != i {
				pi.last = i
				pi.reqs++
			}
		}
	}
	// Pass 2: each request's rare paths, classified.
	for i := range reqs {
		o := Outlier{Request: reqs[i], IRQTime: irq[i].total}
		if irq[i].longest != parse.None {
			o.IRQName = t.Names.String(t.KeyOf(irq[i].longest))
		}
		idx := map[uint64]int{}
		for _, pc := range perReq[i] {
			pi := paths[pc.hash]
			if pi.reqs > res.RareMax || pi.reqs >= len(reqs) {
				continue
			}
			nd := &t.Nodes[pc.node]
			if k, ok := idx[pc.hash]; ok {
				r := &o.Reasons[k]
				r.Calls++
				if r.Dur >= 0 && nd.Duration >= 0 {
					r.Dur += nd.Duration
				} else {
					r.Dur = -1
				}
				continue
			}
			p := keyPath(t, pc.node, reqs[i].Roots)
			cl := Classify(p[len(p)-1])
			idx[pc.hash] = len(o.Reasons)
			o.Reasons = append(o.Reasons, Reason{Class: cl, Path: p, Requests: pi.reqs, Calls: 1, Dur: nd.Duration, Line: int(nd.Line)})
			if cl > o.Class {
				o.Class = cl
			}
		}
		sort.SliceStable(o.Reasons, func(a, b int) bool { return o.Reasons[a].Class > o.Reasons[b].Class })
		res.Ranked = append(res.Ranked, o)
	}
	res.Median = medianDuration(reqs)
	sort.SliceStable(res.Ranked, func(a, b int) bool {
		x, y := &res.Ranked[a], &res.Ranked[b]
		if x.Class != y.Class {
			return x.Class > y.Class
		}
		if x.Duration != y.Duration {
			return x.Duration > y.Duration
		}
		return x.Index < y.Index
	})
	return res
}

// pathCall is one call of a request with the hash of its path of keys
// from the request's root.
type pathCall struct {
	hash uint64
	node parse.NodeID
}

// irqTime is the time a request spent in the interrupt subtrees left out.
type irqTime struct {
	total   int64
	longest parse.NodeID
}

// requestPaths lists the calls of q in time order with their path hashes,
// leaving out events and, unless irq, interrupt subtrees, whose time it
// adds up.
func requestPaths(t *parse.Trace, q *Request, irq bool, buf []pathCall) ([]pathCall, irqTime) {
	buf = buf[:0]
	it := irqTime{longest: parse.None}
	type frame struct {
		n parse.NodeID
		h uint64
	}
	var stack []frame
	for ri := len(q.Roots) - 1; ri >= 0; ri-- {
		stack = append(stack, frame{q.Roots[ri], 0x632BE59BD9B4E019})
	}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !includedCall(t, f.n, irq) {
			nd := &t.Nodes[f.n]
			if nd.Flags&parse.FlagIRQ != 0 && nd.Flags&parse.FlagEvent == 0 && nd.Duration > 0 {
				it.total += nd.Duration
				if it.longest == parse.None || nd.Duration > t.Nodes[it.longest].Duration {
					it.longest = f.n
				}
			}
			continue
		}
		h := (f.h ^ uint64(t.KeyOf(f.n))) * 0x100000001B3
		h ^= h >> 29
		h *= 0x9E3779B97F4A7C15
		buf = append(buf, pathCall{h, f.n})
		mark := len(stack)
		for c := t.Nodes[f.n].FirstChild; c != parse.None; c = t.Nodes[c].NextSibling {
			stack = append(stack, frame{c, h})
		}
		for a, b := mark, len(stack)-1; a < b; a, b = a+1, b-1 {
			stack[a], stack[b] = stack[b], stack[a]
		}
	}
	return buf, it
}

// includedCall reports whether node n is a call (or a stack frame) that
// takes part in request comparisons: not an event, and not interrupt work
// unless irq.
func includedCall(t *parse.Trace, n parse.NodeID, irq bool) bool {
	f := t.Nodes[n].Flags
	if f&parse.FlagEvent != 0 {
		return false
	}
	return irq || f&parse.FlagIRQ == 0
}

// keyPath returns the normalised names from the request root above n down
// to n.
func keyPath(t *parse.Trace, n parse.NodeID, roots []parse.NodeID) []string {
	var p []string
	for x := n; x != parse.None; x = t.Nodes[x].Parent {
		p = append(p, t.Names.String(t.KeyOf(x)))
		isRoot := false
		for _, r := range roots {
			if r == x {
				isRoot = true
				break
			}
		}
		if isRoot {
			break
		}
	}
	for a, b := 0, len(p)-1; a < b; a, b = a+1, b-1 {
		p[a], p[b] = p[b], p[a]
	}
	return p
}

func medianDuration(reqs []Request) int64 {
	var ds []int64
	for i := range reqs {
		if reqs[i].Duration >= 0 {
			ds = append(ds, reqs[i].Duration)
		}
	}
	if len(ds) == 0 {
		return -1
	}
	sort.Slice(ds, func(a, b int) bool { return ds[a] < ds[b] })
	return ds[len(ds)/2]
}

// WriteText prints the top ranked requests (all when top <= 0) as a table,
// each with why it stands out, then the rare call paths of the first few.
func (o *Outliers) WriteText(w io.Writer, top int) error {
	var sb strings.Builder
	t := o.Trace
	fmt.Fprintf(&sb, "%d requests of %s", o.Requests, parse.Safe(o.Root))
	if o.Median >= 0 {
		fmt.Fprintf(&sb, ", median %s", parse.FormatDuration(o.Median))
	}
	sb.WriteString("\n")
	fmt.Fprintf(&sb, "Ranked by why they were slow (block I/O > memory reclaim > sleeping > lock > other rare calls), then duration.\n")
	fmt.Fprintf(&sb, "A call path is rare when at most %d of %d requests make it; interrupt subtrees are %s.\n",
		o.RareMax, o.Requests, map[bool]string{false: "left out (--irq keeps them)", true: "kept"}[o.Options.IRQ])
	if len(o.Ranked) == 0 {
		sb.WriteString("no request found\n")
		_, err := io.WriteString(w, sb.String())
		return err
	}
	n := len(o.Ranked)
	if top > 0 && top < n {
		n = top
	}
	fmt.Fprintf(&sb, "\n%-5s %-8s %-20s %8s %14s %8s  %s\n", "rank", "request", "task", "line", "duration", "x median", "why")
	for i := 0; i < n; i++ {
		x := &o.Ranked[i]
		ratio := "?"
		if x.Duration >= 0 && o.Median > 0 {
			ratio = fmt.Sprintf("%.1f", float64(x.Duration)/float64(o.Median))
		}
		why := x.Why()
		if why == "" {
			why = "-"
		}
		fmt.Fprintf(&sb, "%-5d %-8s %-20s %8d %14s %8s  %s\n", i+1, fmt.Sprintf("#%d", x.Number()),
			parse.Safe(t.Tasks[x.Task].Label()), x.Line, parse.FormatDuration(x.Duration), ratio, parse.Safe(why))
	}
	if n < len(o.Ranked) {
		fmt.Fprintf(&sb, "... %d more requests (--top 0 shows all)\n", len(o.Ranked)-n)
	}
	// Details: the strongest-class paths of the first requests with reasons.
	const details = 3
	shown := 0
	for i := 0; i < n && shown < details; i++ {
		x := &o.Ranked[i]
		if x.Class == ClassNone {
			break
		}
		shown++
		fmt.Fprintf(&sb, "\nrequest #%d (line %d), %s:\n", x.Number(), x.Line, x.Class)
		listed := 0
		for j := range x.Reasons {
			r := &x.Reasons[j]
			if r.Class != x.Class || topmostSeen(r, x.Reasons[:j]) {
				continue
			}
			if listed == 8 {
				sb.WriteString("  ...\n")
				break
			}
			listed++
			fmt.Fprintf(&sb, "  %s  (in %d of %d requests; %dx, %s, line %d)\n", parse.Safe(strings.Join(r.Path, " > ")),
				r.Requests, o.Requests, r.Calls, parse.FormatDuration(r.Dur), r.Line)
		}
	}
	_, err := io.WriteString(w, sb.String())
	return err
}
