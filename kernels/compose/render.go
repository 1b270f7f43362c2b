package compose

// Render is the CPU reference of the compositor: s composed into a BGRA8
// frame (Width*Height*4 bytes, rows top to bottom, bytes B, G, R, 255),
// drawn in painter's order straight from the Scene, without the shader's
// encoding. It gives the shader's bytes exactly.
func Render(s *Scene) ([]byte, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	w, h := s.Width, s.Height
	rgb := make([]RGB, w*h)
	for i := range rgb {
		rgb[i] = s.Background
	}
	for _, r := range s.Rects {
		for y := max(r.Y, 0); y < min(r.Y+r.H, h); y++ {
			for x := max(r.X, 0); x < min(r.X+r.W, w); x++ {
				rgb[y*w+x] = r.Color
			}
		}
	}
	for _, im := range s.Images {
		for y := max(im.Y, 0); y < min(im.Y+im.H, h); y++ {
			for x := max(im.X, 0); x < min(im.X+im.W, w); x++ {
				sx, sy := (x-im.X)*im.Src.W/im.W, (y-im.Y)*im.Src.H/im.H
				c := im.Src.Pix[sy*im.Src.W+sx]
				if im.Heat != nil {
					c = HeatBlend(c, im.Heat[sy*im.Src.W+sx], im.HeatAlpha)
				}
				rgb[y*w+x] = c
			}
		}
	}
	plot := func(x, y int, c RGB) {
		if x >= 0 && y >= 0 && x < w && y < h {
			rgb[y*w+x] = c
		}
	}
	for _, l := range s.Lines {
		lo, hi := -(l.Width-1)/2, l.Width/2
		bresenham(l.X0, l.Y0, l.X1, l.Y1, func(x, y int) {
			for oy := lo; oy <= hi; oy++ {
				for ox := lo; ox <= hi; ox++ {
					plot(x+ox, y+oy, l.Color)
				}
			}
		})
	}
	for _, t := range s.Texts {
		x := t.X
		for _, code := range t.S {
			for r := range GlyphHeight {
				for c := range GlyphWidth {
					if code == ' ' || !glyphSet(code, c, r) {
						continue
					}
					for oy := range t.Scale {
						for ox := range t.Scale {
							plot(x+c*t.Scale+ox, t.Y+r*t.Scale+oy, t.Color)
						}
					}
				}
			}
			x += Advance * t.Scale
		}
	}
	out := make([]byte, 4*w*h)
	for i, c := range rgb {
		out[4*i], out[4*i+1], out[4*i+2], out[4*i+3] = byte(c), byte(c>>8), byte(c>>16), 255
	}
	return out, nil
}

// maxSteps bounds a line's pixels, as the shader does.
const maxSteps = 8192

// bresenham calls plot for every pixel of the segment, in order.
func bresenham(x0, y0, x1, y1 int, plot func(x, y int)) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := 1, 1
	if x0 >= x1 {
		sx = -1
	}
	if y0 >= y1 {
		sy = -1
	}
	err := dx + dy
	for range maxSteps {
		plot(x0, y0)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * err
		if e2 >= dy {
			err += dy
			x0 += sx
		}
		if e2 <= dx {
			err += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// Jet is the jet colour map at heat 0 (blue) to 255 (red): each channel
// 255 * clamp(1.5 - |4t - k|, 0, 1) at t = heat/255, k = 3 (red), 2
// (green), 1 (blue), rounded down.
func Jet(heat uint8) RGB {
	ch := func(centre int) RGB {
		d := abs(4*int(heat) - centre)
		return RGB(min(max((765-2*d)/2, 0), 255))
	}
	return ch(765)<<16 | ch(510)<<8 | ch(255)
}

// HeatBlend is c with the jet colour of heat blended over it at alpha
// (0: c, 255: the jet colour), each channel rounded to nearest.
func HeatBlend(c RGB, heat, alpha uint8) RGB {
	j := Jet(heat)
	mix := func(shift uint) RGB {
		a, b := uint32(c>>shift&255), uint32(j>>shift&255)
		return RGB((a*(255-uint32(alpha))+b*uint32(alpha)+127)/255) << shift
	}
	return mix(16) | mix(8) | mix(0)
}
