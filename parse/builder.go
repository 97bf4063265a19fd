package parse

import "fmt"

// Builder assembles a [Trace] from a stream of entries, exits, leaves,
// events and samples, as every parser in this package reads them. It keeps a
// stack of open calls per task, so interleaved tasks and CPUs are rebuilt
// independently, and it handles the partial captures that are normal in
// tracing: an exit with no entry becomes an orphan call that adopts what the
// task ran before it, entries never closed are flagged at [Builder.Finish].
//
// A Builder allocates nothing per call once its slices have grown and the
// names are interned.
type Builder struct {
	t        *Trace
	tasks    []taskState
	byPID    map[int32]int32
	byCPU    map[int16]int32
	byPIDCPU map[int64]int32 // tasks that exist once per CPU (pid 0)
	byInput  map[inputTask]int32
	dropped  int // warnings past MaxWarnings
	unknown  NameID
	orphans  int
	unclosed int
	size     *inputSize // the input being read, for sizing Nodes, or nil
}

type openCall struct {
	id   NodeID
	last NodeID // last child so far
}

type taskState struct {
	open     []openCall
	lastRoot NodeID
	irq      int // >0 while the parser says the task runs in interrupt context
}

// NewBuilder returns a Builder for the capture at path in format f.
// sizeHint, when positive, is the input size in bytes and is used to size
// the node slice up front.
func NewBuilder(path string, f Format, sizeHint int64) *Builder {
	t := &Trace{Path: path, Format: f, Names: NewNames(), Rets: map[NodeID]string{}}
	if sizeHint > 0 {
		// Report lines are ~100 bytes and about 60% of them open a call.
		n := sizeHint / 160
		if n > 1<<26 {
			n = 1 << 26
		}
		t.Nodes = make([]Node, 0, n)
	}
	b := &Builder{t: t, byPID: map[int32]int32{}, byCPU: map[int16]int32{}, byPIDCPU: map[int64]int32{}}
	b.unknown = t.Names.InternString("<unknown>")
	return b
}

// Trace returns the trace being built (complete only after Finish).
func (b *Builder) Trace() *Trace { return b.t }

// Names returns the name table, for parsers that intern names themselves.
func (b *Builder) Names() *Names { return b.t.Names }

// Task returns the index of the task with pid (and comm), creating it when
// new. A pid below zero selects a per-CPU pseudo-task for cpu instead, for
// captures without a task column. A comm of "<...>" (trace-cmd's unknown
// comm) is replaced when the real one appears.
func (b *Builder) Task(pid int32, comm []byte, cpu int16) int32 {
	if pid < 0 {
		if id, ok := b.byCPU[cpu]; ok {
			return id
		}
		id := b.newTask(Task{PID: -1, CPU: cpu, First: None})
		b.byCPU[cpu] = id
		return id
	}
	if id, ok := b.byPID[pid]; ok {
		t := &b.t.Tasks[id]
		if len(comm) > 0 && t.Comm != string(comm) && (t.Comm == "" || t.Comm == "<...>") {
			t.Comm = string(comm)
		}
		return id
	}
	id := b.newTask(Task{PID: pid, Comm: string(comm), CPU: -1, First: None})
	b.byPID[pid] = id
	return id
}

// TaskOnCPU returns the index of the task with pid on cpu, creating it
// when new, for pids that name one task per CPU: the idle task is pid 0 on
// every CPU ("<idle>-0", "swapper/N"), and its CPUs' call trees must not be
// merged.
func (b *Builder) TaskOnCPU(pid int32, comm []byte, cpu int16) int32 {
	k := int64(pid)<<16 | int64(uint16(cpu))
	if id, ok := b.byPIDCPU[k]; ok {
		return id
	}
	id := b.newTask(Task{PID: pid, Comm: string(comm), CPU: cpu, First: None})
	b.byPIDCPU[k] = id
	return id
}

// NameTask gives the per-CPU pseudo-task of cpu (see [Builder.Task]) the pid
// and comm that a context-switch banner revealed for it, so that the calls
// it holds are the named task's. It does nothing and returns false when no
// such pseudo-task exists or another task has that pid already (pid 0 is
// per CPU, see [Builder.TaskOnCPU]). After it, Task(-1, nil, cpu) makes a
// new pseudo-task.
func (b *Builder) NameTask(cpu int16, pid int32, comm []byte) bool {
	id, ok := b.byCPU[cpu]
	if !ok || pid < 0 {
		return false
	}
	if pid == 0 {
		k := int64(pid)<<16 | int64(uint16(cpu))
		if _, dup := b.byPIDCPU[k]; dup {
			return false
		}
		b.byPIDCPU[k] = id
	} else {
		if _, dup := b.byPID[pid]; dup {
			return false
		}
		b.byPID[pid] = id
		b.t.Tasks[id].CPU = -1
	}
	delete(b.byCPU, cpu)
	b.t.Tasks[id].PID = pid
	b.t.Tasks[id].Comm = string(comm)
	return true
}

// inputTask keys a task of one input of a merged capture.
type inputTask struct {
	input string
	pid   int32
	cpu   int16 // for pid 0, which is one task per CPU; else -1
}

// TaskIn is Task for captures that merge several inputs: trace-cmd report
// -i a.dat -i b.dat prefixes each line with its file name. Tasks of
// different inputs stay apart even when their pids are equal, and their
// comm reads "input:comm", so that --good-task 'a.dat:*' selects them.
func (b *Builder) TaskIn(input []byte, pid int32, comm []byte, cpu int16) int32 {
	k := inputTask{input: string(input), pid: pid, cpu: -1}
	if pid == 0 {
		k.cpu = cpu
	}
	if id, ok := b.byInput[k]; ok {
		return id
	}
	if b.byInput == nil {
		b.byInput = map[inputTask]int32{}
	}
	t := Task{PID: pid, Comm: k.input + ":" + string(comm), CPU: k.cpu, First: None}
	id := b.newTask(t)
	b.byInput[k] = id
	return id
}

func (b *Builder) newTask(t Task) int32 {
	b.t.Tasks = append(b.t.Tasks, t)
	b.tasks = append(b.tasks, taskState{lastRoot: None})
	return int32(len(b.t.Tasks) - 1)
}

// Depth returns the number of calls open in task.
func (b *Builder) Depth(task int32) int { return len(b.tasks[task].open) }

// SetIRQ tells the builder that task enters (on) or leaves (off) interrupt
// context, as ftrace's ==========> and <========== markers say. Calls made
// meanwhile are flagged [FlagIRQ].
func (b *Builder) SetIRQ(task int32, on bool) {
	ts := &b.tasks[task]
	if on {
		ts.irq++
	} else if ts.irq > 0 {
		ts.irq--
	}
}

// add appends a node under the task's innermost open call (or as a root).
func (b *Builder) add(task int32, name NameID, ts, dur int64, cpu int16, line int32, fl Flags) NodeID {
	t := b.t
	st := &b.tasks[task]
	id := NodeID(len(t.Nodes))
	parent := None
	if k := len(st.open); k > 0 {
		oc := &st.open[k-1]
		parent = oc.id
		if t.Nodes[parent].Flags&FlagIRQ != 0 {
			fl |= FlagIRQ
		}
		if oc.last == None {
			t.Nodes[parent].FirstChild = id
		} else {
			t.Nodes[oc.last].NextSibling = id
		}
		oc.last = id
	} else {
		if st.lastRoot == None {
			t.Tasks[task].First = id
		} else {
			t.Nodes[st.lastRoot].NextSibling = id
		}
		st.lastRoot = id
	}
	if st.irq > 0 || fl&(FlagEvent|FlagFrame) == 0 && t.Names.IsIRQEntry(name) {
		fl |= FlagIRQ
	}
	if len(t.Nodes) == cap(t.Nodes) {
		b.growNodes()
	}
	t.Nodes = append(t.Nodes, Node{
		Name: name, Parent: parent, FirstChild: None, NextSibling: None,
		Task: task, Line: line, Note: -1, CPU: cpu, Flags: fl, Entry: ts, Duration: dur,
	})
	if fl&(FlagEvent|FlagFrame) == 0 {
		t.Tasks[task].Calls++
	}
	return id
}

// growNodes grows the node slice's capacity: to what the part of the
// input read so far projects for the whole input, with an eighth to spare,
// or else to double. append grows large slices by a quarter at a time,
// which for millions of nodes copies the whole slice a dozen times over:
// most of the parsing time of a large capture.
func (b *Builder) growNodes() {
	c := int64(cap(b.t.Nodes))
	n := 2 * c
	if total, done := b.size.total(), b.size.done(); total > done && done > 0 {
		p := int64(float64(len(b.t.Nodes)) * float64(total) / float64(done))
		n = max(p+p/8, c+c/4)
	}
	b.reserve(max(n, 1024))
}

// reserve makes room for n nodes in all.
func (b *Builder) reserve(n int64) {
	n = min(n, maxNodes)
	if n <= int64(cap(b.t.Nodes)) {
		return
	}
	nodes := make([]Node, len(b.t.Nodes), n)
	copy(nodes, b.t.Nodes)
	b.t.Nodes = nodes
}

// maxNodes bounds what reserve asks for from an estimate; append grows
// past it if a trace needs more.
const maxNodes = 1 << 28

// Enter records the entry of a call that has callees ("func() {").
// ts is the entry time in ns or -1.
func (b *Builder) Enter(task int32, name []byte, ts int64, cpu int16, line int32) NodeID {
	id := b.add(task, b.t.Names.Intern(name), ts, -1, cpu, line, 0)
	st := &b.tasks[task]
	st.open = append(st.open, openCall{id: id, last: None})
	return id
}

// Leaf records a call with no callees ("func();"), with its duration in ns
// or -1.
func (b *Builder) Leaf(task int32, name []byte, ts, dur int64, cpu int16, line int32) NodeID {
	return b.add(task, b.t.Names.Intern(name), ts, dur, cpu, line, FlagLeaf)
}

// Exit records the end of the innermost open call of task ("}"), with its
// duration in ns or -1. name, when the capture prints it ("} /* func */"),
// is checked against the open calls: an exit that closes a call further out
// closes the calls inside it as unclosed. An exit with no open call is an
// orphan: its call started before the capture did, so it adopts the calls
// the task made before it. Exit returns the closed call.
func (b *Builder) Exit(task int32, name []byte, ts, dur int64, cpu int16, line int32) NodeID {
	t := b.t
	st := &b.tasks[task]
	k := len(st.open)
	if k > 0 && len(name) > 0 {
		top := t.Nodes[st.open[k-1].id].Name
		if string(name) != t.Names.String(top) && t.Names.Key(top) != t.Names.Key(t.Names.Intern(name)) {
			// Look for the named call further out; if found, the calls
			// inside it lost their exits.
			for j := k - 2; j >= 0; j-- {
				if t.Names.String(t.Nodes[st.open[j].id].Name) == string(name) {
					for i := k - 1; i > j; i-- {
						t.Nodes[st.open[i].id].Flags |= FlagUnclosed
						b.unclosed++
					}
					st.open = st.open[:j+1]
					k = j + 1
					break
				}
			}
		}
	}
	if k == 0 {
		return b.orphan(task, name, ts, dur, cpu, line)
	}
	id := st.open[k-1].id
	st.open = st.open[:k-1]
	n := &t.Nodes[id]
	n.Duration = dur
	if n.Entry < 0 && ts >= 0 && dur >= 0 {
		n.Entry = ts - dur
	}
	return id
}

// orphan makes a call for an exit with no entry. Everything the task ran so
// far at the outermost level ran inside it, so it adopts the task's roots.
func (b *Builder) orphan(task int32, name []byte, ts, dur int64, cpu int16, line int32) NodeID {
	t := b.t
	st := &b.tasks[task]
	nid := b.unknown
	if len(name) > 0 {
		nid = t.Names.Intern(name)
	}
	entry := int64(-1)
	if ts >= 0 && dur >= 0 {
		entry = ts - dur
	}
	first := t.Tasks[task].First
	id := NodeID(len(t.Nodes))
	fl := FlagOrphan
	if t.Names.IsIRQEntry(nid) {
		fl |= FlagIRQ
	}
	t.Nodes = append(t.Nodes, Node{
		Name: nid, Parent: None, FirstChild: first, NextSibling: None,
		Task: task, Line: line, Note: -1, CPU: cpu, Flags: fl, Entry: entry, Duration: dur,
	})
	for c := first; c != None; c = t.Nodes[c].NextSibling {
		t.Nodes[c].Parent = id
		if fl&FlagIRQ != 0 {
			b.markIRQ(c)
		}
	}
	if first != None && t.Nodes[id].Entry < 0 {
		t.Nodes[id].Entry = t.Nodes[first].Entry
	}
	t.Tasks[task].First = id
	t.Tasks[task].Calls++
	st.lastRoot = id
	b.orphans++
	return id
}

func (b *Builder) markIRQ(id NodeID) {
	t := b.t
	t.Nodes[id].Flags |= FlagIRQ
	for c := t.Nodes[id].FirstChild; c != None; c = t.Nodes[c].NextSibling {
		b.markIRQ(c)
	}
}

// Event records a non-call event on the task's timeline (sched_switch, a
// trace_marker print, a "/* comment */", a kernel stack), nested under the
// innermost open call. name is the event's name and note its text.
func (b *Builder) Event(task int32, name []byte, note string, ts int64, cpu int16, line int32) NodeID {
	id := b.add(task, b.t.Names.Intern(name), ts, -1, cpu, line, FlagEvent)
	b.SetNote(id, note)
	return id
}

// SetNote attaches a text (event details, printed arguments) to node id.
func (b *Builder) SetNote(id NodeID, note string) {
	if note == "" {
		return
	}
	b.t.Notes = append(b.t.Notes, note)
	b.t.Nodes[id].Note = int32(len(b.t.Notes) - 1)
}

// SetRet records the return value of call id as printed ("0", "-22",
// "0xffffffea").
func (b *Builder) SetRet(id NodeID, ret string) {
	b.t.Nodes[id].Flags |= FlagRet
	b.t.Rets[id] = ret
}

// Sample records one stack: frames root first, with its weight and keys.
// The frames become a chain of [FlagFrame] nodes rooted in task.
func (b *Builder) Sample(task int32, frames [][]byte, count int64, agg, keys string, line int32) {
	if len(frames) == 0 {
		return
	}
	st := &b.tasks[task]
	saved := st.open
	st.open = nil
	var root, leaf NodeID = None, None
	for _, f := range frames {
		id := b.add(task, b.t.Names.Intern(f), -1, -1, -1, line, FlagFrame)
		if root == None {
			root = id
		}
		leaf = id
		st.open = append(st.open, openCall{id: id, last: None})
	}
	st.open = saved
	b.t.Samples = append(b.t.Samples, Sample{Root: root, Leaf: leaf, Count: count, Agg: agg, Keys: keys, Task: task, Line: line})
}

// LostEvents records that count events (-1: an unknown number) were lost
// on cpu (-1: unknown) at line. Calls open at that moment on tasks last
// seen on that CPU (every task when the CPU is unknown) are flagged
// [FlagLost], and so a divergence inside them is inconclusive.
func (b *Builder) LostEvents(cpu int16, count int64, line int32) {
	t := b.t
	t.Lost = append(t.Lost, Lost{Line: line, CPU: cpu, Count: count})
	for ti := range b.tasks {
		for _, oc := range b.tasks[ti].open {
			n := &t.Nodes[oc.id]
			if cpu < 0 || n.CPU == cpu || n.CPU < 0 {
				n.Flags |= FlagLost
			}
		}
	}
	what := "events"
	if count >= 0 {
		what = fmt.Sprintf("%d events", count)
	}
	if cpu >= 0 {
		b.Warnf(int(line), "%s lost on CPU %d: call trees around here may be incomplete", what, cpu)
	} else {
		b.Warnf(int(line), "%s lost: call trees around here may be incomplete", what)
	}
}

// Header records a line of capture metadata worth showing (cpus=2, the
// tracer, the kernel version).
func (b *Builder) Header(s string) { b.t.Header = append(b.t.Header, s) }

// Warnf records a positioned warning. Past [MaxWarnings] they are counted.
func (b *Builder) Warnf(line int, format string, args ...any) {
	if len(b.t.Warnings) >= MaxWarnings {
		b.dropped++
		return
	}
	b.t.Warnings = append(b.t.Warnings, Error{File: b.t.Path, Line: line, Offset: -1, Msg: fmt.Sprintf(format, args...)})
}

// Finish closes the model: calls still open are flagged [FlagUnclosed] and
// summarised in a warning, as are orphan exits. lines is the number of
// lines (or records) read.
func (b *Builder) Finish(lines int) *Trace {
	t := b.t
	t.Lines = lines
	for ti := range b.tasks {
		for _, oc := range b.tasks[ti].open {
			t.Nodes[oc.id].Flags |= FlagUnclosed
			b.unclosed++
		}
		b.tasks[ti].open = nil
	}
	if b.orphans > 0 {
		b.Warnf(0, "%d exits without an entry (the capture starts mid-call): read as calls of unknown start", b.orphans)
	}
	if b.unclosed > 0 {
		b.Warnf(0, "%d calls without an exit (the capture ends mid-call or lost events): durations unknown", b.unclosed)
	}
	if b.dropped > 0 {
		t.Warnings = append(t.Warnings, Error{File: t.Path, Offset: -1, Msg: fmt.Sprintf("%d more warnings not shown", b.dropped)})
	}
	return t
}
