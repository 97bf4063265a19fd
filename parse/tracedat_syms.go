package parse

import (
	"bytes"
	"cmp"
	"slices"
	"strconv"
)

// kallsyms maps kernel addresses to function names, as libtraceevent does
// for `trace-cmd report`: every symbol of /proc/kallsyms except absolute
// ('A', 'a') ones and ARM '$' mapping symbols, sorted by address; an
// address resolves to the symbol at or below it, unless it lies past the
// last one.
type kallsyms struct {
	text []byte // the section's text; names are slices of it
	syms []ksym
}

type ksym struct {
	addr      uint64
	name, mod [2]uint32 // [start, end) in text
}

// parse reads /proc/kallsyms lines ("ffffffff81000000 T _stext\t[mod]").
// Like libtraceevent it stops at the first line it cannot read.
func (k *kallsyms) parse(text []byte) {
	k.text = text
	k.syms = make([]ksym, 0, bytes.Count(text, []byte{'\n'})+1)
	for p := 0; p < len(text); {
		end := bytes.IndexByte(text[p:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += p
		}
		line := text[p:end]
		start := p
		p = end + 1
		if len(line) == 0 {
			continue
		}
		sp := bytes.IndexByte(line, ' ')
		if sp <= 0 || sp > 16 || sp+3 >= len(line) || line[sp+2] != ' ' {
			return
		}
		addr, err := strconv.ParseUint(string(line[:sp]), 16, 64)
		if err != nil {
			return
		}
		typ := line[sp+1]
		ns := sp + 3
		ne := ns
		for ne < len(line) && line[ne] != ' ' && line[ne] != '\t' {
			ne++
		}
		if ne == ns {
			return
		}
		if line[ns] == '$' || typ == 'A' || typ == 'a' {
			continue
		}
		s := ksym{addr: addr, name: [2]uint32{uint32(start + ns), uint32(start + ne)}}
		if ne+1 < len(line) && line[ne] == '\t' && line[ne+1] == '[' {
			ms := ne + 2
			me := len(line) - 1 // drop the closing ']'
			if me > ms {
				s.mod = [2]uint32{uint32(start + ms), uint32(start + me)}
			}
		}
		k.syms = append(k.syms, s)
	}
}

// finish sorts the symbols the way libtraceevent's table ends up: it
// registers them onto the front of a list (so in reverse file order) and
// sorts that by address with glibc's merge sort, which is stable. Sorting
// in file order and then reversing each run of equal addresses gives the
// same table, faster: /proc/kallsyms is mostly in address order already.
func (k *kallsyms) finish() {
	slices.SortStableFunc(k.syms, func(a, b ksym) int { return cmp.Compare(a.addr, b.addr) })
	for i := 0; i < len(k.syms); {
		j := i + 1
		for j < len(k.syms) && k.syms[j].addr == k.syms[i].addr {
			j++
		}
		slices.Reverse(k.syms[i:j])
		i = j
	}
}

// lookup returns the symbol addr resolves to, or -1. It follows glibc's
// bsearch with libtraceevent's comparison (an address matches a symbol it
// equals, or one it lies after and before the next symbol), so that where
// several symbols share an address the same one is chosen.
func (k *kallsyms) lookup(addr uint64) int {
	n := len(k.syms)
	l, u := 0, n
	for l < u {
		i := (l + u) / 2
		s := k.syms[i].addr
		next := uint64(0) // libtraceevent's sentinel after the last symbol
		if i+1 < n {
			next = k.syms[i+1].addr
		}
		switch {
		case addr == s || addr > s && addr < next:
			return i
		case addr < s:
			u = i
		default:
			l = i + 1
		}
	}
	return -1
}

func (k *kallsyms) name(i int) []byte {
	s := &k.syms[i]
	return k.text[s.name[0]:s.name[1]]
}

func (k *kallsyms) module(i int) []byte {
	s := &k.syms[i]
	return k.text[s.mod[0]:s.mod[1]]
}

// readKallsyms reads the kallsyms section: a 4-byte size and the text.
func (d *datReader) readKallsyms(c *cursor) error {
	n, err := c.u32("the kallsyms size")
	if err != nil {
		return err
	}
	text, err := c.bytes(int(min(n, 1<<31-1)), "the kallsyms text")
	if err != nil {
		return err
	}
	d.syms.parse(text)
	d.syms.finish()
	return nil
}

// readPrintk reads the trace_printk formats: a 4-byte size and lines of
// "0xaddr : \"format\"".
func (d *datReader) readPrintk(c *cursor) error {
	n, err := c.u32("the trace_printk formats size")
	if err != nil {
		return err
	}
	text, err := c.bytes(int(min(n, 1<<31-1)), "the trace_printk formats")
	if err != nil {
		return err
	}
	for _, line := range bytes.Split(text, []byte("\n")) {
		a, f, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		addr, err := strconv.ParseUint(string(bytes.TrimPrefix(bytes.TrimSpace(a), []byte("0x"))), 16, 64)
		if err != nil {
			continue
		}
		f = bytes.TrimSpace(f)
		if uq, err := strconv.Unquote(string(f)); err == nil {
			d.printk[addr] = uq
		} else {
			d.printk[addr] = string(f)
		}
	}
	return nil
}

// readCmdlines reads the saved command lines: an 8-byte size and lines of
// "pid comm". As in libtraceevent, the first comm of a pid wins.
func (d *datReader) readCmdlines(c *cursor) error {
	n, err := c.u64("the saved command lines size")
	if err != nil {
		return err
	}
	if n > uint64(c.left()) {
		return c.errf(true, "expected %d bytes of saved command lines, but only %d are left", n, c.left())
	}
	text, err := c.bytes(int(n), "the saved command lines")
	if err != nil {
		return err
	}
	for _, line := range bytes.Split(text, []byte("\n")) {
		p, comm, ok := bytes.Cut(line, []byte(" "))
		if !ok {
			continue
		}
		pid, err := strconv.ParseInt(string(p), 10, 32)
		if err != nil {
			continue
		}
		if _, dup := d.comms[int32(pid)]; !dup {
			d.comms[int32(pid)] = string(comm)
		}
	}
	return nil
}
