// Package phys101test writes video clips for tests of code that reads
// Physics 101 (package svg/phys101): raw RGB frames encoded by ffmpeg as
// MPEG-4, as the dataset's Kinect clips are, so a test can lay out a fake
// dataset in the real folder layout.
package phys101test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// HaveFFmpeg reports why clips cannot be encoded here ("" when ffmpeg and
// ffprobe can be run).
func HaveFFmpeg() string {
	for _, name := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(name); err != nil {
			return name + " is not installed"
		}
	}
	return ""
}

// Encode writes n frames of w x h pixels, frame(k) giving frame k as
// packed RGB bytes (w*h*3), as an MPEG-4 clip at 30 fps at path, making
// its folders. The quality is the codec's best, so flat areas away from
// block edges decode to within a few levels.
func Encode(path string, n, w, h int, frame func(k int) []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var in bytes.Buffer
	for k := range n {
		f := frame(k)
		if len(f) != w*h*3 {
			return fmt.Errorf("phys101test: Encode: frame %d has %d bytes, want %d", k, len(f), w*h*3)
		}
		in.Write(f)
	}
	cmd := exec.Command("ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", fmt.Sprintf("%dx%d", w, h), "-r", "30",
		"-i", "-", "-c:v", "mpeg4", "-q:v", "1", "-pix_fmt", "yuv420p", "-y", path)
	cmd.Stdin = &in
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("phys101test: encoding %s: %v: %s", path, err, out)
	}
	return nil
}
