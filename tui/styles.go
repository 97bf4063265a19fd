package tui

import (
	"os"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Styles holds every style of the UI, built in one place by [NewStyles].
type Styles struct {
	GoodOnly, BadOnly, Changed, Same lipgloss.Style // row colours by diff.Op
	Cursor                           lipgloss.Style // the line under the cursor
	Match                            lipgloss.Style // a search match
	Dim                              lipgloss.Style // folded counts, gaps, notes
	Header, Status, Error            lipgloss.Style
	Separator                        lipgloss.Style // between the panes
	Help                             lipgloss.Style
}

// NewStyles builds the styles for renderer r: red for calls of the good
// capture only, green for the bad capture only, yellow for changed calls,
// plain for identical ones. With a renderer of the Ascii profile (NO_COLOR,
// tests) every style renders as plain text; the markers -, + and ~ carry
// the same meaning without colour.
func NewStyles(r *lipgloss.Renderer) Styles {
	return Styles{
		GoodOnly:  r.NewStyle().Foreground(lipgloss.Color("1")),
		BadOnly:   r.NewStyle().Foreground(lipgloss.Color("2")),
		Changed:   r.NewStyle().Foreground(lipgloss.Color("3")),
		Same:      r.NewStyle(),
		Cursor:    r.NewStyle().Reverse(true),
		Match:     r.NewStyle().Underline(true).Bold(true),
		Dim:       r.NewStyle().Faint(true),
		Header:    r.NewStyle().Bold(true),
		Status:    r.NewStyle().Bold(true),
		Error:     r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
		Separator: r.NewStyle().Faint(true),
		Help:      r.NewStyle().Faint(true),
	}
}

// DefaultStyles returns the styles for standard output's terminal, with no
// colour when NO_COLOR is set.
func DefaultStyles() Styles {
	r := lipgloss.NewRenderer(os.Stdout)
	if os.Getenv("NO_COLOR") != "" {
		r.SetColorProfile(termenv.Ascii)
	}
	return NewStyles(r)
}

// PlainStyles returns styles that render no escape sequence at all, for
// tests and goldens.
func PlainStyles() Styles {
	r := lipgloss.NewRenderer(os.Stdout)
	r.SetColorProfile(termenv.Ascii)
	return NewStyles(r)
}
