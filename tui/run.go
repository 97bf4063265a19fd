package tui

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tracediff/tracediff/diff"
)

// Load returns a model that parses the captures at goodPath and badPath and
// compares them with opts in a tea.Cmd started by Init, showing a spinner
// meanwhile, so that the screen is up before a large diff is ready.
func Load(goodPath, badPath string, opts diff.Options) Model {
	m := newModel()
	m.goodPath, m.badPath, m.opts = goodPath, badPath, opts
	m.loading = true
	return m
}

// Run opens the UI on the captures at goodPath and badPath (see [Load]) in
// the terminal's alternate screen, with mouse wheel support. It returns
// when the user quits, with the error that stopped loading, if any.
func Run(goodPath, badPath string, opts diff.Options) error {
	final, err := tea.NewProgram(Load(goodPath, badPath, opts), tea.WithAltScreen(), tea.WithMouseCellMotion()).Run()
	if err != nil {
		return err
	}
	if fm, ok := final.(Model); ok && fm.err != nil {
		return fm.err
	}
	return nil
}
