package diff

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracediff/tracediff/internal/testutil"
	"github.com/tracediff/tracediff/parse"
)

// Synthetic reads: most hit the page cache; a few are slowed by a cache
// miss (block I/O), a timer interrupt, lock contention or a page-list
// flush. The ranking must follow why a read was slow, not how long.
var (
	warmRead = c("__x64_sys_read", 1000, c("vfs_read", 500,
		c("filemap_read", 500, c("filemap_get_pages", 300, c("filemap_get_read_batch", 400)), c("copy_page_to_iter", 2000))))
	coldRead = c("__x64_sys_read", 1000, c("vfs_read", 500,
		c("filemap_read", 500, c("filemap_get_pages", 300,
			c("filemap_get_read_batch", 400),
			c("page_cache_sync_ra", 100, c("filemap_add_folio", 3000), c("read_pages", 100, c("submit_bio", 20_000))),
			c("io_schedule", 100, c("schedule", 200_000))),
			c("copy_page_to_iter", 2000))))
	timerRead = c("__x64_sys_read", 1000, c("vfs_read", 500,
		c("filemap_read", 500, c("filemap_get_pages", 300, c("filemap_get_read_batch", 400,
			c("irq_enter_rcu", 500), c("__sysvec_apic_timer_interrupt", 100, c("hrtimer_interrupt", 900_000)))),
			c("copy_page_to_iter", 2000))))
	lockRead = c("__x64_sys_read", 1000, c("vfs_read", 500,
		c("filemap_read", 500, c("filemap_get_pages", 300, c("filemap_get_read_batch", 400,
			c("_raw_spin_lock", 10, c("queued_spin_lock_slowpath", 400_000)))),
			c("copy_page_to_iter", 2000))))
	flushRead = c("__x64_sys_read", 1000, c("vfs_read", 500,
		c("filemap_read", 500, c("filemap_get_pages", 300, c("filemap_get_read_batch", 400)),
			c("folio_mark_accessed", 10, c("folio_batch_move_lru", 600_000)),
			c("copy_page_to_iter", 2000))))
)

func TestOutliersRankWhyNotHowLong(t *testing.T) {
	tests := []struct {
		name    string
		special map[int]call // request index -> its tree; the rest are warm
		want    []int        // expected indices of the first ranks
		class   []Class
	}{
		{"cold read above a longer timer interrupt", map[int]call{3: timerRead, 17: coldRead}, []int{17}, []Class{ClassBlockIO}},
		{"two cold reads above lock and flush", map[int]call{0: flushRead, 5: coldRead, 9: lockRead, 30: coldRead, 31: timerRead},
			[]int{5, 30, 9, 0}, []Class{ClassBlockIO, ClassBlockIO, ClassLock, ClassOther}},
		{"lock contention above a page-list flush", map[int]call{2: flushRead, 4: lockRead}, []int{4, 2}, []Class{ClassLock, ClassOther}},
		{"interrupt alone explains nothing", map[int]call{6: timerRead}, []int{6}, []Class{ClassNone}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			roots := make([]call, 40)
			for i := range roots {
				roots[i] = warmRead
				if s, ok := tc.special[i]; ok {
					roots[i] = s
				}
			}
			tr := buildRequests(t, "reader", roots...)
			reqs := SplitRequests(tr, "__x64_sys_read", RequestOptions{})
			if len(reqs) != 40 {
				t.Fatalf("%d requests, want 40", len(reqs))
			}
			o := FindOutliers(tr, "__x64_sys_read", reqs, OutlierOptions{})
			for i, w := range tc.want {
				if got := o.Ranked[i]; got.Index != w || got.Class != tc.class[i] {
					t.Errorf("rank %d: request %d (%s), want %d (%s)", i+1, got.Index, got.Class, w, tc.class[i])
				}
			}
			switch why := o.Ranked[0].Why(); o.Ranked[0].Class {
			case ClassBlockIO:
				if !strings.HasPrefix(why, "block I/O: submit_bio, ") {
					t.Errorf("why = %q", why)
				}
			case ClassNone:
				// Nothing rare: the time went to the interrupt left out.
				if !strings.HasPrefix(why, "interrupts (noise): 900.") || !strings.Contains(why, "__sysvec_apic_timer_interrupt") {
					t.Errorf("why = %q", why)
				}
			}
		})
	}
}

func TestOutliersWithIRQKept(t *testing.T) {
	roots := make([]call, 40)
	for i := range roots {
		roots[i] = warmRead
	}
	roots[3] = timerRead
	tr := buildRequests(t, "reader", roots...)
	reqs := SplitRequests(tr, "__x64_sys_read", RequestOptions{})
	o := FindOutliers(tr, "__x64_sys_read", reqs, OutlierOptions{IRQ: true})
	if o.Ranked[0].Index != 3 || o.Ranked[0].Class != ClassOther {
		t.Errorf("with --irq the interrupt is a rare call: top is %d (%s)", o.Ranked[0].Index, o.Ranked[0].Class)
	}
}

func TestClassify(t *testing.T) {
	for name, want := range map[string]Class{
		"submit_bio": ClassBlockIO, "io_schedule": ClassBlockIO, "blk_mq_submit_bio": ClassBlockIO,
		"filemap_add_folio": ClassBlockIO, "page_cache_async_readahead": ClassBlockIO,
		"schedule": ClassSleep, "schedule_timeout": ClassSleep, "prepare_to_wait_event": ClassSleep,
		"queued_spin_lock_slowpath": ClassLock, "__mutex_lock": ClassLock, "rwsem_down_read_slowpath": ClassLock,
		"__alloc_pages_slowpath": ClassReclaim, "shrink_node": ClassReclaim,
		"folio_batch_move_lru": ClassOther, "copy_page_to_iter": ClassOther,
	} {
		if got := Classify(name); got != want {
			t.Errorf("Classify(%s) = %s, want %s", name, got, want)
		}
	}
}

// TestOutliersSlowReads: in the corpus's 1000 reads, the three cold reads
// (the only ones with block I/O) rank above every other read, although
// some reads slowed by a timer interrupt or a page-list flush take longer,
// and the output says why.
func TestOutliersSlowReads(t *testing.T) {
	path := filepath.Join(testutil.CorpusDir(t), "lab", "slow-reads.report")
	tr, err := parse.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	reqs := SplitRequests(tr, "__x64_sys_read", RequestOptions{})
	if len(reqs) != 1000 {
		t.Fatalf("%d requests, want 1000", len(reqs))
	}
	o := FindOutliers(tr, "__x64_sys_read", reqs, OutlierOptions{})
	cold := map[int]int{88: 7171, 430: 35627, 777: 64127}
	for i := 0; i < 3; i++ {
		x := o.Ranked[i]
		line, ok := cold[x.Index]
		if !ok || x.Line != line || x.Class != ClassBlockIO {
			t.Errorf("rank %d: read %d (line %d, %s), want a cold read", i+1, x.Index, x.Line, x.Class)
		}
		for _, n := range []string{"submit_bio", "io_schedule", "filemap_add_folio"} {
			if !strings.Contains(x.Why(), n) {
				t.Errorf("read %d: why %q does not name %s", x.Index, x.Why(), n)
			}
		}
	}
	for _, x := range o.Ranked[3:] {
		if x.Class >= ClassBlockIO {
			t.Errorf("read %d (line %d) also has block I/O: %s", x.Index, x.Line, x.Why())
		}
	}
	// Some warm reads are slower than a cold one: duration alone would not do.
	slowest := int64(0)
	for _, x := range o.Ranked[3:] {
		slowest = max(slowest, x.Duration)
	}
	if slowest <= o.Ranked[2].Duration {
		t.Logf("no warm read is slower than the third cold read (%d <= %d)", slowest, o.Ranked[2].Duration)
	}
	var buf bytes.Buffer
	if err := o.WriteText(&buf, 5); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"1000 requests of __x64_sys_read", "#89 ", "7171", "block I/O: submit_bio, io_schedule"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
