package parse

import (
	"fmt"
	"strings"
)

// Format names an input format that package parse reads.
type Format uint8

// The formats [Detect] recognises.
const (
	FormatUnknown      Format = iota
	FormatTraceCmd            // trace-cmd report of function_graph (and other events)
	FormatFtrace              // raw ftrace text of the function_graph tracer
	FormatTraceDat            // trace-cmd's binary trace.dat
	FormatBpftrace            // bpftrace text output: printed stacks and maps
	FormatBpftraceJSON        // bpftrace -f json (NDJSON)
	FormatPerfScript          // perf script with callchains
	FormatFolded              // folded stacks: "root;child;leaf count"
	FormatBCC                 // stack output of the bcc tools (stackcount, profile, offcputime, ...)
	numFormats
)

var formatNames = [...]string{
	FormatUnknown:      "unknown",
	FormatTraceCmd:     "trace-cmd-report",
	FormatFtrace:       "ftrace",
	FormatTraceDat:     "trace.dat",
	FormatBpftrace:     "bpftrace",
	FormatBpftraceJSON: "bpftrace-json",
	FormatPerfScript:   "perf-script",
	FormatFolded:       "folded",
	FormatBCC:          "bcc",
}

// String returns the format's stable name, as used in JSON output.
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("format(%d)", int(f))
}

// NodeID indexes [Trace.Nodes]. [None] means no node.
type NodeID int32

// None is the NodeID of no node (no parent, no child, no sibling).
const None NodeID = -1

// NameID indexes a [Names] table.
type NameID int32

// Flags describe how a call was observed.
type Flags uint16

// Node flags.
const (
	// FlagIRQ: the call ran in interrupt or softirq context nested in the
	// task (an interrupt entry function, a ==========> marker, or a latency
	// flag), or descends from such a call.
	FlagIRQ Flags = 1 << iota
	// FlagOrphan: the capture holds the call's exit but not its entry (it
	// started before the capture did, or its entry was lost).
	FlagOrphan
	// FlagUnclosed: the capture holds the call's entry but not its exit.
	FlagUnclosed
	// FlagLost: events were lost while the call was open, so its subtree
	// may be incomplete.
	FlagLost
	// FlagEvent: the node is not a call but another event on the task's
	// timeline (sched_switch, a trace_marker print, a comment, a stack).
	FlagEvent
	// FlagRet: the call's return value was printed (see [Trace.Ret]).
	FlagRet
	// FlagLeaf: the call was printed as a leaf ("func();"), entry and
	// exit in one line.
	FlagLeaf
	// FlagFrame: the node is a frame of a stack sample, not a timed call.
	FlagFrame
)

// Has reports whether all of m is set in f.
func (f Flags) Has(m Flags) bool { return f&m == m }

// Node is one call (or event, or stack frame). Nodes are fixed-size and
// linked by index so that a trace of millions of calls is one allocation.
type Node struct {
	Name        NameID // interned raw name, as printed
	Parent      NodeID // enclosing call, or None for a root
	FirstChild  NodeID // first callee in time order, or None
	NextSibling NodeID // next call of the same parent (or next root), or None
	Task        int32  // index into Trace.Tasks
	Line        int32  // 1-based source line (record number for binary input)
	Note        int32  // index into Trace.Notes (event text, args), or -1
	CPU         int16  // CPU the line was recorded on, or -1
	Flags       Flags
	Entry       int64 // entry timestamp in ns, or -1 when unknown
	Duration    int64 // duration in ns, or -1 when unknown
}

// Task is one thread of execution: a pid and comm, or, for captures with no
// task column, a CPU (split at context-switch banners when they name tasks).
type Task struct {
	PID   int32  // -1 when unknown
	Comm  string // "" when unknown
	CPU   int16  // the CPU for per-CPU pseudo-tasks, else -1
	First NodeID // first root call in time order, or None
	Calls int    // number of call nodes (events and frames excluded)
}

// Label returns "comm-pid", "comm", "pid N" or "cpu N", whichever is known.
func (t *Task) Label() string {
	switch {
	case t.Comm != "" && t.PID >= 0:
		return fmt.Sprintf("%s-%d", t.Comm, t.PID)
	case t.Comm != "":
		return t.Comm
	case t.PID >= 0:
		return fmt.Sprintf("pid %d", t.PID)
	case t.CPU >= 0:
		return fmt.Sprintf("cpu %d", t.CPU)
	}
	return "?"
}

// Sample is one stack (bpftrace kstack/ustack, a perf script callchain, a
// folded line) with its weight. Its frames are nodes flagged [FlagFrame],
// chained root first from Root to Leaf.
type Sample struct {
	Root, Leaf NodeID
	Count      int64  // 1 per printed stack, the map value for maps
	Agg        string // aggregation of the value: "" (count), "sum", "avg", ...
	Keys       string // other map keys or header fields, e.g. "comm=nginx pid=12"
	Task       int32
	Line       int32
}

// Lost records events lost from the capture.
type Lost struct {
	Line  int32
	CPU   int16 // -1 when not said
	Count int64 // -1 when not said
}

// Warning is a problem found in a readable capture: a malformed line that
// was skipped, a call whose entry or exit is missing, lost events.
type Warning = Error

// Trace is everything read from one capture.
type Trace struct {
	Path     string // file name as given, "-" for standard input
	Format   Format
	Names    *Names
	Nodes    []Node
	Tasks    []Task
	Samples  []Sample
	Notes    []string          // texts referenced by Node.Note
	Rets     map[NodeID]string // return values of nodes with FlagRet, as printed
	Lost     []Lost
	Warnings []Warning
	Header   []string // capture metadata worth showing: cpus=, tracer, kernel version
	Lines    int      // lines (or records) read
}

// NameOf returns the raw name of node id.
func (t *Trace) NameOf(id NodeID) string { return t.Names.String(t.Nodes[id].Name) }

// KeyOf returns the normalised matching name of node id (see [Normalize]).
func (t *Trace) KeyOf(id NodeID) NameID { return t.Names.Key(t.Nodes[id].Name) }

// NoteOf returns the note (event text, args) of node id, or "".
func (t *Trace) NoteOf(id NodeID) string {
	n := t.Nodes[id].Note
	if n < 0 || int(n) >= len(t.Notes) {
		return ""
	}
	return t.Notes[n]
}

// Children calls fn for each child of id in order, stopping if fn returns false.
func (t *Trace) Children(id NodeID, fn func(NodeID) bool) {
	for c := t.Nodes[id].FirstChild; c != None; c = t.Nodes[c].NextSibling {
		if !fn(c) {
			return
		}
	}
}

// Roots calls fn for each root of task in order, stopping if fn returns false.
func (t *Trace) Roots(task int, fn func(NodeID) bool) {
	for c := t.Tasks[task].First; c != None; c = t.Nodes[c].NextSibling {
		if !fn(c) {
			return
		}
	}
}

// Calls returns the number of call nodes (not events, not stack frames).
func (t *Trace) Calls() int {
	n := 0
	for i := range t.Tasks {
		n += t.Tasks[i].Calls
	}
	return n
}

// PathOf returns the names from the root down to id, joined by " > ".
func (t *Trace) PathOf(id NodeID) string {
	var parts []string
	for n := id; n != None; n = t.Nodes[n].Parent {
		parts = append(parts, t.NameOf(n))
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, " > ")
}
