package diff

import (
	"fmt"
	"math/rand"
	"regexp"
	"strings"
	"testing"

	"github.com/tracediff/tracediff/parse"
)

// build makes a trace from a compact notation, one call per line:
// "name {" opens a call, "name;" is a leaf, "}" closes; "@comm-pid" starts a
// task; "!name {" opens an interrupt entry. Durations are 1us per leaf.
func build(t testing.TB, name, src string) *parse.Trace {
	t.Helper()
	b := parse.NewBuilder(name, parse.FormatFtrace, 0)
	task := b.Task(1, []byte("task"), -1)
	ts := int64(0)
	for i, ln := range strings.Split(strings.TrimSpace(src), "\n") {
		ln = strings.TrimSpace(ln)
		ts += 1000
		switch {
		case ln == "":
		case strings.HasPrefix(ln, "@"):
			comm, pid, _ := strings.Cut(ln[1:], "-")
			var p int32
			fmt.Sscan(pid, &p)
			task = b.Task(p, []byte(comm), -1)
		case ln == "}":
			b.Exit(task, nil, ts, 5000, 0, int32(i+1))
		case strings.HasSuffix(ln, "{"):
			b.Enter(task, []byte(strings.TrimSpace(strings.TrimSuffix(ln, "{"))), ts, 0, int32(i+1))
		case strings.HasSuffix(ln, ";"):
			b.Leaf(task, []byte(strings.TrimSuffix(ln, ";")), ts, 1000, 0, int32(i+1))
		default:
			t.Fatalf("bad line %q", ln)
		}
	}
	return b.Finish(0)
}

const goodSrc = `
__sys_recvfrom {
  sockfd_lookup_light {
    __fget_light {
      __rcu_read_lock {
        irq_enter_rcu;
        __sysvec_apic_timer_interrupt {
          hrtimer_interrupt;
        }
      }
      __rcu_read_unlock;
    }
  }
  sock_recvmsg {
    security_socket_recvmsg;
    inet_recvmsg {
      tcp_bpf_recvmsg {
        __rcu_read_lock;
        tcp_recvmsg {
          lock_sock_nested;
          tcp_recvmsg_locked;
          release_sock;
        }
      }
    }
  }
}
`

const badSrc = `
__sys_recvfrom {
  sockfd_lookup_light {
    __fget_light {
      __rcu_read_lock;
      __rcu_read_unlock;
    }
  }
  sock_recvmsg {
    security_socket_recvmsg;
    inet_recvmsg {
      tcp_recvmsg {
        lock_sock_nested;
        tcp_recvmsg_locked;
        release_sock;
      }
    }
  }
}
`

func TestSubstitutionFirst(t *testing.T) {
	g := build(t, "good", goodSrc)
	b := build(t, "bad", badSrc)
	res, err := Compare(g, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Divergences) == 0 {
		t.Fatal("no divergence")
	}
	d := res.Divergences[0]
	if d.Kind != KindSubstitution || !strings.Contains(d.Summary, "inet_recvmsg: good -> tcp_bpf_recvmsg, bad -> tcp_recvmsg") {
		t.Errorf("first divergence = %s %q", d.Kind, d.Summary)
	}
	for _, d := range res.Divergences {
		if strings.Contains(d.Summary, "irq") || strings.Contains(d.Summary, "sysvec") {
			t.Errorf("interrupt noise reported: %s", d.Summary)
		}
	}
	// With interrupts shown, the substitution still ranks first.
	res, err = Compare(g, b, Options{IRQ: true})
	if err != nil {
		t.Fatal(err)
	}
	if d := res.Divergences[0]; d.Kind != KindSubstitution || !strings.Contains(d.Summary, "inet_recvmsg") {
		t.Errorf("with --irq first divergence = %s %q", d.Kind, d.Summary)
	}
}

func TestSelfDiffHasNoDivergence(t *testing.T) {
	for _, src := range []string{goodSrc, badSrc} {
		tr := build(t, "x", src)
		res, err := Compare(tr, tr, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Equal() {
			t.Errorf("self diff has divergences: %v", res.Divergences[0].Summary)
		}
	}
}

func TestRunsFoldIntoOneCountChange(t *testing.T) {
	g := build(t, "g", "f {\n"+strings.Repeat("_raw_spin_lock;\n", 37)+"}")
	b := build(t, "b", "f {\n"+strings.Repeat("_raw_spin_lock;\n", 12)+"}")
	res, err := Compare(g, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Divergences) != 1 || res.Divergences[0].Kind != KindCount {
		t.Fatalf("divergences = %+v", res.Divergences)
	}
	if s := res.Divergences[0].Summary; s != "_raw_spin_lock: x37 in good, x12 in bad" {
		t.Errorf("summary %q", s)
	}
}

// randomTree writes a random call tree in the build notation.
func randomTree(rng *rand.Rand, sb *strings.Builder, depth int) {
	n := rng.Intn(4)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("f%d", rng.Intn(6))
		if depth < 4 && rng.Intn(2) == 0 {
			sb.WriteString(name + " {\n")
			randomTree(rng, sb, depth+1)
			sb.WriteString("}\n")
		} else {
			sb.WriteString(name + ";\n")
		}
	}
}

// callsIn counts the calls a result accounts for on one side: each row
// stands for its run length times its ancestors' run lengths.
func callsIn(res *Result, good bool) int64 {
	var total int64
	var walk func(id int32, mult int64)
	walk = func(id int32, mult int64) {
		r := &res.Rows[id]
		n := r.BadN
		present := r.Bad != parse.None
		if good {
			n, present = r.GoodN, r.Good != parse.None
		}
		if r.Depth > 0 {
			if !present {
				return
			}
			mult *= n
			total += mult
		}
		res.Children(id, func(c int32) { walk(c, mult) })
	}
	for _, p := range res.Pairs {
		walk(p.Row, 1)
	}
	return total
}

// oneSided counts the calls in rows of op at the top of one-sided subtrees.
func oneSided(r *Result, op Op) int64 {
	var n int64
	for _, row := range r.Rows {
		if row.Op == op && r.Rows[row.Parent].Op != op {
			if op == OpGoodOnly {
				n += row.GoodN
			} else {
				n += row.BadN
			}
		}
	}
	return n
}

// canonical writes a call with no callees as a leaf, as the model does.
func canonical(s string) string {
	return emptyCall.ReplaceAllString(s, "$1;\n")
}

var emptyCall = regexp.MustCompile(`(?m)^(\w+) \{\n\}\n`)

func TestRandomProperties(t *testing.T) {
	seed := int64(20261127)
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	for i := 0; i < 300; i++ {
		var a, b strings.Builder
		a.WriteString("root {\n")
		randomTree(rng, &a, 0)
		a.WriteString("}\n")
		b.WriteString("root {\n")
		randomTree(rng, &b, 0)
		b.WriteString("}\n")
		ga := build(t, "a", a.String())
		gb := build(t, "b", b.String())
		self, _ := Compare(ga, ga, Options{})
		if !self.Equal() {
			t.Fatalf("case %d: self diff differs:\n%s", i, a.String())
		}
		ab, err := Compare(ga, gb, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := callsIn(ab, true), int64(ga.Calls()); got != want {
			t.Fatalf("case %d: good calls in result %d, want %d", i, got, want)
		}
		if got, want := callsIn(ab, false), int64(gb.Calls()); got != want {
			t.Fatalf("case %d: bad calls in result %d, want %d", i, got, want)
		}
		ba, _ := Compare(gb, ga, Options{})
		// Swapping sides swaps the signs: what only good calls in one
		// direction, only bad calls in the other.
		if g, b := oneSided(ab, OpGoodOnly), oneSided(ba, OpBadOnly); g != b {
			t.Fatalf("case %d: good-only calls %d, but bad-only %d after swapping", i, g, b)
		}
		if ab.Equal() != ba.Equal() {
			t.Fatalf("case %d: Equal not symmetric", i)
		}
		if same := canonical(a.String()) == canonical(b.String()); ab.Equal() != same {
			t.Fatalf("case %d: Equal()=%v but inputs equal=%v", i, ab.Equal(), same)
		}
	}
}
