package diff

import (
	"errors"
	"io"
)

func renderMarkdown(w io.Writer, r *Result, opts RenderOptions) error {
	return errors.New("the markdown format is not supported yet")
}
