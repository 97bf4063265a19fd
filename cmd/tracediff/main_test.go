package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tracediff/tracediff/internal/testutil"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"tracediff": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the real command on the bundled examples and checks its
// stdout, stderr and exit status (testdata/script/*.txtar).
func TestScripts(t *testing.T) {
	testutil.Glob(t, "testdata/script/*.txtar")
	root := testutil.RepoRoot()
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", filepath.Join(root, "examples"))
			env.Setenv("NO_COLOR", "")
			return nil
		},
	})
}
