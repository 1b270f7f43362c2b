//go:build unix

package atomicfile

import (
	"errors"
	"syscall"
)

// isUnsupportedSync reports whether err says the file system cannot fsync
// this kind of file (directories, on some systems).
func isUnsupportedSync(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP)
}
