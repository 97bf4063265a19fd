package diff

import (
	"errors"
	"io"
)

func renderJSON(w io.Writer, r *Result, opts RenderOptions) error {
	return errors.New("the json format is not supported yet")
}
