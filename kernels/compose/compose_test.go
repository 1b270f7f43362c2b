package compose

import (
	"fmt"
	"testing"

	"github.com/noether-vk/noether-vk/gpu/gputest"
)

// everything is a scene that uses every feature: overlapping rectangles
// partly off the frame, scaled images (up and down, one shared source,
// heat maps at several weights), lines in every octant, of every width
// parity, crossing and leaving the frame, and every glyph at two scales.
func everything() *Scene {
	src := &Raster{W: 7, H: 5}
	heat := make([]uint8, 35)
	for i := range 35 {
		src.Pix = append(src.Pix, RGB(i*7919)&0xFFFFFF)
		heat[i] = uint8(i * 255 / 34)
	}
	s := &Scene{Width: 301, Height: 203, Background: 0x102030,
		Rects: []Rect{{X: -10, Y: -5, W: 100, H: 60, Color: 0x445566}, {X: 50, Y: 30, W: 400, H: 20, Color: 0xAA0011}},
		Images: []Image{
			{X: 5, Y: 70, W: 70, H: 50, Src: src},
			{X: 80, Y: 70, W: 5, H: 3, Src: src, Heat: heat, HeatAlpha: 128},
			{X: 60, Y: 90, W: 61, H: 41, Src: src, Heat: heat, HeatAlpha: 255},
			{X: 280, Y: 190, W: 70, H: 50, Src: src, Heat: heat, HeatAlpha: 1},
		},
	}
	for i, end := range [][2]int{{290, 10}, {290, 195}, {150, 200}, {10, 195}, {-40, 100}, {10, 5}, {150, -30}, {299, 60}} {
		s.Lines = append(s.Lines, Line{X0: 150, Y0: 100, X1: end[0], Y1: end[1], Width: 1 + i%4, Color: RGB(0x00FF00 + 0x1F*i)})
	}
	s.Lines = append(s.Lines, Line{X0: 20, Y0: 20, X1: 20, Y1: 20, Width: 3, Color: 0xFFFFFF})
	var all []rune
	for r := rune(32); r < 127; r++ {
		all = append(all, r)
	}
	s.Texts = []Text{
		{X: 2, Y: 140, Scale: 1, Color: 0xFFEE00, S: string(all[:48])},
		{X: 2, Y: 152, Scale: 1, Color: 0x00EEFF, S: string(all[48:])},
		{X: 100, Y: 165, Scale: 3, Color: 0xFF00FF, S: "Noether 0.0962 \u00e9"},
	}
	return s
}

func TestVulkanComposeMatchesReference(t *testing.T) {
	d := gputest.Open(t)
	c, err := NewComposer(d)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i, s := range []*Scene{everything(), {Width: 1, Height: 1, Background: 0xABCDEF}, everything()} {
		if i == 2 {
			// Grow past the first frame's buffers and marks.
			s.Width, s.Height = 640, 480
			s.Texts = append(s.Texts, s.Texts...)
		}
		got, err := c.Frame(s)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Render(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := sameFrame(got, want, s.Width); err != nil {
			t.Errorf("scene %d (%dx%d): the device's frame differs from the reference: %v", i, s.Width, s.Height, err)
		}
	}
}

// sameFrame names the first pixel where two BGRA8 frames differ.
func sameFrame(got, want []byte, width int) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d bytes, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			p := i / 4
			return fmt.Errorf("pixel (%d, %d) is BGRA %v, want %v", p%width, p/width, got[4*p:4*p+4], want[4*p:4*p+4])
		}
	}
	return nil
}

// pixel is the RGB of (x, y) in a BGRA8 frame.
func pixel(frame []byte, width, x, y int) RGB {
	p := frame[4*(y*width+x):]
	return RGB(p[2])<<16 | RGB(p[1])<<8 | RGB(p[0])
}

func TestRenderDrawsWhatTheSceneSays(t *testing.T) {
	src := &Raster{W: 2, H: 1, Pix: []RGB{0x112233, 0x445566}}
	s := &Scene{Width: 40, Height: 30, Background: 0x000001,
		Rects:  []Rect{{X: 0, Y: 0, W: 10, H: 10, Color: 0xFF0000}, {X: 5, Y: 5, W: 10, H: 10, Color: 0x00FF00}},
		Images: []Image{{X: 20, Y: 0, W: 4, H: 2, Src: src}},
		Lines:  []Line{{X0: 0, Y0: 20, X1: 39, Y1: 20, Width: 1, Color: 0x0000FF}, {X0: 30, Y0: 10, X1: 30, Y1: 29, Width: 1, Color: 0xFFFF00}},
		Texts:  []Text{{X: 0, Y: 21, Scale: 1, Color: 0xFFFFFF, S: "I"}},
	}
	f, err := Render(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		x, y int
		want RGB
		why  string
	}{
		{39, 29, 0x000001, "background"},
		{2, 2, 0xFF0000, "first rectangle"},
		{7, 7, 0x00FF00, "the second rectangle over the first"},
		{21, 1, 0x112233, "source pixel 0 scaled 2x"},
		{22, 0, 0x445566, "source pixel 1 scaled 2x"},
		{30, 20, 0xFFFF00, "the later line over the earlier at their crossing"},
		{10, 20, 0x0000FF, "a horizontal line"},
		{2, 21, 0xFFFFFF, "the top bar of I (.###.)"},
		{0, 21, 0x000001, "left of the I's bar"},
		{2, 25, 0xFFFFFF, "the I's stem"},
		{1, 25, 0x000001, "beside the I's stem"},
		{5, 20, 0x0000FF, "text over a line only where the glyph has pixels"},
	} {
		if got := pixel(f, s.Width, c.x, c.y); got != c.want {
			t.Errorf("(%d, %d) = %06x, want %06x: %s", c.x, c.y, got, c.want, c.why)
		}
	}
}

func TestJet(t *testing.T) {
	for _, c := range []struct {
		heat uint8
		want RGB
	}{ // 255 * clamp(1.5 - |4t - k|, 0, 1) by hand; matplotlib's jet at t = 0.25 is (0, 0.5, 1)
		{0, 0x00007F}, {255, 0x7F0000}, {128, 0x81FF7D}, {64, 0x0080FF}} {
		if got := Jet(c.heat); got != c.want {
			t.Errorf("Jet(%d) = %06x, want %06x", c.heat, got, c.want)
		}
	}
	if got := HeatBlend(0x000000, 255, 255); got != Jet(255) {
		t.Errorf("HeatBlend at full weight = %06x, want the jet colour %06x", got, Jet(255))
	}
	if got := HeatBlend(0x123456, 200, 0); got != 0x123456 {
		t.Errorf("HeatBlend at weight 0 = %06x, want the image's 123456", got)
	}
	if got := HeatBlend(0xFFFFFF, 0, 128); got != 0x7F7FBF {
		t.Errorf("HeatBlend(white, 0, 128) = %06x, want 7f7fbf", got)
	}
}

func TestCheckRefusesImpossibleScenes(t *testing.T) {
	src := &Raster{W: 2, H: 2, Pix: make([]RGB, 4)}
	for _, s := range []*Scene{
		{Width: 0, Height: 10},
		{Width: 10, Height: MaxSide + 1},
		{Width: 10, Height: 10, Images: []Image{{W: 5, H: 5}}},
		{Width: 10, Height: 10, Images: []Image{{W: 5, H: 5, Src: &Raster{W: 3, H: 3, Pix: make([]RGB, 4)}}}},
		{Width: 10, Height: 10, Images: []Image{{W: 5, H: 5, Src: src, Heat: make([]uint8, 3)}}},
		{Width: 10, Height: 10, Lines: []Line{{Width: 0}}},
		{Width: 10, Height: 10, Texts: []Text{{Scale: MaxTextScale + 1}}},
	} {
		if _, err := Render(s); err == nil {
			t.Errorf("Render accepted %+v", s)
		}
	}
}

func TestTextWidth(t *testing.T) {
	if got := TextWidth("ab", 2); got != 2*(2*Advance-1) {
		t.Errorf("TextWidth(ab, 2) = %d", got)
	}
	if TextWidth("", 3) != 0 {
		t.Error("empty text has a width")
	}
}
