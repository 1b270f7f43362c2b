//go:build !unix

package rundir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// takeLock creates the lock file at path exclusively and writes this
// process's id and command line into it. Without flock, a file left by a
// run that was killed is stale: it is taken over when the process it
// names no longer exists.
func takeLock(path string) (*os.File, error) {
	for try := 0; try < 2; try++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			if _, err := f.WriteString(holderLine()); err != nil {
				f.Close()
				os.Remove(path)
				return nil, fmt.Errorf("rundir: writing the lock file %s: %w", path, err)
			}
			return f, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("rundir: cannot create the lock file %s (is the folder writable?): %w", path, err)
		}
		holder, _ := os.ReadFile(path)
		pid, _, _ := strings.Cut(strings.TrimSpace(string(holder)), " ")
		if n, err := strconv.Atoi(pid); err == nil {
			if _, err := os.FindProcess(n); err == nil {
				return nil, inUse(path, string(holder))
			}
		}
		os.Remove(path) // stale: its process is gone
	}
	return nil, fmt.Errorf("rundir: cannot take the lock file %s: another run keeps creating it", path)
}

// releaseLock removes the lock file.
func releaseLock(f *os.File) error {
	return errors.Join(f.Close(), os.Remove(f.Name()))
}

// holderLine is what the lock file says about its holder.
func holderLine() string {
	return fmt.Sprintf("%d %s\n", os.Getpid(), strings.Join(os.Args, " "))
}

// inUse is the error for a lock held by the process the file names.
func inUse(path, holder string) error {
	dir := filepath.Dir(path)
	pid, cmd, _ := strings.Cut(strings.TrimSpace(holder), " ")
	return fmt.Errorf("rundir: the run folder %s %w: process %s holds its lock (%s: %s); wait for it to end, or stop it and resume: two runs in one folder would tear its files",
		dir, ErrInUse, pid, path, cmd)
}
