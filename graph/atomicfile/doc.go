// Package atomicfile replaces files so that a reader (or a run killed
// mid-write) sees the old file or the complete new one, never a mix.
package atomicfile
