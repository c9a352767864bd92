package keras

import (
	"os"
	"testing"
)

// TestMain serves ReadFileIsolated's reader child: the tests' child process
// is this test binary started again.
func TestMain(m *testing.M) {
	ServeChild()
	os.Exit(m.Run())
}
