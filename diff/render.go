package diff

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// OutputFormat names a renderer of a [Result].
type OutputFormat string

// The renderers.
const (
	FormatText     OutputFormat = "text"
	FormatJSON     OutputFormat = "json"
	FormatMarkdown OutputFormat = "markdown"
	FormatHTML     OutputFormat = "html"
	FormatFolded   OutputFormat = "folded"
	FormatSVG      OutputFormat = "svg"
)

// OutputFormats lists every renderer, in the order help text shows them.
var OutputFormats = []OutputFormat{FormatText, FormatJSON, FormatMarkdown, FormatHTML, FormatFolded, FormatSVG}

// FormatForFile guesses the output format from a file name's extension
// (".json", ".md", ".html", ".folded", ".svg"), or returns "" when it cannot.
func FormatForFile(name string) OutputFormat {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return FormatJSON
	case ".md", ".markdown":
		return FormatMarkdown
	case ".html", ".htm":
		return FormatHTML
	case ".folded":
		return FormatFolded
	case ".svg":
		return FormatSVG
	case ".txt", ".diff":
		return FormatText
	}
	return ""
}

// RenderOptions control how a result is written.
type RenderOptions struct {
	// Color styles the text output for a terminal.
	Color bool
	// Context is how many matched sibling calls to show on each side of
	// a change in the aligned trees (default 1).
	Context int
	// Trees is how many of the top divergences get their aligned tree
	// printed after the list (0: the default, 5; -1: all).
	Trees int
	// NoTrees prints no aligned tree, only the list of divergences.
	NoTrees bool
	// Command is the command line that produced the result, for reports.
	Command string
	// Inputs describes the input files (checksums, sizes) for reports.
	Inputs []InputInfo
}

// InputInfo describes an input file for reports.
type InputInfo struct {
	Path   string
	Size   int64
	SHA256 string
}

// Render writes r in format f.
func Render(w io.Writer, r *Result, f OutputFormat, opts RenderOptions) error {
	if opts.Context == 0 {
		opts.Context = 1
	}
	switch {
	case opts.NoTrees:
		opts.Trees = 0
	case opts.Trees == 0:
		opts.Trees = 5
	}
	switch f {
	case FormatText, "":
		return renderText(w, r, opts)
	case FormatJSON:
		return renderJSON(w, r, opts)
	case FormatMarkdown:
		return renderMarkdown(w, r, opts)
	case FormatHTML:
		return renderHTML(w, r, opts)
	case FormatFolded:
		return renderFolded(w, r, opts)
	case FormatSVG:
		return renderSVG(w, r, opts)
	}
	return fmt.Errorf("unknown output format %q (want one of %s)", f, formatList())
}

func formatList() string {
	var s []string
	for _, f := range OutputFormats {
		s = append(s, string(f))
	}
	return strings.Join(s, ", ")
}
