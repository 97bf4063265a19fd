package diff

import (
	"errors"
	"io"
)

func renderFolded(w io.Writer, r *Result, opts RenderOptions) error {
	return errors.New("the folded format is not supported yet")
}
