package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/tracediff/tracediff/diff"
	"github.com/tracediff/tracediff/parse"
)

// diffFlags are the flags of the compare command.
type diffFlags struct {
	color       string
	quiet       bool
	format      string
	output      string
	focus       string
	hide        []string
	depth       int
	goodTask    string
	badTask     string
	raw         bool
	irq         bool
	idle        bool
	tracer      bool
	events      bool
	where       string
	context     int
	trees       int
	timingMin   string
	interactive bool
}

func (f *diffFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.color, "color", "auto", "colour the output: auto, always or never (NO_COLOR is respected)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only whether the captures differ")
	fl.StringVarP(&f.format, "format", "f", "", "output format: text, json, markdown, html, folded or svg (default text, or from -o's extension)")
	fl.StringVarP(&f.output, "output", "o", "", "write the output to this file")
	fl.IntVar(&f.context, "context", 1, "matched calls shown around each change in the trees")
	fl.IntVar(&f.trees, "trees", 5, "divergences whose aligned tree is printed (0: none, -1: all)")
	fl.BoolVarP(&f.interactive, "interactive", "i", false, "open the interactive terminal UI")
	f.registerSelection(cmd)
}

// registerSelection adds the flags that choose what is compared and how,
// shared by the compare and tui commands.
func (f *diffFlags) registerSelection(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.focus, "focus", "", "compare only the subtrees rooted at calls of this function")
	fl.StringArrayVar(&f.hide, "hide", nil, "drop calls matching this glob, with their subtrees (repeatable)")
	fl.IntVar(&f.depth, "depth", 0, "compare calls down to this depth (0: all)")
	fl.StringVar(&f.goodTask, "good-task", "", "select tasks of the good capture: pid, comm glob or comm-pid")
	fl.StringVar(&f.badTask, "bad-task", "", "select tasks of the bad capture: pid, comm glob or comm-pid")
	fl.BoolVar(&f.raw, "raw", false, "match names as printed, without removing .isra.0/.constprop.0 suffixes and +off/len")
	fl.BoolVar(&f.irq, "irq", false, "include interrupt and softirq subtrees nested in tasks (noise by default)")
	fl.BoolVar(&f.idle, "idle", false, "include the idle tasks (pid 0, swapper/N: noise by default)")
	fl.BoolVar(&f.tracer, "tracer", false, "include the tracer's own tasks (trace-cmd, perf, bpftrace: noise by default)")
	fl.BoolVar(&f.events, "events", false, "align events (sched_switch, prints) with the calls instead of leaving them out")
	fl.StringVar(&f.timingMin, "timing-min", "100us", "smallest duration difference reported as a timing divergence")
	fl.StringVar(&f.where, "where", "", `keep only the calls matching this filter, e.g. 'comm == "nginx" && duration > 100us && !irq'`)
}

func (f *diffFlags) options() (diff.Options, error) {
	min, err := parseDuration(f.timingMin)
	if err != nil {
		return diff.Options{}, fmt.Errorf("--timing-min: %w", err)
	}
	var where *diff.Filter
	if f.where != "" {
		if where, err = diff.ParseFilter(f.where); err != nil {
			return diff.Options{}, err
		}
	}
	return diff.Options{
		Where: where,
		Focus: f.focus, Hide: f.hide, Depth: f.depth,
		GoodTask: f.goodTask, BadTask: f.badTask,
		Raw: f.raw, IRQ: f.irq, Idle: f.idle, Tracer: f.tracer, Events: f.events, TimingMin: min,
	}, nil
}

// parseDuration reads "100us", "2ms", "1.5s" or "500ns" into ns.
func parseDuration(s string) (int64, error) {
	units := []struct {
		suffix string
		ns     float64
	}{{"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}}
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			var v float64
			if _, err := fmt.Sscanf(strings.TrimSuffix(s, u.suffix), "%g", &v); err != nil || v < 0 {
				return 0, fmt.Errorf("expected a duration such as 100us, found %q", s)
			}
			return int64(v * u.ns), nil
		}
	}
	return 0, fmt.Errorf("expected a duration such as 100us, found %q", s)
}

// loadPair parses both captures concurrently.
func loadPair(goodPath, badPath string) (good, bad *parse.Trace, err error) {
	type res struct {
		t   *parse.Trace
		err error
	}
	ch := make(chan res, 1)
	go func() {
		t, err := parse.ParseFile(badPath)
		ch <- res{t, err}
	}()
	good, gerr := parse.ParseFile(goodPath)
	r := <-ch
	if gerr != nil {
		return nil, nil, gerr
	}
	if r.err != nil {
		return nil, nil, r.err
	}
	return good, r.t, nil
}

func runDiff(cmd *cobra.Command, goodPath, badPath string, f *diffFlags, stdout io.Writer) error {
	if goodPath == "-" && badPath == "-" {
		return fmt.Errorf("only one of the two captures can be standard input")
	}
	opts, err := f.options()
	if err != nil {
		return err
	}
	if f.interactive {
		return runTUI(goodPath, badPath, opts)
	}
	good, bad, err := loadPair(goodPath, badPath)
	if err != nil {
		return err
	}
	res, err := diff.Compare(good, bad, opts)
	if err != nil {
		return err
	}
	if f.quiet {
		if !res.Equal() {
			fmt.Fprintf(stdout, "Captures %s and %s differ\n", parse.Safe(goodPath), parse.Safe(badPath))
			return errDiffer
		}
		return nil
	}
	format := diff.OutputFormat(f.format)
	if format == "" && f.output != "" {
		format = diff.FormatForFile(f.output)
	}
	if format == "" {
		format = diff.FormatText
	}
	w := stdout
	var out *os.File
	if f.output != "" && f.output != "-" {
		out, err = os.Create(f.output)
		if err != nil {
			return err
		}
		defer out.Close()
		w = out
	}
	ropts := diff.RenderOptions{
		Color:   format == diff.FormatText && useColor(f.color, w),
		Context: f.context,
		Trees:   f.trees,
		NoTrees: f.trees == 0,
		Command: "tracediff " + strings.Join(os.Args[1:], " "),
	}
	if format != diff.FormatText && format != diff.FormatFolded {
		// Reports name their inputs by checksum; text output does not
		// need them, so large captures are not read a second time.
		ropts.Inputs = []diff.InputInfo{fileInfo(goodPath), fileInfo(badPath)}
	}
	if err := diff.Render(w, res, format, ropts); err != nil {
		return err
	}
	if out != nil {
		if err := out.Close(); err != nil {
			return err
		}
	}
	if !res.Equal() {
		return errDiffer
	}
	return nil
}

// useColor decides --color=auto: a terminal, and NO_COLOR unset.
func useColor(mode string, w io.Writer) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	if f, ok := w.(*os.File); ok {
		return isatty.IsTerminal(f.Fd())
	}
	return false
}

// fileInfo describes an input for reports: its size and sha256.
func fileInfo(path string) diff.InputInfo {
	info := diff.InputInfo{Path: path, Size: -1}
	if path == "-" {
		return info
	}
	f, err := os.Open(path)
	if err != nil {
		return info
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return info
	}
	info.Size = n
	info.SHA256 = hex.EncodeToString(h.Sum(nil))
	return info
}
