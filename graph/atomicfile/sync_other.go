//go:build !unix

package atomicfile

// isUnsupportedSync reports whether err says the file system cannot fsync
// this kind of file. Outside Unix, directory fsync is not meaningful, so
// every error from it is ignored.
func isUnsupportedSync(err error) bool { return true }
