package tui

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tracediff/tracediff/diff"
)

// Run opens the UI on the captures at goodPath and badPath. The screen is
// up at once: parsing and comparing run in a tea.Cmd behind a spinner. It
// returns when the user quits, with the error that stopped loading, if any.
func Run(goodPath, badPath string, opts diff.Options) error {
	m := newModel()
	m.goodPath, m.badPath, m.opts = goodPath, badPath, opts
	m.loading = true
	final, err := tea.NewProgram(m, tea.WithAltScreen(), tea.WithMouseCellMotion()).Run()
	if err != nil {
		return err
	}
	if fm, ok := final.(Model); ok && fm.err != nil {
		return fm.err
	}
	return nil
}
