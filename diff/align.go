package diff

import (
	"sort"

	dmp "github.com/sergi/go-diff/diffmatchpatch"
)

// edit is one step of an alignment of two token sequences.
type edit struct {
	op   Op // OpSame (matched), OpGoodOnly, OpBadOnly
	a, b int32
}

// alignBudget bounds the work of the exact alignment: when the product of
// the lengths left after trimming the common prefix and suffix exceeds it,
// align falls back to an order-preserving greedy match. The bound is on the
// input's size, never on wall-clock time, so the output does not depend on
// the machine's speed.
const alignBudget = 4 << 20

// differ is the go-diff engine, configured once: no deadline, so its
// result depends only on its input.
var differ = func() *dmp.DiffMatchPatch {
	d := dmp.New()
	d.DiffTimeout = 0
	return d
}()

// align returns the edit script turning a into b (tokens are matching-name
// ids of sibling runs). It trims the common prefix and suffix, aligns the
// middle with go-diff's Myers implementation on runes, and falls back to a
// greedy in-order match past alignBudget (fellBack is then true).
//
// The result does not depend on which side is which: align(b, a) is the
// mirror of align(a, b). Equal-cost alignments are broken by the content of
// the sequences, not their order, and within each gap good-only steps come
// before bad-only ones.
func align(a, b []int32, out []edit) (edits []edit, fellBack bool) {
	if lessSeq(b, a) {
		out, fellBack = alignOrdered(b, a, out)
		for i := range out {
			e := &out[i]
			e.a, e.b = e.b, e.a
			switch e.op {
			case OpGoodOnly:
				e.op = OpBadOnly
			case OpBadOnly:
				e.op = OpGoodOnly
			}
		}
	} else {
		out, fellBack = alignOrdered(a, b, out)
	}
	// Within each gap, good-only steps first.
	for i := 0; i < len(out); {
		if out[i].op == OpSame {
			i++
			continue
		}
		j := i
		for j < len(out) && out[j].op != OpSame {
			j++
		}
		gap := out[i:j]
		sort.SliceStable(gap, func(x, y int) bool { return gap[x].op == OpGoodOnly && gap[y].op == OpBadOnly })
		i = j
	}
	return out, fellBack
}

// lessSeq orders token sequences: shorter first, then lexicographically.
func lessSeq(a, b []int32) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

func alignOrdered(a, b []int32, out []edit) (edits []edit, fellBack bool) {
	out = out[:0]
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		out = append(out, edit{OpSame, int32(pre), int32(pre)})
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	switch {
	case len(ma) == 0:
		for j := range mb {
			out = append(out, edit{OpBadOnly, -1, int32(pre + j)})
		}
	case len(mb) == 0:
		for i := range ma {
			out = append(out, edit{OpGoodOnly, int32(pre + i), -1})
		}
	case int64(len(ma))*int64(len(mb)) > alignBudget:
		out = greedy(ma, mb, int32(pre), out)
		fellBack = true
	default:
		out = myers(ma, mb, int32(pre), out)
	}
	for k := 0; k < suf; k++ {
		out = append(out, edit{OpSame, int32(len(a) - suf + k), int32(len(b) - suf + k)})
	}
	return out, fellBack
}

// tokenRune maps a token to a rune outside the surrogate range.
func tokenRune(t int32) rune {
	r := rune(t) + 1
	if r >= 0xD800 {
		r += 0x800
	}
	return r
}

func myers(a, b []int32, off int32, out []edit) []edit {
	ra := make([]rune, len(a))
	rb := make([]rune, len(b))
	for i, t := range a {
		ra[i] = tokenRune(t)
	}
	for i, t := range b {
		rb[i] = tokenRune(t)
	}
	i, j := off, off
	for _, d := range differ.DiffMainRunes(ra, rb, false) {
		n := int32(len([]rune(d.Text)))
		for k := int32(0); k < n; k++ {
			switch d.Type {
			case dmp.DiffEqual:
				out = append(out, edit{OpSame, i, j})
				i++
				j++
			case dmp.DiffDelete:
				out = append(out, edit{OpGoodOnly, i, -1})
				i++
			case dmp.DiffInsert:
				out = append(out, edit{OpBadOnly, -1, j})
				j++
			}
		}
	}
	return out
}

// greedy matches each token of a with the next equal token of b after the
// previous match, in order: a deterministic O(n log n) fallback for inputs
// too large for an exact alignment.
func greedy(a, b []int32, off int32, out []edit) []edit {
	pos := map[int32][]int32{}
	for j, t := range b {
		pos[t] = append(pos[t], int32(j))
	}
	next := map[int32]int{}
	j := int32(0)
	for i, t := range a {
		ps := pos[t]
		k := next[t]
		for k < len(ps) && ps[k] < j {
			k++
		}
		next[t] = k
		if k == len(ps) {
			out = append(out, edit{OpGoodOnly, off + int32(i), -1})
			continue
		}
		for ; j < ps[k]; j++ {
			out = append(out, edit{OpBadOnly, -1, off + j})
		}
		out = append(out, edit{OpSame, off + int32(i), off + j})
		j++
		next[t] = k + 1
	}
	for ; j < int32(len(b)); j++ {
		out = append(out, edit{OpBadOnly, -1, off + j})
	}
	return out
}
