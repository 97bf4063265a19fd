package parse

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkBpftrace reads a large synthetic bpftrace dump made by repeating
// real captures (printf stacks, maps with stack keys, perf and raw modes,
// histogram values) until it passes 8 MiB. The map entries go through the
// participle grammar; the lines between them through the hand-written
// scanner.
func BenchmarkBpftrace(b *testing.B) {
	var unit []byte
	for _, f := range []string{"bt-good.txt", "bt-map-good.txt", "seed-good.txt", "bpftrace-kstack_map_ip_output_tcp.txt",
		"bpftrace-kstack_perf_mode.txt", "bpftrace-ustack_printf_perf_mode.txt", "bpftrace-biostacks_example.txt", "bpftrace-tcpdrop_example.txt"} {
		data, err := os.ReadFile(filepath.Join("testdata", "stacks", f))
		if err != nil {
			b.Fatal(err)
		}
		unit = append(unit, data...)
		unit = append(unit, '\n')
	}
	var dump []byte
	for len(dump) < 8<<20 {
		dump = append(dump, unit...)
	}
	b.SetBytes(int64(len(dump)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bl := NewBuilder("bench", FormatBpftrace, int64(len(dump)))
		if err := parseBpftrace(bl, bufio.NewReaderSize(bytes.NewReader(dump), 1<<20)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBpftracePrintf is BenchmarkBpftrace on printf stacks only: the
// hand-written scanner alone.
func BenchmarkBpftracePrintf(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "stacks", "bt-good.txt"))
	if err != nil {
		b.Fatal(err)
	}
	var dump []byte
	for len(dump) < 8<<20 {
		dump = append(dump, data...)
	}
	b.SetBytes(int64(len(dump)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bl := NewBuilder("bench", FormatBpftrace, int64(len(dump)))
		if err := parseBpftrace(bl, bufio.NewReaderSize(bytes.NewReader(dump), 1<<20)); err != nil {
			b.Fatal(err)
		}
	}
}
