package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// tempPattern names the temporary files Write creates next to
// their target; a crash leaves at most one such file behind, which readers
// never look at and the next successful write of the same target does not
// depend on, and which RemoveTemps clears.
const tempPattern = ".tmp-*"

// Write replaces path with the bytes fill writes, so that a
// reader sees either the old file or the complete new one, never a mix:
// fill writes into a temporary file in the same directory, which is
// flushed, fsynced and closed, then renamed over path, and finally the
// directory itself is fsynced so that the rename survives a power loss.
// On any error the temporary file is removed and path is left untouched.
func Write(path string, fill func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+tempPattern)
	if err != nil {
		return fmt.Errorf("writing %s: cannot create a temporary file in %s (is the directory missing or read-only?): %w", path, dir, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// CreateTemp makes the file private (0600); the result is an ordinary
	// output file, readable by others like one from os.Create.
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err = fill(bw); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w (is the disk full?)", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("writing %s: fsync: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("writing %s: close: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: rename from temporary file: %w", path, err)
	}
	return SyncDir(dir)
}

// SyncDir fsyncs a directory so that entries created or renamed in it are
// durable. Some systems cannot fsync directories; they report EINVAL,
// which is ignored because there is nothing more to be done there.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !isUnsupportedSync(err) {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// RemoveTemps removes the temporary files that writes killed mid-way
// left in dir, and returns their paths. Only the folder's single writer
// may call it: another process's write in progress would lose its file.
func RemoveTemps(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("removing temporary files in %s: %w", dir, err)
	}
	var removed []string
	for _, e := range entries {
		if ok, _ := filepath.Match(".*"+tempPattern, e.Name()); !ok || e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.Remove(p); err != nil {
			return removed, fmt.Errorf("removing temporary file %s: %w", p, err)
		}
		removed = append(removed, p)
	}
	return removed, nil
}
