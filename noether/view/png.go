package view

import (
	"fmt"
	"image/png"
	"io"

	"github.com/noether-vk/noether-vk/graph/atomicfile"
	"github.com/noether-vk/noether-vk/kernels/compose"
)

// WritePNG writes a composed BGRA8 frame of width x height to path as a
// PNG file, atomically.
func WritePNG(path string, frame []byte, width, height int) error {
	if len(frame) != 4*width*height {
		return fmt.Errorf("view: WritePNG %s: %d bytes for a %dx%d frame", path, len(frame), width, height)
	}
	img := compose.ToImage(frame, width, height)
	if err := atomicfile.Write(path, func(w io.Writer) error { return png.Encode(w, img) }); err != nil {
		return fmt.Errorf("view: writing %s: %w", path, err)
	}
	return nil
}
