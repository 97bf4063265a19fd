// Package diff compares two captures read by package parse and says where
// they diverge.
//
// It is for the question "what does the bad run do that the good one does
// not?". [Compare] pairs the tasks of both captures (by comm, then by the
// similarity of their calls), aligns the calls of each pair level by level
// in time order with a Myers diff (github.com/sergi/go-diff) on interned
// names, folds runs of identical calls, and finds the divergences: a call
// that calls something else in the same place (a substitution, the
// strongest kind), calls made on one side only, changed repeat counts, and
// calls much slower on one side. Stack captures (bpftrace, perf script,
// folded) are compared as calling-context trees by weight. Divergences are
// ranked so that the one a kernel engineer would call the cause comes
// first: noise (interrupts nested in a task, idle and tracer tasks) is left
// out, a change seen consistently in every request outranks one seen once,
// and a change inside a region with lost events is marked inconclusive.
//
// The outcome is a [Result]: plain data, an aligned tree of [Row]s linked
// by index plus the ranked [Divergence]s, that every renderer reads
// ([Render]: text, JSON, Markdown, HTML, folded stacks, SVG) and that the
// terminal UI (package tui) shows. No renderer re-derives the alignment.
// The package also splits one capture into requests ([SplitRequests]),
// ranks slow requests by why they were slow ([FindOutliers]), compares groups
// of requests ([CompareGroups], [ClusterRequests]), and filters calls ([ParseFilter]).
//
// It is not for reading captures (package parse) nor for interaction
// (package tui). Output is deterministic: no wall-clock budget, no map
// order, no goroutine order reaches a result.
package diff
