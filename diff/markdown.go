package diff

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/tracediff/tracediff/parse"
)

// mdOpenLines is the longest aligned-tree context shown open in Markdown;
// longer ones go in a collapsed <details> block under a short excerpt.
const mdOpenLines = 24

// mdOpenDivs is how many rows the summary table shows open; the rest are
// in a collapsed <details> block.
const mdOpenDivs = 20

// renderMarkdown writes r for a GitHub or GitLab issue (and a mailing
// list, read as plain text): a title, a table of the divergences, for each
// of the top ones a ```diff block of the aligned tree around it ("-" good
// only, "+" bad only, "!" changed, " " same), then the notes, warnings and
// a footer with the command line and the inputs' checksums.
//
// Everything taken from the captures is untrusted. Outside code it is
// shown in code spans or escaped (&lt; &gt; &amp;, backslashes before
// Markdown punctuation), so it cannot open HTML or links; inside code
// blocks the fence is longer than any backtick run of the content, so it
// cannot be closed early. Control characters are visible escapes
// (parse.Safe) everywhere.
func renderMarkdown(w io.Writer, r *Result, opts RenderOptions) error {
	bw := bufio.NewWriter(w)
	s := parse.Safe
	fmt.Fprintf(bw, "## tracediff: %s\n\n", mdText(r.Stats()))
	fmt.Fprintf(bw, "Good: %s, bad: %s.\n\n", mdCode(s(inputInfo(opts, 0, r.Good).Path), false), mdCode(s(inputInfo(opts, 1, r.Bad).Path), false))
	if len(r.Divergences) == 0 {
		fmt.Fprintf(bw, "No divergence: %d task pairs compared.\n\n", len(r.Pairs))
	} else {
		header := "| ID | Kind | At | Good calls | Bad calls | Note |\n|----|------|----|------------|-----------|------|\n"
		bw.WriteString(header)
		for i := range r.Divergences {
			if i == mdOpenDivs {
				fmt.Fprintf(bw, "\n<details>\n<summary>%d more divergences</summary>\n\n%s", len(r.Divergences)-i, header)
			}
			writeMarkdownRow(bw, &r.Divergences[i])
		}
		if len(r.Divergences) > mdOpenDivs {
			bw.WriteString("\n</details>\n")
		}
		bw.WriteString("\n")
	}
	n := opts.Trees
	if n < 0 || n > len(r.Divergences) {
		n = len(r.Divergences)
	}
	for i := 0; i < n; i++ {
		writeMarkdownDivergence(bw, r, &r.Divergences[i], opts)
	}
	if n < len(r.Divergences) {
		fmt.Fprintf(bw, "%d more divergences are listed in the table only.\n\n", len(r.Divergences)-n)
	}
	var notes []string
	for _, nt := range r.Notes {
		notes = append(notes, "- note: "+mdText(nt))
	}
	for _, t := range []*parse.Trace{r.Good, r.Bad} {
		for _, wn := range t.Warnings {
			notes = append(notes, "- warning: "+mdText(wn.Error()))
		}
	}
	if len(notes) > 0 {
		bw.WriteString(strings.Join(notes, "\n") + "\n\n")
	}
	writeMarkdownFooter(bw, r, opts)
	return bw.Flush()
}

// writeMarkdownRow writes the summary table's row of d.
func writeMarkdownRow(w *bufio.Writer, d *Divergence) {
	at := ""
	if len(d.Path) > 0 {
		at = mdCode(parse.Safe(d.Path[len(d.Path)-1]), true)
	}
	note := ""
	switch {
	case d.Inconclusive:
		note = "inconclusive: " + mdText(d.Why)
	case d.Noise:
		note = "noise: " + mdText(d.Why)
	}
	fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", d.ID, d.Kind, at,
		mdCallees(d.Good, d.GoodN, d.GoodDur, d.Kind), mdCallees(d.Bad, d.BadN, d.BadDur, d.Kind), note)
}

// writeMarkdownDivergence writes one divergence: a heading with its
// summary, its path, each side's callees, and the aligned tree around it.
func writeMarkdownDivergence(w *bufio.Writer, r *Result, d *Divergence, opts RenderOptions) {
	s := parse.Safe
	fmt.Fprintf(w, "### %s %s: %s\n\n", d.ID, d.Kind, mdCode(s(d.Summary), false))
	if d.Inconclusive {
		fmt.Fprintf(w, "Inconclusive: %s.\n\n", mdText(d.Why))
	} else if d.Noise {
		fmt.Fprintf(w, "Noise: %s.\n\n", mdText(d.Why))
	}
	fmt.Fprintf(w, "At %s\n\n", mdCode(s(strings.Join(d.Path, " > ")), false))
	if len(d.Also) > 0 {
		fmt.Fprintf(w, "The same change repeats at %d more %s.\n\n", len(d.Also), plural(len(d.Also), "place", "places"))
	}
	short := markdownTree(r, d, func(bw *bufio.Writer) { writeDivergenceRows(bw, r, d) })
	full := markdownTree(r, d, func(bw *bufio.Writer) { writeContext(bw, r, d, opts.Context, textStyles{}) })
	if strings.Count(full, "\n") <= mdOpenLines {
		writeFenced(w, "diff", full)
		return
	}
	writeFenced(w, "diff", short)
	fmt.Fprintf(w, "<details>\n<summary>Aligned tree around %s (%d lines)</summary>\n\n", d.ID, strings.Count(full, "\n"))
	writeFenced(w, "diff", full)
	w.WriteString("</details>\n\n")
}

// markdownTree renders rows with the text renderer's row writer and turns
// its "~" marker (changed) into "!", which diff highlighting shows as a
// change.
func markdownTree(r *Result, d *Divergence, write func(*bufio.Writer)) string {
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	write(bw)
	bw.Flush()
	lines := strings.SplitAfter(buf.String(), "\n")
	for i, ln := range lines {
		if strings.HasPrefix(ln, "~") {
			lines[i] = "!" + ln[1:]
		}
	}
	return strings.Join(lines, "")
}

// writeDivergenceRows writes the rows of d alone: its ancestors, its row
// and the children of its row that differ, with identical ones counted.
func writeDivergenceRows(w *bufio.Writer, r *Result, d *Divergence) {
	var path []int32
	for n := d.Row; n != None; n = r.Rows[n].Parent {
		path = append(path, n)
	}
	for i := len(path) - 1; i >= 0; i-- {
		writeRow(w, r, path[i], textStyles{})
	}
	same := 0
	flush := func() {
		if same > 0 {
			fmt.Fprintf(w, "  %s... %d identical calls\n", strings.Repeat("  ", int(r.Rows[d.Row].Depth)+1), same)
		}
		same = 0
	}
	r.Children(d.Row, func(c int32) {
		if r.Rows[c].Op == OpSame {
			same += int(r.Rows[c].Size)
			return
		}
		flush()
		writeRow(w, r, c, textStyles{})
	})
	flush()
}

// writeMarkdownFooter writes the command line and a table of the inputs.
func writeMarkdownFooter(w *bufio.Writer, r *Result, opts RenderOptions) {
	w.WriteString("---\n\n")
	if opts.Command != "" {
		w.WriteString("Command:\n\n")
		writeFenced(w, "sh", parse.Safe(opts.Command)+"\n")
	}
	w.WriteString("| Input | Path | Format | Calls | Tasks | Size | SHA-256 |\n")
	w.WriteString("|-------|------|--------|-------|-------|------|---------|\n")
	for i, t := range []*parse.Trace{r.Good, r.Bad} {
		in := inputInfo(opts, i, t)
		size := "?"
		if in.Size >= 0 {
			size = fmt.Sprint(in.Size)
		}
		sum := "?"
		if in.SHA256 != "" {
			sum = mdCode(in.SHA256, true)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %d | %d | %s | %s |\n", [...]string{"good", "bad"}[i],
			mdCode(parse.Safe(in.Path), true), t.Format, t.Calls(), len(t.Tasks), size, sum)
	}
	w.WriteString("\nGenerated by tracediff.\n")
}

// mdCallees describes one side of a divergence in a table cell.
func mdCallees(cs []Callee, n, dur int64, k Kind) string {
	if len(cs) == 0 {
		switch {
		case k == KindCount && n > 0:
			return fmt.Sprintf("x%d", n)
		case k == KindTiming && dur >= 0:
			return parse.FormatDuration(dur)
		}
		return ""
	}
	var parts []string
	for i, c := range cs {
		if i == 4 && len(cs) > 5 {
			parts = append(parts, fmt.Sprintf("(+%d more)", len(cs)-i))
			break
		}
		parts = append(parts, mdCode(parse.Safe(c.Name), true)+c.countDur())
	}
	return strings.Join(parts, ", ")
}

// writeFenced writes content (which ends in a newline) in a fenced code
// block whose fence is longer than any run of backticks in it, so that
// nothing in the content can close the block.
func writeFenced(w *bufio.Writer, lang, content string) {
	fence := strings.Repeat("`", max(3, longestRun(content, '`')+1))
	w.WriteString(fence + lang + "\n")
	w.WriteString(content)
	if !strings.HasSuffix(content, "\n") {
		w.WriteByte('\n')
	}
	w.WriteString(fence + "\n\n")
}

// mdCode returns s as an inline code span: the backtick fence is longer
// than any run in s, and padded with spaces when s starts or ends with a
// backtick. In a table cell, text holding "|" is escaped text instead of
// code. s must not hold newlines (parse.Safe has made them visible).
func mdCode(s string, inTable bool) string {
	if s == "" {
		return ""
	}
	if inTable && strings.Contains(s, "|") {
		// GFM splits table cells before it sees code spans: a "|" must be
		// escaped, and in a code span a backslash before it would be
		// read as escaping the backslash. Escaped text has neither issue.
		return mdText(s)
	}
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || (strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ")) {
		s = " " + s + " "
	}
	return fence + s + fence
}

// mdText escapes s for Markdown text outside code: control characters are
// made visible, < > & become entities (no HTML, no autolinks), and Markdown
// punctuation that could start emphasis, links, code or table cells is
// backslash-escaped.
func mdText(s string) string {
	s = parse.Safe(s)
	var sb strings.Builder
	for _, c := range s {
		switch c {
		case '<':
			sb.WriteString("&lt;")
		case '>':
			sb.WriteString("&gt;")
		case '&':
			sb.WriteString("&amp;")
		case '\\', '`', '*', '_', '[', ']', '|', '~':
			sb.WriteByte('\\')
			sb.WriteRune(c)
		default:
			sb.WriteRune(c)
		}
	}
	return sb.String()
}

// longestRun returns the length of the longest run of c in s.
func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}
