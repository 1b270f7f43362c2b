package ramp

import (
	"flag"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/graph/graphtest"
	"github.com/noether-vk/noether-vk/svg/clips"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.png from the current renderer")

func smallConfig(seed uint64) Config {
	c := DefaultConfig()
	c.Seed = seed
	c.Height, c.Width = 32, 32
	c.TrainSequences, c.TestSequences = 12, 6
	c.Objects, c.TestObjects, c.NovelTestObjects = 8, 4, 1
	return c
}

func mustNew(t testing.TB, c Config) *Dataset {
	t.Helper()
	d, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustBatch(t testing.TB, d *Dataset, s clips.Split, idx ...int) *clips.Batch {
	t.Helper()
	b, err := d.Batch(s, idx)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDeterminism: the same seed gives byte-identical frames, another seed
// other frames, and one split does not change with the other's size.
func TestDeterminism(t *testing.T) {
	c := smallConfig(7)
	a := mustBatch(t, mustNew(t, c), clips.Test, 0, 3, 5)
	b := mustBatch(t, mustNew(t, c), clips.Test, 0, 3, 5)
	if !graphtest.SameBits(a.Frames, b.Frames) {
		t.Errorf("two datasets of seed 7 differ")
	}
	if a.T != 22 || a.B != 3 || a.H != 32 || a.W != 32 || len(a.Frames) != 22*3*3*32*32 {
		t.Errorf("batch %dx%dx3x%dx%d with %d values, want 22x3x3x32x32", a.T, a.B, a.H, a.W, len(a.Frames))
	}
	for _, v := range a.Frames {
		if !(v >= 0 && v <= 1) {
			t.Fatalf("a value %v outside [0, 1]", v)
		}
	}
	other := mustBatch(t, mustNew(t, smallConfig(8)), clips.Test, 0, 3, 5)
	if graphtest.SameBits(a.Frames, other.Frames) {
		t.Errorf("seeds 7 and 8 give the same frames")
	}
	more := c
	more.TrainSequences = 30
	if m := mustBatch(t, mustNew(t, more), clips.Test, 0, 3, 5); !graphtest.SameBits(a.Frames, m.Frames) {
		t.Errorf("the test clips changed with the number of training clips")
	}
}

// TestSplits checks the default split: 311 and 78 clips of 22 frames;
// every training object in some training clip; 44 distinct objects in the
// test clips, 42 of them also in training, as in the reference's split of
// Physics 101.
func TestSplits(t *testing.T) {
	d := mustNew(t, DefaultConfig())
	if d.Len(clips.Train) != 311 || d.Len(clips.Test) != 78 || d.Frames() != 22 {
		t.Fatalf("%d training and %d test clips of %d frames, want 311, 78, 22", d.Len(clips.Train), d.Len(clips.Test), d.Frames())
	}
	inTrain := map[int]bool{}
	for _, q := range d.Sequences(clips.Train) {
		inTrain[q.Object.ID] = true
	}
	inTest := map[int]bool{}
	for _, q := range d.Sequences(clips.Test) {
		inTest[q.Object.ID] = true
	}
	seen := 0
	for id := range inTest {
		if inTrain[id] {
			seen++
		}
	}
	if len(inTrain) != 58 || len(inTest) != 44 || seen != 42 {
		t.Errorf("%d training objects, %d test objects of which %d seen in training; want 58, 44, 42", len(inTrain), len(inTest), seen)
	}
	// The mechanics vary: some objects stay put, most slide, most of
	// those hit the target within the clip.
	var static, sliding, hits int
	for _, q := range d.Sequences(clips.Train) {
		if !q.Trial.Slides() {
			static++
			continue
		}
		sliding++
		if len(q.Motion.Collisions) > 0 && q.Motion.Collisions[0].T <= q.Time(d.Frames()-1) {
			hits++
		}
	}
	t.Logf("training clips: %d static, %d sliding, %d with a collision in view", static, sliding, hits)
	if static == 0 || sliding < 2*static || hits < sliding/2 {
		t.Errorf("%d static and %d sliding clips, %d hits in view: want some static, most sliding, most of those hitting", static, sliding, hits)
	}
}

// TestClipsFollowTheModel checks every clip's frames against the physics:
// before the foot the object's position is the closed form, the bodies
// never overlap, static objects never move and their frames repeat
// exactly.
func TestClipsFollowTheModel(t *testing.T) {
	d := mustNew(t, DefaultConfig())
	checkedStatic := false
	for _, s := range []clips.Split{clips.Train, clips.Test} {
		for i, q := range d.Sequences(s) {
			tr := q.Trial
			a := tr.RampAcceleration()
			for f := range d.Frames() {
				tm := q.Time(f)
				s1, s2 := q.Motion.At(tm)
				if closed := tr.S0 + 0.5*a*tm*tm; closed < 0 && !near(s1, closed, 1e-12) {
					t.Errorf("%s clip %d frame %d: s = %v on the ramp, closed form %v", s, i, f, s1, closed)
				}
				if gap := (s2 - tr.Target.Length/2) - (s1 + tr.Object.Length/2); gap < -1e-9 {
					t.Errorf("%s clip %d frame %d: bodies overlap by %v", s, i, f, -gap)
				}
			}
			if !tr.Slides() && !checkedStatic {
				checkedStatic = true
				b := mustBatch(t, d, s, i)
				if !graphtest.SameBits(b.Frame(0, 0), b.Frame(d.Frames()-1, 0)) {
					t.Errorf("%s clip %d: a static object's first and last frames differ", s, i)
				}
			}
		}
	}
	if !checkedStatic {
		t.Errorf("no static clip in this dataset to check")
	}
}

// TestSizes renders one clip at 64 and 128 pixels: the 128 frame averaged
// over 2x2 blocks is the 64 frame up to sampling (both are box filters of
// the same scene).
func TestSizes(t *testing.T) {
	c := DefaultConfig()
	c.TrainSequences, c.TestSequences = 60, 44
	small := mustBatch(t, mustNew(t, c), clips.Train, 0)
	c.Height, c.Width = 128, 128
	big := mustBatch(t, mustNew(t, c), clips.Train, 0)
	var sum, worst float64
	n := 0
	for f := 0; f < 22; f += 7 {
		s, b := small.Frame(f, 0), big.Frame(f, 0)
		for ch := range 3 {
			for i := range 64 {
				for j := range 64 {
					at := func(y, x int) float64 { return float64(b[ch*128*128+y*128+x]) }
					mean := (at(2*i, 2*j) + at(2*i, 2*j+1) + at(2*i+1, 2*j) + at(2*i+1, 2*j+1)) / 4
					diff := math.Abs(mean - float64(s[ch*64*64+i*64+j]))
					sum += diff
					worst = math.Max(worst, diff)
					n++
				}
			}
		}
	}
	if mean := sum / float64(n); mean > 0.005 || worst > 0.2 {
		t.Errorf("128 px averaged to 64 px differs from 64 px by %v on average, %v at worst; want <= 0.005 and 0.2", mean, worst)
	}
}

// TestGoldenPixels compares a grid of frames (train clip 0 at frames 0,
// 10 and 21; test clip 1 at frames 0 and 21) at 64 pixels with
// testdata/golden.png, 8-bit value for value; -update rewrites it. It also
// checks what the frames show: the background away from the bodies, and
// anti-aliased edges.
func TestGoldenPixels(t *testing.T) {
	c := DefaultConfig()
	d := mustNew(t, c)
	train, test := mustBatch(t, d, clips.Train, 0), mustBatch(t, d, clips.Test, 1)
	rows := [][][]float32{
		{train.Frame(0, 0), train.Frame(10, 0), train.Frame(21, 0)},
		{test.Frame(0, 0), test.Frame(21, 0)},
	}
	img, err := clips.Grid(rows, 64, 64)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "golden.png")
	if *update {
		if err := clips.WritePNG(path, img); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (go test -run TestGoldenPixels -update writes it)", err)
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if !want.Bounds().Eq(img.Bounds()) {
		t.Fatalf("golden image %v, rendered %v", want.Bounds(), img.Bounds())
	}
	diffs := 0
	for y := range img.Bounds().Dy() {
		for x := range img.Bounds().Dx() {
			r0, g0, b0, _ := want.At(x, y).RGBA()
			r1, g1, b1, _ := img.At(x, y).RGBA()
			if r0 != r1 || g0 != g1 || b0 != b1 {
				diffs++
			}
		}
	}
	if diffs > 0 {
		t.Errorf("%d pixels differ from %s (rerun with -update if the change is intended, and look at it)", diffs, path)
	}

	// Away from the bodies a frame is the background exactly; where they
	// are it is not; an edge pixel lies between the body and the
	// background.
	bg := Background(c.Seed, 64, 64)
	if frame := train.Frame(0, 0); !graphtest.SameBits(frame[:64], bg[:64]) { // the top row: wall only
		t.Errorf("the top row of frame 0 is not the background")
	}
	// The first training clip with an object at least 5 cm tall (4
	// pixels), at its first frame.
	k := 0
	for d.Sequences(clips.Train)[k].Object.Height < 0.05 {
		k++
	}
	q := d.Sequences(clips.Train)[k]
	frame := mustBatch(t, d, clips.Train, k).Frame(0, 0)
	sc := q.Scene(0)
	inside, edge := pixelsOf(sc.Object, sc.ObjectPose, 64)
	if inside < 0 || edge < 0 {
		t.Fatalf("no interior or edge pixel found for the object at %+v", sc.ObjectPose)
	}
	for ch := range 3 {
		o := ch * 64 * 64
		if frame[o+inside] == bg[o+inside] {
			t.Errorf("channel %d: the object's interior pixel %d shows the background", ch, inside)
		}
	}
	lo, hi := math.Min(float64(frame[inside]), float64(bg[edge])), math.Max(float64(frame[inside]), float64(bg[edge]))
	if v := float64(frame[edge]); v == float64(bg[edge]) || v < lo-0.25 || v > hi+0.25 {
		t.Errorf("edge pixel %d: %v, want a blend of the body (%v) and the background (%v)", edge, v, frame[inside], bg[edge])
	}
}

// pixelsOf finds, for a body at 64x64, one pixel wholly inside (centre at
// least a pixel deep) and one its outline crosses (centre within a
// quarter pixel of it), as indices into a plane; -1 when there is none.
func pixelsOf(l Look, p Pose, size int) (inside, edge int) {
	inside, edge = -1, -1
	px := ViewSize / float64(size)
	for i := range size {
		for j := range size {
			x, y := world(i, j, 0.5, 0.5, size, size)
			d := l.dist(local(p, x, y))
			switch {
			case d < -1.5*px && inside < 0:
				inside = i*size + j
			case math.Abs(d) < px/4 && edge < 0:
				edge = i*size + j
			}
		}
	}
	return inside, edge
}

func TestErrors(t *testing.T) {
	d := mustNew(t, smallConfig(1))
	for _, c := range []struct {
		s    clips.Split
		idx  []int
		want string
	}{
		{clips.Train, nil, "no clips"},
		{clips.Test, []int{6}, "clip 6 of the test split, which has 6"},
		{clips.Split(5), []int{0}, "unknown split"},
	} {
		if _, err := d.Batch(c.s, c.idx); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Batch(%v, %v): error %v, want %q", c.s, c.idx, err, c.want)
		}
	}
	for _, c := range []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.Height = 4 }, "frame size"},
		{func(c *Config) { c.TestSequences = 0 }, "at least 1 of each"},
		{func(c *Config) { c.NovelTestObjects = 8 }, "at least one training object"},
		{func(c *Config) { c.TrainSequences = 5 }, "every training object needs a clip"},
		{func(c *Config) { c.TestObjects = 7 }, "want at most one object per clip"},
	} {
		cfg := smallConfig(1)
		c.change(&cfg)
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v): error %v, want %q", cfg, err, c.want)
		}
	}
}
