package tui

import "github.com/charmbracelet/bubbles/key"

// KeyMap holds every key binding of the UI. It is the single source of the
// keys handled in Update and of the help shown by `?`.
type KeyMap struct {
	Up, Down          key.Binding
	PageUp, PageDown  key.Binding
	Top, Bottom       key.Binding
	Parent, Open      key.Binding // h/l: go to the parent (or fold), unfold
	Toggle            key.Binding // fold or unfold the row under the cursor
	OpenSubtree       key.Binding
	CloseSubtree      key.Binding
	OpenAll, CloseAll key.Binding
	Next, Prev        key.Binding // divergences, or matches while searching
	Search            key.Binding
	Focus             key.Binding
	Back              key.Binding // Esc: clear the search, leave focus, close
	Durations         key.Binding
	Raw               key.Binding
	IRQ               key.Binding
	Tasks             key.Binding
	Unified           key.Binding
	Side              key.Binding // which side's call the details describe
	Help              key.Binding
	Quit              key.Binding
}

// DefaultKeyMap returns the standard bindings.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, k, help string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, help))
	}
	return KeyMap{
		Up:           b([]string{"up", "k"}, "↑/k", "up"),
		Down:         b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:       b([]string{"pgup", "ctrl+b", "ctrl+u"}, "pgup", "page up"),
		PageDown:     b([]string{"pgdown", "ctrl+f", "ctrl+d"}, "pgdn", "page down"),
		Top:          b([]string{"home", "g"}, "g", "top"),
		Bottom:       b([]string{"end", "G"}, "G", "bottom"),
		Parent:       b([]string{"left", "h"}, "←/h", "fold / parent"),
		Open:         b([]string{"right", "l"}, "→/l", "unfold"),
		Toggle:       b([]string{"enter", " "}, "enter", "fold/unfold"),
		OpenSubtree:  b([]string{"o"}, "o", "unfold subtree"),
		CloseSubtree: b([]string{"c"}, "c", "fold subtree"),
		OpenAll:      b([]string{"O"}, "O", "unfold all"),
		CloseAll:     b([]string{"C"}, "C", "fold all"),
		Next:         b([]string{"n"}, "n", "next divergence/match"),
		Prev:         b([]string{"N"}, "N", "prev divergence/match"),
		Search:       b([]string{"/"}, "/", "search"),
		Focus:        b([]string{"f"}, "f", "focus subtree"),
		Back:         b([]string{"esc"}, "esc", "back"),
		Durations:    b([]string{"d"}, "d", "durations"),
		Raw:          b([]string{"r"}, "r", "raw names, lines"),
		IRQ:          b([]string{"i"}, "i", "interrupts"),
		Tasks:        b([]string{"t"}, "t", "tasks"),
		Unified:      b([]string{"u"}, "u", "unified/split"),
		Side:         b([]string{"tab"}, "tab", "details side"),
		Help:         b([]string{"?"}, "?", "help"),
		Quit:         b([]string{"q", "ctrl+c"}, "q", "quit"),
	}
}

// ShortHelp returns the bindings of the one-line help (help.KeyMap).
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Next, k.Prev, k.Toggle, k.Search, k.Focus, k.Tasks, k.Help, k.Quit}
}

// FullHelp returns every binding in columns (help.KeyMap).
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Parent, k.Open},
		{k.Toggle, k.OpenSubtree, k.CloseSubtree, k.OpenAll, k.CloseAll, k.Focus, k.Back},
		{k.Next, k.Prev, k.Search, k.Tasks, k.Side},
		{k.Durations, k.Raw, k.IRQ, k.Unified, k.Help, k.Quit},
	}
}

// Bindings returns every binding of k, for tests and checks.
func (k KeyMap) Bindings() []key.Binding {
	var all []key.Binding
	for _, col := range k.FullHelp() {
		all = append(all, col...)
	}
	return all
}
