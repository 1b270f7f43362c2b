package pendulum

import (
	"bytes"
	"image/png"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/graph/graphtest"
	"github.com/noether-vk/noether-vk/svg/clips"
)

// TestStepMatchesGym checks Step against steps of Gym's equations worked by
// hand (g = 10, l = m = 1, dt = 0.05, so thdot' = thdot + (15 sin th +
// 3u) 0.05, since -sin(th + pi) = sin th).
func TestStepMatchesGym(t *testing.T) {
	for _, c := range []struct {
		name string
		s    State
		u    float64
		want State
	}{
		// thdot' = (0 + 6) 0.05 = 0.3; th' = 0.3*0.05 = 0.015.
		{"upright, full torque", State{0, 0}, 2, State{0.015, 0.3}},
		// thdot' = 15*0.05 = 0.75; th' = pi/2 + 0.0375.
		{"horizontal, falling", State{math.Pi / 2, 0}, 0, State{math.Pi/2 + 0.0375, 0.75}},
		// u = 5 is clipped to 2: thdot' = (15 + 6) 0.05 = 1.05.
		{"torque clipped", State{math.Pi / 2, 0}, 5, State{math.Pi/2 + 0.0525, 1.05}},
		// sin 0.3 = 0.29552020666; thdot' = 7.9 + (4.43280309992 + 6) 0.05
		// = 8.42164015500, clipped to 8 only after th' = 0.3 + 8.421640155*0.05.
		{"speed clipped after the angle", State{0.3, 7.9}, 2, State{0.72108200775, 8}},
		// thdot' = -7.95 + (-15*0.84147098481 - 6) 0.05 = -8.88110323861;
		// th' = -1 - 0.44405516193.
		{"negative clip", State{-1, -7.95}, -2, State{-1.44405516193, -8}},
	} {
		got := Step(c.s, c.u)
		if math.Abs(got.Th-c.want.Th) > 1e-10 || math.Abs(got.ThDot-c.want.ThDot) > 1e-10 {
			t.Errorf("%s: Step(%+v, %v) = %+v, want %+v", c.name, c.s, c.u, got, c.want)
		}
	}
	if e := Energy(State{0, 0}); math.Abs(e-5) > 1e-12 {
		t.Errorf("energy upright at rest %v, want 5", e)
	}
	if e := Energy(State{math.Pi, 3}); math.Abs(e-(-5+1.5)) > 1e-12 {
		t.Errorf("energy hanging, speed 3: %v, want -3.5", e)
	}
}

func smallConfig(seed uint64) Config {
	c := DefaultConfig()
	c.Seed = seed
	c.Height, c.Width = 24, 24
	c.TrainEpisodes, c.TestEpisodes, c.EpisodeLen = 2, 3, 40
	c.History, c.Horizon = 2, 6
	c.Stride = 5
	return c
}

func mustNew(t *testing.T, c Config) *Dataset {
	t.Helper()
	d, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustBatch(t *testing.T, d *Dataset, s Split, idx []int) *Batch {
	t.Helper()
	b, err := d.Batch(s, idx)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDeterminism: the same seed gives byte-identical frames and actions;
// another seed differs; the test episodes do not depend on how many
// training episodes there are.
func TestDeterminism(t *testing.T) {
	idx := []int{0, 4, 13, 7}
	a := mustBatch(t, mustNew(t, smallConfig(7)), Test, idx)
	b := mustBatch(t, mustNew(t, smallConfig(7)), Test, idx)
	if !graphtest.SameBits(a.Frames, b.Frames) || !graphtest.SameBits(a.Actions, b.Actions) {
		t.Error("seed 7 twice: batches differ")
	}
	c := mustBatch(t, mustNew(t, smallConfig(8)), Test, idx)
	if graphtest.SameBits(a.Frames, c.Frames) || graphtest.SameBits(a.Actions, c.Actions) {
		t.Error("seeds 7 and 8: identical frames or actions")
	}
	more := smallConfig(7)
	more.TrainEpisodes = 4
	m := mustBatch(t, mustNew(t, more), Test, idx)
	if !graphtest.SameBits(a.Frames, m.Frames) || !graphtest.SameBits(a.Actions, m.Actions) {
		t.Error("test episodes changed with the number of training episodes")
	}
	tr := mustBatch(t, mustNew(t, smallConfig(7)), Train, idx[:2])
	if graphtest.SameBits(a.Actions[:len(tr.Actions)], tr.Actions) {
		t.Error("train and test windows are the same")
	}
}

// TestBatchLayout: Frames is [T, B, 3, H, W] and Actions [T, B, 1], window
// i starting at frame (i mod per-episode)*stride of episode i / per-episode;
// frame t draws the torque applied in frame t-1.
func TestBatchLayout(t *testing.T) {
	cfg := smallConfig(3)
	d := mustNew(t, cfg)
	if got, want := d.WindowsPerEpisode(), (40-8)/5+1; got != want {
		t.Fatalf("WindowsPerEpisode = %d, want %d", got, want)
	}
	idx := []int{8, 0, 8}
	b := mustBatch(t, d, Test, idx)
	if b.T != 8 || b.B != 3 || b.H != 24 || b.W != 24 || len(b.Frames) != 8*3*3*24*24 || len(b.Actions) != 8*3 {
		t.Fatalf("batch T %d B %d H %d W %d, %d frame values, %d actions", b.T, b.B, b.H, b.W, len(b.Frames), len(b.Actions))
	}
	frame := Channels * 24 * 24
	for j, i := range idx {
		ep, start, err := d.WindowAt(Test, i)
		if err != nil {
			t.Fatal(err)
		}
		if i == 8 && (ep != 1 || start != 5) {
			t.Errorf("window 8 at episode %d frame %d, want 1, 5", ep, start)
		}
		e := d.Episodes(Test)[ep]
		for tt := 0; tt < b.T; tt++ {
			want, err := Render(e.Scene(start+tt), 24, 24)
			if err != nil {
				t.Fatal(err)
			}
			off := (tt*b.B + j) * frame
			if !graphtest.SameBits(b.Frames[off:off+frame], want) {
				t.Errorf("window %d, frame %d: not episode %d's frame %d", i, tt, ep, start+tt)
			}
			if b.Actions[tt*b.B+j] != float32(e.Actions[start+tt]) {
				t.Errorf("window %d, step %d: action %v, want %v", i, tt, b.Actions[tt*b.B+j], e.Actions[start+tt])
			}
		}
	}
	e := d.Episodes(Train)[0]
	if e.Scene(0).Torque != e.Lead || e.Scene(5).Torque != e.Actions[4] || e.Scene(5).Theta != e.States[5].Th {
		t.Error("Scene(t) does not show States[t] with the torque of the step before")
	}
	for i := 1; i < len(e.States); i++ {
		if Step(e.States[i-1], e.Actions[i-1]) != e.States[i] {
			t.Fatalf("episode state %d is not Step of state %d under action %d", i, i-1, i-1)
		}
	}
}

// TestPolicyKeepsMoving: on every episode of the default data the
// pendulum still swings over the last 100 frames (mean |thdot| well away
// from 0, and in every second of them the angle changes), and the torques
// stay in [-2, 2] without being all saturated.
func TestPolicyKeepsMoving(t *testing.T) {
	d := mustNew(t, DefaultConfig())
	saturated, total := 0, 0
	for _, split := range []Split{Train, Test} {
		for i, e := range d.Episodes(split) {
			tail := e.States[len(e.States)-100:]
			var speed float64
			for _, s := range tail {
				speed += math.Abs(s.ThDot)
			}
			if speed /= 100; speed < 1.5 {
				t.Errorf("%s episode %d: mean |thdot| %.3f over the last 100 frames", split, i, speed)
			}
			for a := 0; a+20 <= len(tail); a++ {
				lo, hi := math.Inf(1), math.Inf(-1)
				for _, s := range tail[a : a+20] {
					lo, hi = math.Min(lo, s.Th), math.Max(hi, s.Th)
				}
				if hi-lo < 0.2 {
					t.Errorf("%s episode %d: the angle moves %.3f rad over frames %d..%d", split, i, hi-lo, 100+a, 119+a)
					break
				}
			}
			for _, u := range e.Actions {
				if math.Abs(u) > MaxTorque {
					t.Fatalf("%s episode %d: action %v outside [-2, 2]", split, i, u)
				}
				if math.Abs(u) == MaxTorque {
					saturated++
				}
				total++
			}
		}
	}
	if saturated > total/2 {
		t.Errorf("%d of %d actions saturated", saturated, total)
	}
}

// at returns the colour of pixel (i, j) of an h x w frame.
func at(f []float32, h, w, i, j int) [3]float32 {
	p := h * w
	return [3]float32{f[i*w+j], f[p+i*w+j], f[2*p+i*w+j]}
}

// pixel returns the colour of the pixel containing world point (x, y).
func pixel(f []float32, h, w int, x, y float64) [3]float32 {
	j := int((x + Bound) / (2 * Bound) * float64(w))
	i := int((Bound - y) / (2 * Bound) * float64(h))
	return at(f, h, w, i, j)
}

func render(t *testing.T, th, u float64, h, w int) []float32 {
	t.Helper()
	f, err := Render(Scene{Theta: th, Torque: u}, h, w)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var (
	rod   = [3]float32{0.8, 0.3, 0.3}
	white = [3]float32{1, 1, 1}
	black = [3]float32{0, 0, 0}
)

// TestRenderGolden checks known pixels at known angles and torques.
func TestRenderGolden(t *testing.T) {
	expect := func(what string, got, want [3]float32) {
		t.Helper()
		if got != want {
			t.Errorf("%s: pixel %v, want %v", what, got, want)
		}
	}
	// 64x64: a pixel is 4.4/64 = 0.06875 world units.
	f := render(t, 0, 0, 64, 64)
	// Pixel (18, 31) spans x in [-0.069, 0], y in [0.894, 0.963]: inside
	// the upright rod near its tip.
	expect("th 0, tip", at(f, 64, 64, 18, 31), rod)
	expect("th 0, below the axle", pixel(f, 64, 64, 0.03, -0.5), white)
	expect("th 0, far corner", at(f, 64, 64, 0, 0), white)
	expect("th 0, other far corner", pixel(f, 64, 64, 2.19, -2.19), white)
	// The four pixels around the centre each hold a quarter of the axle
	// (about 42% black) over the rod: darker than the rod.
	if c := pixel(f, 64, 64, 0.01, 0.01); c[0] > 0.6 || c[0] < 0.3 {
		t.Errorf("th 0, pixel at the axle: %v, want a mix of black and rod", c)
	}
	// Positive angles turn counter-clockwise: th = pi/2 points left, pi
	// down.
	f = render(t, math.Pi/2, 0, 64, 64)
	expect("th pi/2, left", pixel(f, 64, 64, -0.9, 0.01), rod)
	expect("th pi/2, right", pixel(f, 64, 64, 0.9, 0.01), white)
	f = render(t, math.Pi, 0, 64, 64)
	expect("th pi, below", pixel(f, 64, 64, 0.01, -0.9), rod)
	expect("th pi, above", pixel(f, 64, 64, 0.01, 0.9), white)

	// 22x22: pixels of 0.2 units. Column 10 spans x in [-0.2, 0], half of
	// it inside the upright rod (x in [-0.1, 0.1]): 32 of 64 samples.
	f = render(t, 0, 0, 22, 22)
	half := pixel(f, 22, 22, -0.15, 0.5)
	for c, want := range [3]float64{0.9, 0.65, 0.65} {
		if math.Abs(float64(half[c])-want) > 1e-6 {
			t.Errorf("half-covered edge pixel %v, want (0.9, 0.65, 0.65)", half)
			break
		}
	}

	// 440x440: pixels of 0.01 units, for the axle and the arrow.
	const n = 440
	f = render(t, math.Pi, 0, n, n)
	expect("axle", pixel(f, n, n, 0.005, 0.005), black)
	expect("no arrow at u = 0", pixel(f, n, n, 0.005, arrowRadius+0.005), white)
	for _, u := range []float64{-2, 2} {
		f = render(t, math.Pi, u, n, n)
		expect("arrow's arc at the top", pixel(f, n, n, 0.005, arrowRadius+0.005), black)
	}
	// The head: a point beside the arc's end, outside the stroke but
	// inside the head, at -30 degrees (right) for u < 0, whose clockwise
	// arrow ends there, and mirrored to 210 degrees (left) for u > 0.
	r, a := arrowRadius+0.09, arrowFrom
	hx, hy := r*math.Cos(a)+0.02*math.Sin(a), r*math.Sin(a)-0.02*math.Cos(a)
	f = render(t, math.Pi, -2, n, n)
	expect("u -2, head right", pixel(f, n, n, hx, hy), black)
	expect("u -2, no head left", pixel(f, n, n, -hx, hy), white)
	f = render(t, math.Pi, 2, n, n)
	expect("u 2, head left", pixel(f, n, n, -hx, hy), black)
	expect("u 2, no head right", pixel(f, n, n, hx, hy), white)
	// Size shows |u|: at u = -1 the arc has half the radius.
	f = render(t, math.Pi, -1, n, n)
	expect("u -1, arc at half radius", pixel(f, n, n, 0.005, arrowRadius/2+0.001), black)
	expect("u -1, nothing at full radius", pixel(f, n, n, 0.005, arrowRadius+0.005), white)
	// The arrow is drawn over the rod.
	f = render(t, 0, 0, n, n)
	expect("th 0, u 0, rod where the arc would be", pixel(f, n, n, 0.005, arrowRadius+0.005), rod)
	f = render(t, 0, 2, n, n)
	expect("th 0, u 2, arc over the rod", pixel(f, n, n, 0.005, arrowRadius+0.005), black)
}

// TestRenderAnySize: any size renders, in [0, 1], and anti-aliasing gives
// intermediate values only along edges.
func TestRenderAnySize(t *testing.T) {
	for _, hw := range [][2]int{{1, 1}, {7, 13}, {64, 64}, {30, 50}} {
		f := render(t, 0.7, -1.3, hw[0], hw[1])
		mid := 0
		for _, v := range f {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("%dx%d: value %v outside [0, 1]", hw[0], hw[1], v)
			}
			if v > 0 && v < 1 && v != 0.8 && v != 0.3 {
				mid++
			}
		}
		if hw[0] == 64 && mid == 0 {
			t.Error("64x64: no anti-aliased pixels")
		}
	}
}

func TestGridPNG(t *testing.T) {
	a, b := render(t, 0, 0, 8, 10), render(t, 1, 1, 8, 10)
	img, err := clips.Grid([][][]float32{{a, b}, {b}}, 8, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds().Size(); got.X != 2*10+clips.Gap || got.Y != 2*8+clips.Gap {
		t.Fatalf("grid size %v", got)
	}
	path := filepath.Join(t.TempDir(), "strip.png")
	if err := clips.WritePNG(path, img); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	back, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if r, g, bl, _ := back.At(0, 0).RGBA(); r != 0xffff || g != 0xffff || bl != 0xffff {
		t.Errorf("corner pixel %v, want white", back.At(0, 0))
	}
	if r, _, _, _ := back.At(2*10+clips.Gap-1, 2*8+clips.Gap-1).RGBA(); r>>8 != 128 {
		t.Errorf("empty cell %v, want grey", back.At(2*10+clips.Gap-1, 2*8+clips.Gap-1))
	}
	if _, err := clips.Image(a, 8, 9); err == nil {
		t.Error("Image took a frame of the wrong size")
	}
}

func TestErrors(t *testing.T) {
	d := mustNew(t, smallConfig(1))
	bad := func(f func(*Config)) error {
		c := smallConfig(1)
		f(&c)
		_, err := New(c)
		return err
	}
	_, batchErr := d.Batch(Train, make([]int, d.NumWindows(Train)+1))
	_, rangeErr := d.Batch(Test, []int{0, d.NumWindows(Test)})
	_, emptyErr := d.Batch(Test, nil)
	_, nanErr := Render(Scene{Theta: math.NaN()}, 8, 8)
	_, sizeErr := Render(Scene{}, 0, 8)
	for _, c := range []struct {
		err  error
		want string
	}{
		{bad(func(c *Config) { c.Horizon = 40 }), "history 2 + horizon 40 = 42 frames is longer than an episode (40 frames)"},
		{bad(func(c *Config) { c.Height = 0 }), "frame size 0x24"},
		{bad(func(c *Config) { c.TestEpisodes = 0 }), "want at least 1 of each"},
		{bad(func(c *Config) { c.Stride = 0 }), "window stride 0"},
		{bad(func(c *Config) { c.Policy.Hold = 0 }), "policy hold 0 steps"},
		{bad(func(c *Config) { c.Policy.NoiseCorr = 1 }), "noise correlation 1"},
		{batchErr, "a batch of 15 windows is larger than the train split's 14"},
		{rangeErr, "entry 1: pendulum: WindowAt: window 21 of the test split: want 0 <= i < 21"},
		{emptyErr, "no windows"},
		{nanErr, "want a finite angle and torque"},
		{sizeErr, "pendulum: Render: image size 0x8"},
		{RenderInto(make([]float32, 5), Scene{}, 2, 2), "dst holds 5 values, want 3*2*2 = 12"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", c.err, c.want)
		}
	}
}
