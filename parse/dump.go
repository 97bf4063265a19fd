package parse

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Dump writes a canonical, deterministic text form of t: a summary line,
// then each task's call trees indented two spaces a level, then the stack
// samples. It is what `tracediff show` prints and what golden files of the
// parsers hold. Names are quoted when they contain anything but printable
// ASCII, so a hostile capture cannot reach the terminal as control codes.
func Dump(w io.Writer, t *Trace) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# %s format=%s tasks=%d calls=%d samples=%d lost=%d warnings=%d\n",
		Safe(t.Path), t.Format, len(t.Tasks), t.Calls(), len(t.Samples), len(t.Lost), len(t.Warnings))
	for _, h := range t.Header {
		fmt.Fprintf(bw, "# %s\n", Safe(h))
	}
	for ti := range t.Tasks {
		tk := &t.Tasks[ti]
		fmt.Fprintf(bw, "task %s calls=%d\n", Safe(tk.Label()), tk.Calls)
		for r := tk.First; r != None; r = t.Nodes[r].NextSibling {
			if t.Nodes[r].Flags&FlagFrame != 0 {
				continue
			}
			dumpNode(bw, t, r, 1)
		}
	}
	for _, s := range t.Samples {
		var frames []string
		for n := s.Root; ; n = t.Nodes[n].FirstChild {
			frames = append(frames, Safe(t.NameOf(n)))
			if n == s.Leaf || t.Nodes[n].FirstChild == None {
				break
			}
		}
		agg := ""
		if s.Agg != "" {
			agg = " " + s.Agg
		}
		keys := ""
		if s.Keys != "" {
			keys = " [" + Safe(s.Keys) + "]"
		}
		fmt.Fprintf(bw, "sample L%d %s%s%s %d\n", s.Line, Safe(t.Tasks[s.Task].Label()), keys, agg, s.Count)
		fmt.Fprintf(bw, "  %s\n", strings.Join(frames, ";"))
	}
	return bw.Flush()
}

// dumpNode writes id and its subtree; it walks iteratively so that a deep
// (or hostile) trace cannot exhaust the stack.
func dumpNode(w *bufio.Writer, t *Trace, root NodeID, depth int) {
	type item struct {
		id    NodeID
		depth int
	}
	stack := []item{{root, depth}}
	var kids []NodeID
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := &t.Nodes[it.id]
		w.WriteString(strings.Repeat("  ", it.depth))
		w.WriteString(Safe(t.NameOf(it.id)))
		if n.Flags&FlagEvent != 0 {
			if note := t.NoteOf(it.id); note != "" {
				w.WriteString(" " + Safe(note))
			}
		} else {
			w.WriteString(" " + FormatDuration(n.Duration))
			if note := t.NoteOf(it.id); note != "" {
				w.WriteString(" args=" + Safe(note))
			}
		}
		if r, ok := t.Rets[it.id]; ok {
			w.WriteString(" ret=" + Safe(r))
		}
		if n.CPU >= 0 {
			w.WriteString(" cpu" + strconv.Itoa(int(n.CPU)))
		}
		w.WriteString(" L" + strconv.Itoa(int(n.Line)))
		if f := flagString(n.Flags); f != "" {
			w.WriteString(" [" + f + "]")
		}
		w.WriteByte('\n')
		kids = kids[:0]
		for c := n.FirstChild; c != None; c = t.Nodes[c].NextSibling {
			kids = append(kids, c)
		}
		for i := len(kids) - 1; i >= 0; i-- {
			stack = append(stack, item{kids[i], it.depth + 1})
		}
	}
}

func flagString(f Flags) string {
	var parts []string
	for _, x := range []struct {
		f Flags
		s string
	}{{FlagIRQ, "irq"}, {FlagOrphan, "orphan"}, {FlagUnclosed, "unclosed"}, {FlagLost, "lost"}, {FlagEvent, "event"}} {
		if f&x.f != 0 {
			parts = append(parts, x.s)
		}
	}
	return strings.Join(parts, ",")
}

// FormatDuration renders ns as microseconds with three decimals, as ftrace
// prints them ("12.345us"), or "?" when unknown (negative).
func FormatDuration(ns int64) string {
	if ns < 0 {
		return "?"
	}
	return strconv.FormatInt(ns/1000, 10) + "." + fmt.Sprintf("%03d", ns%1000) + "us"
}

// Safe returns s with control characters, escape sequences and invalid
// UTF-8 shown as visible Go-style escapes (\x1b, \n, \ufffd), so that text
// from an untrusted capture never reaches a terminal as a control sequence.
// Printable text, including non-ASCII letters, is returned unchanged.
func Safe(s string) string {
	clean := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xfffd || r == 0x2028 || r == 0x2029 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var sb strings.Builder
	for i, r := range s {
		switch {
		case r == 0xfffd && strings.HasPrefix(s[i:], "\ufffd") == false:
			fmt.Fprintf(&sb, `\x%02x`, s[i])
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&sb, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0, r == 0x2028, r == 0x2029:
			fmt.Fprintf(&sb, `\u%04x`, r)
		default:
			sb.WriteRune(r)
		}
	}
	return sb.String()
}
