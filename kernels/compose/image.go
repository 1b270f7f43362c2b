package compose

import "image"

// ToImage wraps a BGRA8 frame of width x height as an image (copying it
// into RGBA order), for PNG files and comparisons.
func ToImage(frame []byte, width, height int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, width, height))
	for i := 0; i+3 < len(frame) && i < 4*width*height; i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = frame[i+2], frame[i+1], frame[i], 255
	}
	return img
}
