package parse

import (
	"encoding/binary"
	"strings"
)

// Names interns strings: each distinct name is stored once and referred to by
// a [NameID]. Alongside each raw name it keeps the id of its normalised form
// (see [Normalize]) and whether the name is an interrupt entry point, so that
// neither is recomputed per call.
type Names struct {
	strs []string
	key  []NameID // normalised form of each name (itself when already normal)
	irq  []bool
	ids  map[string]NameID
	// recent caches, by a cheap hash of its bytes, the id of a name
	// interned lately (plus one; 0 is empty): a capture calls a few
	// thousand functions millions of times, and this lookup costs a
	// fraction of the map's.
	recent [recentSize]NameID
}

// recentSize is the number of entries of Names.recent, a power of two.
const recentSize = 1 << 12

// NewNames returns an empty table.
func NewNames() *Names {
	return &Names{ids: make(map[string]NameID, 1024)}
}

// Len returns the number of interned names.
func (n *Names) Len() int { return len(n.strs) }

// String returns the name of id.
func (n *Names) String(id NameID) string {
	if id < 0 || int(id) >= len(n.strs) {
		return ""
	}
	return n.strs[id]
}

// Key returns the id of the normalised form of id.
func (n *Names) Key(id NameID) NameID {
	if id < 0 || int(id) >= len(n.key) {
		return id
	}
	return n.key[id]
}

// IsIRQEntry reports whether id names a function through which interrupt or
// softirq work enters a task's call tree (irq_enter_rcu,
// __sysvec_apic_timer_interrupt, do_IRQ, __do_softirq, ...).
func (n *Names) IsIRQEntry(id NameID) bool {
	return id >= 0 && int(id) < len(n.irq) && n.irq[id]
}

// Intern returns the id of b, adding it if new. Looking up an existing name
// does not allocate.
func (n *Names) Intern(b []byte) NameID {
	h := recentHash(b)
	if id := n.recent[h] - 1; id >= 0 && n.strs[id] == string(b) {
		return id
	}
	id, ok := n.ids[string(b)]
	if !ok {
		id = n.add(string(b))
	}
	n.recent[h] = id + 1
	return id
}

// recentHash hashes b for Names.recent from its length and its first
// and last eight bytes.
func recentHash(b []byte) uint32 {
	var x uint64
	if len(b) >= 8 {
		x = binary.LittleEndian.Uint64(b)*0x9E3779B97F4A7C15 ^ binary.LittleEndian.Uint64(b[len(b)-8:])
	} else {
		for _, c := range b {
			x = x<<8 | uint64(c)
		}
	}
	x = (x ^ uint64(len(b))) * 0xFF51AFD7ED558CCD
	return uint32(x>>(64-12)) & (recentSize - 1)
}

// InternString is Intern for a string.
func (n *Names) InternString(s string) NameID {
	if id, ok := n.ids[s]; ok {
		return id
	}
	return n.add(s)
}

// Lookup returns the id of s and whether it is interned.
func (n *Names) Lookup(s string) (NameID, bool) {
	id, ok := n.ids[s]
	return id, ok
}

func (n *Names) add(s string) NameID {
	id := NameID(len(n.strs))
	n.strs = append(n.strs, s)
	n.ids[s] = id
	n.key = append(n.key, id)
	n.irq = append(n.irq, false)
	norm := Normalize(s)
	if norm != s {
		k := n.InternString(norm)
		n.key[id] = k
	}
	n.irq[id] = isIRQEntry(norm)
	return id
}

// compilerSuffixes are the suffixes GCC and LLVM add to clones of a function.
var compilerSuffixes = []string{".isra.", ".constprop.", ".part.", ".llvm.", ".lto_priv.", ".cold", ".clone."}

// Normalize returns the name used to match calls across captures: the
// function name without a "+off/len" or "+off" suffix, a "0x" address kept
// as is, and without the suffixes compilers give to clones (".isra.0",
// ".constprop.0", ".part.0", ".cold", ".llvm.123"). A module tag "[mod]" is
// dropped. "tcp_bpf_recvmsg+1" and "getname_flags.part.0" normalise to
// "tcp_bpf_recvmsg" and "getname_flags".
func Normalize(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, ' '); i > 0 && strings.HasPrefix(s[i+1:], "[") {
		s = s[:i] // "func [module]"
	}
	if strings.HasPrefix(s, "0x") {
		return s
	}
	if i := strings.LastIndexByte(s, '+'); i > 0 && i+1 < len(s) && isOffset(s[i+1:]) {
		s = s[:i]
	}
	for {
		cut := -1
		for _, suf := range compilerSuffixes {
			if i := strings.Index(s, suf); i > 0 && (cut < 0 || i < cut) {
				cut = i
			}
		}
		if cut < 0 {
			return s
		}
		s = s[:cut]
	}
}

// isOffset reports whether s looks like "233", "0x1e9" or "0x1e9/0x2a0".
func isOffset(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == 'x' || c == '/') {
			return false
		}
	}
	return true
}

// isIRQEntry reports whether a normalised name is an entry point of
// interrupt or softirq work that can land inside any task's call tree.
func isIRQEntry(s string) bool {
	switch s {
	case "irq_enter", "irq_enter_rcu", "irq_exit", "irq_exit_rcu", "do_IRQ", "__do_softirq", "do_softirq",
		"handle_softirqs", "__irq_exit_rcu", "smp_apic_timer_interrupt", "smp_reschedule_interrupt",
		"smp_call_function_single_interrupt", "smp_call_function_interrupt", "common_interrupt",
		"generic_handle_irq", "handle_irq", "handle_IPI", "gic_handle_irq", "run_ksoftirqd",
		"__common_interrupt", "handle_irq_event", "irq_work_run", "__irq_work_run":
		return true
	}
	return strings.HasPrefix(s, "__sysvec_") || strings.HasPrefix(s, "sysvec_") ||
		strings.HasPrefix(s, "asm_sysvec_") || strings.HasPrefix(s, "asm_common_interrupt") ||
		strings.HasPrefix(s, "__smp_") && strings.HasSuffix(s, "_interrupt")
}
