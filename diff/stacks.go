package diff

import (
	"errors"

	"github.com/tracediff/tracediff/parse"
)

func compareStacks(good, bad *parse.Trace, opts Options) (*Result, error) {
	return nil, errors.New("comparing stack samples is not supported yet")
}
