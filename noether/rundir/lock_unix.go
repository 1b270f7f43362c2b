//go:build unix

package rundir

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// takeLock takes an exclusive flock on the file at path, created if
// needed, and writes this process's id and command line into it. The
// kernel releases the lock when the process ends, however it ends (kill
// -9 included), so a lock file left behind is never stale: the next run
// takes it. When another process holds it, the error names that
// process's id, read from the file.
func takeLock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("rundir: cannot create the lock file %s (is the folder writable?): %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := io.ReadAll(io.LimitReader(f, 4096))
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, inUse(path, string(holder))
		}
		return nil, fmt.Errorf("rundir: locking %s: %w", path, err)
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, fmt.Errorf("rundir: writing the lock file %s: %w", path, err)
	}
	if _, err := f.WriteAt([]byte(holderLine()), 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("rundir: writing the lock file %s: %w", path, err)
	}
	return f, nil
}

// releaseLock empties the lock file and releases it. The file stays: a
// process that opened it meanwhile would otherwise lock a removed file
// while a third locks a new one.
func releaseLock(f *os.File) error {
	err := f.Truncate(0)
	return errors.Join(err, f.Close())
}

// holderLine is what the lock file says about its holder.
func holderLine() string {
	return fmt.Sprintf("%d %s\n", os.Getpid(), strings.Join(os.Args, " "))
}

// inUse is the error for a lock held by the process the file names.
func inUse(path, holder string) error {
	dir := filepath.Dir(path)
	pid, cmd, _ := strings.Cut(strings.TrimSpace(holder), " ")
	if pid == "" {
		pid = "(unknown: it has not written its id yet)"
	}
	return fmt.Errorf("rundir: the run folder %s %w: process %s holds its lock (%s: %s); wait for it to end, or stop it (kill -INT %s) and resume: two runs in one folder would tear its files",
		dir, ErrInUse, pid, path, cmd, pid)
}
