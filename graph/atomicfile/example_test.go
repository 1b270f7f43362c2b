package atomicfile_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/noether-vk/noether-vk/graph/atomicfile"
)

// A fill that fails leaves the old file as it was.
func ExampleWrite() {
	dir, _ := os.MkdirTemp("", "atomic")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "report.txt")

	err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := io.WriteString(w, "first\n")
		return err
	})
	fmt.Println(err)
	err = atomicfile.Write(path, func(w io.Writer) error {
		io.WriteString(w, "half of the second")
		return fmt.Errorf("disk on fire")
	})
	fmt.Println(err != nil)
	b, _ := os.ReadFile(path)
	entries, _ := os.ReadDir(dir)
	fmt.Printf("%q, %d file\n", b, len(entries))
	// Output:
	// <nil>
	// true
	// "first\n", 1 file
}
