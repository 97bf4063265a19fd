package parse

import (
	"bufio"
	"bytes"
)

// Folded stacks, the interchange format of FlameGraph's stackcollapse
// scripts, inferno and speedscope: one stack a line, frames root first
// joined by ";", then a space and the count ("main;read;vfs_read 12"). The
// count is the last space-separated field, so frames may hold spaces.
// Frames are taken as printed (FlameGraph's "_[k]" kernel suffix
// included); a first frame naming the process ("java" or "java-1234", from
// stackcollapse's --pid) stays a frame, as flame graphs draw it.

func parseFolded(b *Builder, r *bufio.Reader) error {
	lr := &lineReader{r: r}
	task := int32(-1)
	var frames [][]byte
	for {
		s, ok := lr.next()
		if !ok {
			break
		}
		t := stTrim(s)
		if len(t) == 0 || t[0] == '#' {
			continue
		}
		stack, count, ok := foldedLine(t)
		if !ok {
			return stErrorf(b, lr.n, "expected a folded stack \"root;child;leaf COUNT\", found %s", stQuote(t))
		}
		frames = frames[:0]
		for len(stack) > 0 {
			var f []byte
			if i := bytes.IndexByte(stack, ';'); i >= 0 {
				f, stack = stack[:i], stack[i+1:]
			} else {
				f, stack = stack, nil
			}
			if len(f) > 0 {
				frames = append(frames, f)
			}
		}
		if len(frames) == 0 {
			return stErrorf(b, lr.n, "expected frames before the count, found %s", stQuote(t))
		}
		if task < 0 {
			task = b.Task(-1, nil, -1)
		}
		b.Sample(task, frames, count, "", "", int32(lr.n))
	}
	if err := lr.readError(b); err != nil {
		return err
	}
	b.Finish(lr.n)
	return nil
}

// foldedLine splits a trimmed folded line into its stack and count.
func foldedLine(t []byte) (stack []byte, count int64, ok bool) {
	sp := bytes.LastIndexAny(t, " \t")
	if sp <= 0 {
		return nil, 0, false
	}
	c := t[sp+1:]
	// Differential folded files (difffolded.pl) carry two counts; the
	// first is the weight of the base.
	count, ok = stParseCount(c)
	if !ok {
		return nil, 0, false
	}
	return stTrim(t[:sp]), count, true
}

// scoreFolded rates head as folded stacks: lines of ";"-joined frames and a
// count. Every non-blank line must be one.
func scoreFolded(head []byte) int {
	if stLooksFuncgraph(head) {
		return 0
	}
	good, bad, semis := 0, 0, 0
	lines := 0
	stEachLine(head, func(line []byte) {
		lines++
		t := stTrim(line)
		if len(t) == 0 || t[0] == '#' {
			return
		}
		if st, _, ok := foldedLine(t); ok && line[0] != ' ' && line[0] != '\t' {
			good++
			if bytes.IndexByte(st, ';') >= 0 {
				semis++
			}
			return
		}
		bad++
	})
	// The last line of head may be cut.
	if bad > 1 || good == 0 || semis == 0 {
		return 0
	}
	s := 10 * good
	if s > 5000 {
		s = 5000
	}
	return s
}
