package parse

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tracediff/tracediff/internal/testutil"
)

// bccFiles are the bcc tool examples: the copy under testdata/stacks and
// the corpus file it was copied from, with the tool that wrote it.
var bccFiles = []struct {
	tool string
	file string // under testdata/stacks
	// corpus is the file under the corpus's public/iovisor-bcc.
	corpus string
}{
	{"stackcount", "bcc-stackcount_example.txt", "stackcount_example.txt"},
	{"profile", "bcc-profile_example.txt", "profile_example.txt"},
	{"offcputime", "bcc-offcputime_example.txt", "offcputime_example.txt"},
	{"offwaketime", "bcc-offwaketime_example.txt", "offwaketime_example.txt"},
	{"tcpdrop", "bcc-tcpdrop_example.txt", "tcpdrop_example.txt"},
	{"trace", "bcc-trace_example.txt", "trace_example.txt"},
}

var (
	bccCountLineRE  = regexp.MustCompile(`^ +[0-9]+$`)
	bccFoldedLineRE = regexp.MustCompile(`^(?:\^C)?([^ \t;][^ \t;]*;.*) [0-9]+$`)
	bccEventFrameRE = regexp.MustCompile(`^[ \t]+\S`)
	bccStackErrRE   = regexp.MustCompile(`^[ \t]+-[0-9]+$`)
)

// countBCC counts the stacks and frames of a bcc tool's example with line
// rules of that tool, written apart from the parser:
//
//   - folded lines (-f): one stack, a frame per non-empty ";" field;
//   - stackcount: a stack is a run of indented lines ending with a count
//     line; its frames are the lines indented exactly 2 spaces (the comm,
//     the "--" and the count are indented 4);
//   - profile, offcputime, offwaketime: the same, frames being the lines
//     indented exactly 4 spaces that do not start with "-", "waker:" or
//     "target:" (the count is indented 8); offcputime (this older
//     version) prints the task name as the last of them; offwaketime
//     counts only the target's frames, below the "-   -" separator;
//   - trace, tcpdrop: a stack is an unindented line starting with a digit
//     (the PID or the time) followed by indented lines, each a frame
//     except a "-N" error.
//
// A run without frames is no stack (the parser warns of it).
func countBCC(tool string, data []byte) stackCount {
	var c stackCount
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for _, l := range lines {
		if m := bccFoldedLineRE.FindStringSubmatch(l); m != nil {
			c.stacks++
			for _, f := range strings.Split(m[1], ";") {
				if f != "" {
					c.frames++
				}
			}
		}
	}
	indented := func(l string) bool { return l != "" && (l[0] == ' ' || l[0] == '\t') }
	for i := 0; i < len(lines); {
		if !indented(lines[i]) || strings.TrimSpace(lines[i]) == "" {
			i++
			continue
		}
		j := i
		for j < len(lines) && indented(lines[j]) && strings.TrimSpace(lines[j]) != "" {
			j++
		}
		run := lines[i:j]
		var prev string
		if i > 0 {
			prev = lines[i-1]
		}
		i = j
		switch tool {
		case "trace", "tcpdrop":
			if prev == "" || prev[0] < '0' || prev[0] > '9' {
				continue
			}
			n := 0
			for _, l := range run {
				if bccEventFrameRE.MatchString(l) && !bccStackErrRE.MatchString(l) {
					n++
				}
			}
			if n > 0 {
				c.stacks++
				c.frames += n
			}
			continue
		}
		if !bccCountLineRE.MatchString(run[len(run)-1]) {
			continue
		}
		n := 0
		for _, l := range run[:len(run)-1] {
			switch tool {
			case "stackcount":
				if strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "   ") {
					n++
				}
			default:
				t := strings.TrimSpace(l)
				if strings.HasPrefix(l, "    ") && !strings.HasPrefix(l, "     ") &&
					!strings.HasPrefix(t, "-") && !strings.HasPrefix(t, "waker:") && !strings.HasPrefix(t, "target:") {
					n++
				}
				if tool == "offwaketime" && regexp.MustCompile(`^-\s+-$`).MatchString(t) {
					n = 0 // the waker's frames were above
				}
			}
		}
		if tool == "offcputime" && n > 0 {
			n-- // the task name
		}
		if n > 0 {
			c.stacks++
			c.frames += n
		}
	}
	return c
}

// TestBCC reads each bcc example, the copy under testdata (never skipped)
// and the corpus file (skipped without the corpus): detected as bcc,
// parsed without error, its stacks and frames as counted by countBCC, and
// the copy's dump as its golden file.
func TestBCC(t *testing.T) {
	for _, tc := range bccFiles {
		for _, where := range []string{"testdata", "corpus"} {
			t.Run(where+"/"+tc.file, func(t *testing.T) {
				path := filepath.Join("testdata", "stacks", tc.file)
				if where == "corpus" {
					path = filepath.Join(testutil.CorpusDir(t), "public", "iovisor-bcc", tc.corpus)
				}
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if got := Detect(data); got != FormatBCC {
					t.Fatalf("Detect = %s, want %s", got, FormatBCC)
				}
				tr := parseTestFile(t, path)
				want := countBCC(tc.tool, data)
				if got := countRead(t, tr); got != want || got.stacks == 0 {
					t.Errorf("read %d stacks, %d frames; counted %d, %d", got.stacks, got.frames, want.stacks, want.frames)
				}
				if where == "corpus" {
					return
				}
				var buf bytes.Buffer
				if err := Dump(&buf, tr); err != nil {
					t.Fatal(err)
				}
				testutil.Golden(t, path+".golden", buf.Bytes(), *update)
			})
		}
	}
}

// bccSample returns the first sample of tr at line, or fails.
func bccSample(t *testing.T, tr *Trace, line int32) Sample {
	t.Helper()
	for _, s := range tr.Samples {
		if s.Line == line {
			return s
		}
	}
	t.Fatalf("%s: no sample at line %d", tr.Path, line)
	return Sample{}
}

// bccFrames returns the frames of s, root first, joined by ";".
func bccFrames(tr *Trace, s Sample) string {
	var f []string
	for n := s.Root; ; n = tr.Nodes[n].FirstChild {
		f = append(f, tr.NameOf(n))
		if n == s.Leaf {
			break
		}
	}
	return strings.Join(f, ";")
}

// TestBCCFacts checks what the examples say of particular stacks.
func TestBCCFacts(t *testing.T) {
	read := func(name string) *Trace {
		return parseTestFile(t, filepath.Join("testdata", "stacks", name))
	}
	type fact struct {
		line   int32
		task   string
		count  int64
		agg    string
		keys   string // a substring of the keys
		frames string // root first
	}
	check := func(tr *Trace, f fact) {
		t.Helper()
		s := bccSample(t, tr, f.line)
		if got := tr.Tasks[s.Task].Label(); got != f.task {
			t.Errorf("%s:%d: task %q, want %q", tr.Path, f.line, got, f.task)
		}
		if s.Count != f.count || s.Agg != f.agg || !strings.Contains(s.Keys, f.keys) {
			t.Errorf("%s:%d: count %d agg %q keys %q, want %d %q %q", tr.Path, f.line, s.Count, s.Agg, s.Keys, f.count, f.agg, f.keys)
		}
		if got := bccFrames(tr, s); got != f.frames {
			t.Errorf("%s:%d: frames\n  %s\nwant\n  %s", tr.Path, f.line, got, f.frames)
		}
	}
	sc := read("bcc-stackcount_example.txt")
	// Without -P: no task named; with -P, "tar [15069]".
	check(sc, fact{12, "?", 1, "", "", "mb_cache_list;ret_from_fork;kthread;kjournald2;jbd2_journal_commit_transaction;journal_submit_commit_record.isra.13;submit_bh;submit_bio"})
	check(sc, fact{123, "tar-15069", 113, "", "", "[unknown];entry_SYSCALL_64_fastpath;sys_read;vfs_read;__vfs_read;generic_file_read_iter;page_cache_async_readahead;ondemand_readahead;__do_page_cache_readahead;ext4_readpages;submit_bio"})
	// -P printed before the frames (an older stackcount).
	check(sc, fact{527, "parprimes-11923", 7, "", "", "[unknown];__libc_start_main;main;pthread_create@@GLIBC_2.2.5"})
	// -v: the addresses are dropped.
	check(sc, fact{815, "sshd-8234", 3, "", "", "__write_nocancel;entry_SYSCALL_64_fastpath;SyS_write;vfs_write;__vfs_write;sock_write_iter;sock_sendmsg;tcp_sendmsg"})

	pr := read("bcc-profile_example.txt")
	check(pr, fact{26, "dd-25036", 4, "", "", "read;entry_SYSCALL_64_fastpath;sys_read;vfs_read;__vfs_read;read_iter_zero;iov_iter_zero;__clear_user"})
	// Folded (-f) lines are read as folded stacks: the comm is a frame.
	check(pr, fact{315, "?", 2, "", "", "func_ab;[unknown];__libc_start_main;main;func_a"})

	oc := read("bcc-offcputime_example.txt")
	// The task name is the last line in this offcputime's output.
	check(oc, fact{18, "chmod", 13, "sum(us)", "comm=chmod", "page_fault;do_page_fault;__do_page_fault;handle_mm_fault;__do_fault;filemap_fault;__lock_page_or_retry;wait_on_page_bit_killable;__wait_on_bit;bit_wait_io;io_schedule_timeout;schedule_timeout;schedule"})

	ow := read("bcc-offwaketime_example.txt")
	// The target's stack, the waker in the keys.
	check(ow, fact{63, "vmstat", 3000331, "sum(us)", "waker=swapper/1 waker_stack=xen_evtchn_do_upcall;__xen_evtchn_do_upcall;evtchn_2l_handle_events;generic_handle_irq;handle_percpu_irq;handle_irq_event_percpu;xen_timer_interrupt;hrtimer_interrupt;__hrtimer_run_queues;hrtimer_wakeup",
		"entry_SYSCALL_64_fastpath;sys_nanosleep;hrtimer_nanosleep;do_nanosleep;schedule"})

	tc := read("bcc-tcpdrop_example.txt")
	check(tc, fact{9, "pid 0", 1, "", "pid=0 state=SYN_SENT flags=SYN|ACK reason=NETFILTER_DROP",
		"__primary_switched+0x94;start_kernel+0x314;rest_init+0x170;cpu_startup_entry+0x6c;do_idle+0x31c;el1h_64_irq+0x84;el1h_64_irq_handler+0x1c;el1_interrupt+0x4c;irq_exit_rcu+0x1c;__irq_exit_rcu+0x384;do_softirq_own_stack+0x28;call_on_irq_stack+0x3c;____do_softirq+0x1c;__do_softirq+0x20;handle_softirqs+0x304;net_rx_action+0x460;__napi_poll+0xa4;virtnet_poll+0x10a8;napi_complete_done+0x190;netif_receive_skb_list_internal+0x498;__netif_receive_skb_list_core+0x348;ip_list_rcv+0x210;ip_sublist_rcv+0x32c;ip_sublist_rcv_finish+0xec;ip_local_deliver+0x244;nf_hook_slow+0xb0;nft_do_chain_ipv4+0x16c;nft_do_chain+0x93c;sk_skb_reason_drop+0x1e4;__traceiter_kfree_skb+0x90;__traceiter_kfree_skb+0x90"})

	tr := read("bcc-trace_example.txt")
	// -a: addresses and modules dropped.
	check(tr, fact{105, "poller-793922", 1, "", "comm=poller pid=793922 tid=793951 func=sys_futex", "clone+0x6d;start_thread+0xd9;execute_native_thread_routine+0x21;folly::FunctionScheduler::run()+0x46f;__lll_unlock_wake+0x1a"})
	// -A: the count after the stack; a comm with a space.
	check(tr, fact{247, "CPU 0/KVM-1294576", 271, "", "comm=CPU 0/KVM pid=1294576 tid=1294584 func=clockevents_program_event",
		"entry_SYSCALL_64_after_hwframe+0x44;do_syscall_64+0x59;__x64_sys_ioctl+0x16;ksys_ioctl+0x60;do_vfs_ioctl+0xa1;kvm_vcpu_ioctl+0x22f;kvm_arch_vcpu_ioctl_run+0xcc;vcpu_enter_guest+0x326;kvm_emulate_wrmsr+0x36;__kvm_set_msr+0xa2;kvm_set_msr_common+0x442;restart_apic_timer+0x6c;start_sw_timer+0x173;hrtimer_start_range_ns+0x209;clockevents_program_event+0x1"})
	if len(tr.Lost) != 3 || tr.Lost[0].Count != 764896 {
		t.Errorf("trace: lost %+v, want 3 of 764896", tr.Lost)
	}
}

// TestBCCShapes reads small inputs in the shapes of the tools' current
// sources that the examples do not show.
func TestBCCShapes(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // per sample: "task keys agg count: frames"
	}{
		{"offcputime with comm and pid, -d", "Tracing off-CPU time (us) of all threads by user + kernel stack... Hit Ctrl-C to end.\n\n" +
			"    schedule\n    do_nanosleep\n    --\n    clock_nanosleep\n    main\n    -                sleep (4242)\n        1000\n\n",
			[]string{"sleep-4242  sum(us) 1000: main;clock_nanosleep;do_nanosleep;schedule"}},
		{"offwaketime current", "Tracing blocked time (us) by user + kernel off-CPU and waker stack... Hit Ctrl-C to end.\n\n" +
			"    waker:           swapper/0 0\n    b'hrtimer_wakeup'\n    --               --\n    b'schedule'\n    -\n    b'main'\n    target:          sleep 77\n        5000\n\n",
			[]string{"sleep-77 waker=swapper/0 waker_stack=hrtimer_wakeup sum(us) 5000: main;schedule"}},
		{"profile missed stack", "    [Missed Kernel Stack]\n    -                x (1)\n        2\n\n",
			[]string{"x-1  0 2: [Missed Kernel Stack]"}},
		{"stackcount bytes comm", "# ./stackcount -P -s tcp_sendmsg\n  b'tcp_sendmsg+0x1'\n    b'sshd' [12]\n    3\n\n",
			[]string{"sshd-12  0 3: tcp_sendmsg+0x1"}},
		{"trace with time and cpu", "TIME     CPU PID     TID     COMM            FUNC             -\n" +
			"13:22:01 25  2627    2629    automount       pthread_create   x\n        ffffffff81000000 f+0x1 [kernel]\n        -14\n\n",
			[]string{"automount-2627 comm=automount pid=2627 tid=2629 func=pthread_create 0 1: f+0x1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Detect([]byte(tc.in)); got != FormatBCC {
				t.Fatalf("Detect = %s", got)
			}
			tr, err := Parse("in.txt", strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range tr.Samples {
				agg := s.Agg
				if agg == "" {
					agg = "0"
				}
				got = append(got, tr.Tasks[s.Task].Label()+" "+s.Keys+" "+agg+" "+itoa64(s.Count)+": "+bccFrames(tr, s))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func itoa64(n int64) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// TestBCCErrors checks positioned errors.
func TestBCCErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"nothing", "Tracing 1 functions for \"x\"... Hit Ctrl-C to end.\nDetaching...\n", `in.txt:1: expected bcc tool output (indented stack frames ending with a count line, or a trace/tcpdrop event line followed by its frames), found "Tracing 1 functions for \"x\"... Hit Ctrl-"...`},
		{"count overflow", "  submit_bio\n    99999999999999999999\n", `in.txt:2: expected a count below 10^18, found "99999999999999999999"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBuilder("in.txt", FormatBCC, -1)
			err := parseBCC(b, bufio.NewReader(strings.NewReader(tc.in)))
			var pe *Error
			if !errors.As(err, &pe) || pe.Line == 0 {
				t.Fatalf("error %v is not a positioned *Error", err)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n  %v\nwant\n  %s", err, tc.want)
			}
		})
	}
}

// TestScoreBCCOthers checks that the bcc scorer gives 0 to the other
// stack formats' files, so that it takes none of them.
func TestScoreBCCOthers(t *testing.T) {
	files := testutil.Glob(t, filepath.Join("testdata", "stacks", "*"))
	n := 0
	for _, f := range files {
		base := filepath.Base(f)
		if strings.HasPrefix(base, "bcc-") || strings.HasSuffix(base, ".golden") || strings.HasSuffix(base, ".md") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if s := scoreBCC(data); s != 0 {
			t.Errorf("%s: bcc score %d, want 0", base, s)
		}
		n++
	}
	if n < 10 {
		t.Errorf("only %d files checked", n)
	}
}

func FuzzBCC(f *testing.F) {
	addSeeds(f, "bcc-*.txt")
	f.Add([]byte("# ./offwaketime\n    waker:           a 1\n    x\n    --   --\n    y\n    -\n    z\n    target:          b 2\n        7\n\n^Cc;d;-;e 3\n"))
	f.Add([]byte("TIME     CPU PID     TID     COMM            FUNC             -\n1.5 3 4 5 c d m\n        ff f+0x1 [k]\n        -14\n-->COUNT 9\nLost 3 samples\n"))
	f.Fuzz(func(t *testing.T, in []byte) { fuzzStacks(t, parseBCC, in) })
}
