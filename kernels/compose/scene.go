package compose

import (
	"errors"
	"fmt"
)

// RGB is a colour, 0xRRGGBB.
type RGB uint32

// Scene is a frame to compose: a background, then filled rectangles,
// images and marks (line segments, then text), each drawn over what
// comes before it. Coordinates are pixels from the top-left corner; what
// falls outside the frame is clipped.
type Scene struct {
	Width, Height int
	Background    RGB
	Rects         []Rect
	Images        []Image
	Lines         []Line
	Texts         []Text
}

// Rect is a filled rectangle.
type Rect struct {
	X, Y, W, H int
	Color      RGB
}

// Raster is an RGB picture, rows top to bottom.
type Raster struct {
	W, H int
	Pix  []RGB
}

// Image draws Src scaled (nearest neighbour) into the rectangle X, Y, W,
// H, with Heat, when given, blended over it in the jet colour map: Heat
// holds one value per source pixel, 0 (blue) to 255 (red), and HeatAlpha
// is the map's weight (255: the map alone).
type Image struct {
	X, Y, W, H int
	Src        *Raster
	Heat       []uint8
	HeatAlpha  uint8
}

// Line is a segment between two pixel centres, Width pixels thick (a
// square brush), drawn with Bresenham's algorithm.
type Line struct {
	X0, Y0, X1, Y1 int
	Width          int
	Color          RGB
}

// Text is one line of text in the built-in font (printable ASCII; other
// characters draw '?'), its top-left corner at X, Y, each font pixel a
// Scale x Scale square.
type Text struct {
	X, Y, Scale int
	Color       RGB
	S           string
}

// Limits of what a scene may hold, so that no shader loop runs away.
const (
	MaxSide      = 8192 // frame sides
	MaxLineWidth = 16
	MaxTextScale = 8
)

// Check reports what makes s impossible to compose.
func (s *Scene) Check() error {
	var errs []error
	if s.Width <= 0 || s.Height <= 0 || s.Width > MaxSide || s.Height > MaxSide {
		errs = append(errs, fmt.Errorf("frame %dx%d: sides must be 1 to %d", s.Width, s.Height, MaxSide))
	}
	for i, im := range s.Images {
		switch {
		case im.Src == nil:
			errs = append(errs, fmt.Errorf("image %d has no source", i))
		case im.Src.W <= 0 || im.Src.H <= 0 || len(im.Src.Pix) != im.Src.W*im.Src.H:
			errs = append(errs, fmt.Errorf("image %d: a %dx%d source holds %d pixels", i, im.Src.W, im.Src.H, len(im.Src.Pix)))
		case im.Heat != nil && len(im.Heat) != im.Src.W*im.Src.H:
			errs = append(errs, fmt.Errorf("image %d: %d heat values over a %dx%d source", i, len(im.Heat), im.Src.W, im.Src.H))
		}
		if im.W < 0 || im.H < 0 {
			errs = append(errs, fmt.Errorf("image %d: negative size %dx%d", i, im.W, im.H))
		}
	}
	for i, l := range s.Lines {
		if l.Width < 1 || l.Width > MaxLineWidth {
			errs = append(errs, fmt.Errorf("line %d: width %d (1 to %d)", i, l.Width, MaxLineWidth))
		}
	}
	for i, t := range s.Texts {
		if t.Scale < 1 || t.Scale > MaxTextScale {
			errs = append(errs, fmt.Errorf("text %d: scale %d (1 to %d)", i, t.Scale, MaxTextScale))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("compose: %w", err)
	}
	return nil
}

// Marks is the number of marks the shader rasterises: the lines and
// the characters of the texts that draw something (not spaces).
func (s *Scene) Marks() int {
	n := len(s.Lines)
	for _, t := range s.Texts {
		for _, r := range t.S {
			if r != ' ' {
				n++
			}
		}
	}
	return n
}

const (
	headerWords = 16
	rectWords   = 5
	imageWords  = 10
	markWords   = 8
	noHeat      = 0xFFFFFFFF
)

// encode lays s out as the shader's scene buffer (see shaders/compose.comp).
// Sources and heat maps shared by several images are stored once.
func (s *Scene) encode() []uint32 {
	marks := s.Marks()
	rectOff := headerWords
	imageOff := rectOff + rectWords*len(s.Rects)
	markOff := imageOff + imageWords*len(s.Images)
	fontOff := markOff + markWords*marks
	w := make([]uint32, fontOff, fontOff+len(font)+1024)
	copy(w, []uint32{uint32(s.Width), uint32(s.Height), uint32(s.Background),
		uint32(len(s.Rects)), uint32(rectOff), uint32(len(s.Images)), uint32(imageOff),
		uint32(marks), uint32(markOff), uint32(fontOff)})
	for i, r := range s.Rects {
		copy(w[rectOff+rectWords*i:], []uint32{uint32(int32(r.X)), uint32(int32(r.Y)), uint32(max(r.W, 0)), uint32(max(r.H, 0)), uint32(r.Color)})
	}
	w = append(w, font...)
	pixels := map[*Raster]uint32{}
	heats := map[*uint8]uint32{}
	for i, im := range s.Images {
		at, ok := pixels[im.Src]
		if !ok {
			at = uint32(len(w))
			pixels[im.Src] = at
			for _, p := range im.Src.Pix {
				w = append(w, uint32(p))
			}
		}
		heat := uint32(noHeat)
		if len(im.Heat) > 0 {
			if heat, ok = heats[&im.Heat[0]]; !ok {
				heat = uint32(len(w))
				heats[&im.Heat[0]] = heat
				for _, h := range im.Heat {
					w = append(w, uint32(h))
				}
			}
		}
		copy(w[imageOff+imageWords*i:], []uint32{uint32(int32(im.X)), uint32(int32(im.Y)), uint32(im.W), uint32(im.H),
			uint32(im.Src.W), uint32(im.Src.H), at, heat, uint32(im.HeatAlpha), 0})
	}
	m := markOff
	for _, l := range s.Lines {
		copy(w[m:], []uint32{0, uint32(l.Color), uint32(int32(l.X0)), uint32(int32(l.Y0)), uint32(int32(l.X1)), uint32(int32(l.Y1)), uint32(l.Width), 0})
		m += markWords
	}
	for _, t := range s.Texts {
		x := t.X
		for _, r := range t.S {
			if r != ' ' {
				copy(w[m:], []uint32{1, uint32(t.Color), uint32(int32(x)), uint32(int32(t.Y)), uint32(r), uint32(t.Scale), 0, 0})
				m += markWords
			}
			x += Advance * t.Scale
		}
	}
	return w
}
