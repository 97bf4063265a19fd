package diff

import (
	"errors"
	"io"
)

func renderHTML(w io.Writer, r *Result, opts RenderOptions) error {
	return errors.New("the html format is not supported yet")
}
