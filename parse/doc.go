// Package parse reads kernel trace captures into one model of tasks, call
// trees and stack samples.
//
// It is for turning the text (and binary) outputs of the tools kernel and
// network engineers use -- trace-cmd report of the function_graph tracer, raw
// ftrace output, bpftrace stacks and maps, the stacks of the bcc tools
// (stackcount, profile, offcputime, offwaketime, trace, tcpdrop), perf script
// callchains, folded stacks and trace-cmd's trace.dat -- into a [Trace]: a compact, index-linked
// forest of calls per task, plus weighted stack samples. The format is detected
// from the content, never from the file name ([Detect]), and compressed input
// (gzip, zstd, xz) is decompressed transparently ([Open]).
//
// It is not for comparing captures (see package diff) nor for showing them
// (see package tui and the renderers in diff). It imports no other package of
// this module.
//
// # Model
//
// A capture may hold millions of calls. Every call is a fixed-size [Node] in
// one slice, linked to its parent, first child and next sibling by int32
// indices; function names are interned once in a [Names] table; times and
// durations are integer nanoseconds. Parsers build the model through a
// [Builder], which keeps a stack of open calls per task and allocates nothing
// per line once the name table is warm.
//
// # Errors
//
// Parsers return what they could read plus positioned warnings: truncated and
// partial traces are normal (a buffer that wrapped, a capture stopped mid-call)
// and are read with flags on the affected calls ([FlagOrphan], [FlagUnclosed],
// [FlagLost]). Input with nothing recognisable in it is an error that wraps
// [ErrUnknownFormat]. Every error carrying a position is an [*Error].
package parse
