package clips

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
)

// Image converts a [3, h, w] frame to an 8-bit image: each value clamped
// to [0, 1] (NaN to 0), scaled by 255 and rounded.
func Image(frame []float32, h, w int) (*image.NRGBA, error) {
	if h < 1 || w < 1 || len(frame) != Channels*h*w {
		return nil, fmt.Errorf("clips: Image: %d values for a 3x%dx%d frame", len(frame), h, w)
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	paste(img, frame, h, w, 0, 0)
	return img, nil
}

// Gap is the width in pixels of the grey lines between the frames of a
// Grid.
const Gap = 1

// Grid lays out rows of [3, h, w] frames, rows[r][c] at row r and column
// c, separated by Gap grey pixels: a strip per row, e.g. ground truth
// above predictions. Rows may differ in length; missing cells stay grey.
func Grid(rows [][][]float32, h, w int) (*image.NRGBA, error) {
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	if len(rows) == 0 || cols == 0 {
		return nil, fmt.Errorf("clips: Grid: no frames")
	}
	if h < 1 || w < 1 {
		return nil, fmt.Errorf("clips: Grid: frame size %dx%d: want both >= 1", h, w)
	}
	img := image.NewNRGBA(image.Rect(0, 0, cols*(w+Gap)-Gap, len(rows)*(h+Gap)-Gap))
	grey := color.NRGBA{R: 128, G: 128, B: 128, A: 255}
	for y := 0; y < img.Rect.Dy(); y++ {
		for x := 0; x < img.Rect.Dx(); x++ {
			img.SetNRGBA(x, y, grey)
		}
	}
	for r, row := range rows {
		for c, f := range row {
			if len(f) != Channels*h*w {
				return nil, fmt.Errorf("clips: Grid: frame (%d, %d) has %d values, want 3*%d*%d = %d", r, c, len(f), h, w, Channels*h*w)
			}
			paste(img, f, h, w, c*(w+Gap), r*(h+Gap))
		}
	}
	return img, nil
}

func paste(img *image.NRGBA, frame []float32, h, w, x0, y0 int) {
	plane := h * w
	for i := 0; i < h; i++ {
		for j := 0; j < w; j++ {
			var px [3]uint8
			for c := range px {
				v := math.Min(1, float64(frame[c*plane+i*w+j]))
				if !(v > 0) { // negative or NaN
					v = 0
				}
				px[c] = uint8(math.Round(v * 255))
			}
			img.SetNRGBA(x0+j, y0+i, color.NRGBA{R: px[0], G: px[1], B: px[2], A: 255})
		}
	}
}

// WritePNG writes img to the file path as a PNG.
func WritePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("clips: WritePNG: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("clips: WritePNG %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("clips: WritePNG: %w", err)
	}
	return nil
}
