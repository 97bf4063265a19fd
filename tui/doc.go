// Package tui is the interactive terminal UI of tracediff: a synchronized
// two-pane view of a [diff.Result], good capture on the left and bad on the
// right, with matched calls on the same line, identical subtrees folded,
// and keys to walk from divergence to divergence, search names, focus on a
// subtree and inspect a call's details.
//
// It is for reading what package diff computed. It is not an aligner: it
// never matches calls itself, it only lays out [diff.Result.Rows]. It is
// not a renderer for files either; the text, JSON, Markdown and HTML
// reports live in package diff.
//
// The view keeps a flattened index of the rows that are open (see index.go)
// and renders only the lines on screen, so that a diff of millions of calls
// stays responsive: a keypress that moves the cursor costs nothing in the
// size of the tree, and folding re-lists only the open rows.
//
// Everything read from a capture goes through [parse.Safe] before it is
// drawn, so a hostile trace cannot send control sequences to the terminal.
package tui
