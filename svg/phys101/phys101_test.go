package phys101

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/noether-vk/noether-vk/svg/clips"
	"github.com/noether-vk/noether-vk/svg/phys101/phys101test"
)

// The fake clips: 96x54 (16:9 like the Kinect's 1920x1080), so the
// centre crop is 54 pixels at left offset 21. Outside the crop the frame
// is magenta; inside, its left half (x 21..47) is grey at level 40 + 4k in
// frame k, its right half (48..74) green. Both halves are whole 8x8
// blocks of the codec away from every edge at the pixels checked, so
// they decode to within a few levels.
const (
	fakeW, fakeH = 96, 54
	fakeSize     = 16
)

var (
	magenta = [3]byte{255, 0, 255}
	green   = [3]byte{0, 200, 0}
)

func grey(k int) byte { return byte(40 + 4*k) }

func fakeFrame(k int) []byte {
	f := make([]byte, fakeW*fakeH*3)
	for y := range fakeH {
		for x := range fakeW {
			c := magenta
			switch {
			case x >= 21 && x < 48:
				c = [3]byte{grey(k), grey(k), grey(k)}
			case x >= 48 && x < 75:
				c = green
			}
			copy(f[(y*fakeW+x)*3:], c[:])
		}
	}
	return f
}

// needFFmpeg skips the test when ffmpeg cannot be run here.
func needFFmpeg(t *testing.T) {
	t.Helper()
	if why := phys101test.HaveFFmpeg(); why != "" {
		t.Skipf("%s, so no clip can be encoded for this test: %s", why, install)
	}
}

// encode writes n fake frames as an MPEG-4 clip.
func encode(path string, n int) error {
	return phys101test.Encode(path, n, fakeW, fakeH, fakeFrame)
}

// fakeCounts are the raw frame counts of the fake tree's clips by path
// relative to the ramp folder. Taking
// every 2nd frame: 60 frames give 30 (the middle 22 start at 4), 45 give
// 23 (start 0), 44 give 22 (start 0), 52 give 26 (start 2), 40 give 20
// (too short: skipped). The 10-degree clip is not the paper's data.
var fakeCounts = map[string]int{
	"obj_a/20_01/01/" + Camera: 60,
	"obj_a/20_02/01/" + Camera: 45,
	"obj_b/20_01/03/" + Camera: 44,
	"obj_b/20_01/04/" + Camera: 40,
	"obj_c/20_02/02/" + Camera: 52,
}

// The fake tree is encoded once (ffmpeg takes seconds on a loaded
// machine) into treeDir; each test works on a copy.
var (
	treeOnce sync.Once
	treeDir  string
	treeErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if treeDir != "" {
		os.RemoveAll(treeDir)
	}
	os.Exit(code)
}

// fakeTree lays out the fake clips in Physics 101's layout under a new
// folder and returns it.
func fakeTree(t *testing.T) string {
	t.Helper()
	needFFmpeg(t)
	treeOnce.Do(func() {
		if treeDir, treeErr = os.MkdirTemp("", "phys101-tree-"); treeErr != nil {
			return
		}
		ramp := filepath.Join(treeDir, "phys101", "scenarios", "ramp")
		for rel, n := range fakeCounts {
			if treeErr = encode(filepath.Join(ramp, rel), n); treeErr != nil {
				return
			}
		}
		treeErr = encode(filepath.Join(ramp, "obj_b", "10_01", "01", Camera), 60)
	})
	if treeErr != nil {
		t.Fatal(treeErr)
	}
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS(treeDir)); err != nil {
		t.Fatal(err)
	}
	return root
}

func fakeConfig(root, cache string) Config {
	c := DefaultConfig(root)
	c.CacheDir = cache
	c.Size, c.Crop = fakeSize, 0
	c.TrainClips, c.TestClips = 0, 0
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

// TestFakeTree loads a fake Physics 101 tree: the 20-degree clips found,
// the short one skipped and counted, the middle 22 of every 2nd frame
// kept, cropped and resized, flipped per clip; then loads it again with
// ffmpeg gone from PATH: everything comes from the cache, identical.
func TestFakeTree(t *testing.T) {
	root, cache := fakeTree(t), t.TempDir()
	d := mustNew(t, fakeConfig(root, cache))
	st := d.Stats()
	if st.Clips != 5 || st.Short != 1 || st.ShortClips[0] != "obj_b/20_01/04/"+Camera || st.Used != 4 || st.Decoded != 5 || st.Cached != 0 {
		t.Errorf("stats %+v: want 5 clips, 1 short (obj_b/20_01/04), 4 used, 5 decoded", st)
	}
	// 4 usable clips in the reference's proportion: round(4 x 78/389) = 1
	// test clip.
	if d.Len(clips.Train) != 3 || d.Len(clips.Test) != 1 {
		t.Errorf("%d training and %d test clips, want 3 and 1", d.Len(clips.Train), d.Len(clips.Test))
	}
	flips := 0
	for _, s := range []clips.Split{clips.Train, clips.Test} {
		for i, rel := range d.Names(s) {
			b, err := d.Batch(s, []int{i})
			if err != nil {
				t.Fatal(err)
			}
			n := (fakeCounts[rel] + 1) / 2 // frames after vid[::2]
			start := (n - 22) / 2
			greyCol, greenCol := 3, 12 // source x 32.3 and 62.7
			if d.Flipped(s, i) {
				flips++
				greyCol, greenCol = fakeSize-1-greyCol, fakeSize-1-greenCol
			}
			for tt := range 22 {
				f := b.Frame(tt, 0)
				want := float64(grey(2 * (start + tt)))
				for ch := range 3 {
					if v := float64(f[ch*fakeSize*fakeSize+8*fakeSize+greyCol]) * 255; math.Abs(v-want) > 3 {
						t.Errorf("%s frame %d channel %d: grey %v, want %v (raw frame %d)", rel, tt, ch, v, want, 2*(start+tt))
					}
					if v := float64(f[ch*fakeSize*fakeSize+8*fakeSize+greenCol]) * 255; math.Abs(v-float64(green[ch])) > 3 {
						t.Errorf("%s frame %d channel %d: green half %v, want %v", rel, tt, ch, v, green[ch])
					}
				}
				// The crop removes the magenta margins: the outermost
				// columns sample source x 22.2 and 73.8.
				for _, col := range []int{0, fakeSize - 1} {
					r, g := f[8*fakeSize+col], f[fakeSize*fakeSize+8*fakeSize+col]
					if r > 0.5 && g < 0.3 {
						t.Errorf("%s frame %d column %d is magenta: the margin was not cropped", rel, tt, col)
					}
				}
				for _, v := range f {
					if k := float64(v) * 255; math.Abs(k-math.Round(k)) > 1e-4 {
						t.Fatalf("%s: value %v is not k/255", rel, v)
					}
				}
			}
		}
	}
	t.Logf("%d of 4 clips flipped", flips)

	// The second run: ffmpeg gone, every clip from the cache.
	t.Setenv("PATH", t.TempDir())
	again := mustNew(t, fakeConfig(root, cache))
	if st := again.Stats(); st.Decoded != 0 || st.Cached != 5 || st.Short != 1 {
		t.Errorf("second run: %+v, want 0 decoded and 5 cached (1 short)", st)
	}
	for _, s := range []clips.Split{clips.Train, clips.Test} {
		if !slices.Equal(d.Names(s), again.Names(s)) {
			t.Errorf("%s split: %v, then %v", s, d.Names(s), again.Names(s))
		}
		idx := make([]int, d.Len(s))
		for i := range idx {
			idx[i] = i
		}
		a, _ := d.Batch(s, idx)
		b, err := again.Batch(s, idx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.Frames, b.Frames) {
			t.Errorf("%s split: the cached clips differ from the decoded ones", s)
		}
	}

	// A changed source is decoded again; without ffmpeg that fails,
	// naming what to install.
	changed := filepath.Join(root, "phys101", "scenarios", "ramp", d.Names(clips.Test)[0])
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(changed, later, later); err != nil {
		t.Fatal(err)
	}
	if _, err := New(fakeConfig(root, cache)); err == nil || !strings.Contains(err.Error(), "apt-get install ffmpeg") {
		t.Errorf("a changed clip without ffmpeg: error %v, want one saying to install ffmpeg", err)
	}
}

// TestOrderFile splits in the order a file gives, in the reference's
// format, and refuses a file naming clips the tree lacks.
func TestOrderFile(t *testing.T) {
	root, cache := fakeTree(t), t.TempDir()
	order := filepath.Join(t.TempDir(), "phys101.py")
	list := "ramp_20_seq_lengths = [(52, './data/phys101/phys101/scenarios/ramp/obj_c/20_02/02/Kinect_RGB_1.mp4'), " +
		"(40, './data/phys101/phys101/scenarios/ramp/obj_b/20_01/04/Kinect_RGB_1.mp4'), " +
		"(44, './data/phys101/phys101/scenarios/ramp/obj_b/20_01/03/Kinect_RGB_1.mp4'), " +
		"(60, './data/phys101/phys101/scenarios/ramp/obj_a/20_01/01/Kinect_RGB_1.mp4')]\n"
	if err := os.WriteFile(order, []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	c := fakeConfig(root, cache)
	c.OrderFile = order
	c.TrainClips, c.TestClips = 2, 1
	d := mustNew(t, c)
	want := [][]string{{"obj_c/20_02/02/" + Camera, "obj_b/20_01/03/" + Camera}, {"obj_a/20_01/01/" + Camera}}
	if !slices.Equal(d.Names(clips.Train), want[0]) || !slices.Equal(d.Names(clips.Test), want[1]) {
		t.Errorf("splits %v and %v, want %v", d.Names(clips.Train), d.Names(clips.Test), want)
	}
	if st := d.Stats(); st.Unlisted != 1 || st.Short != 1 {
		t.Errorf("stats %+v: want 1 clip unlisted (obj_a/20_02/01) and 1 short", st)
	}
	if err := os.WriteFile(order, []byte(list+"'ramp/obj_z/20_01/01/Kinect_RGB_1.mp4'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(c); err == nil || !strings.Contains(err.Error(), "obj_z/20_01/01") {
		t.Errorf("an order file naming a missing clip: error %v, want one naming it", err)
	}
}

func TestErrors(t *testing.T) {
	root := fakeTree(t)
	empty, cache := t.TempDir(), t.TempDir() // one cache: each clip is decoded once

	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"missing folder", fakeConfig(filepath.Join(root, "nowhere"), t.TempDir()), "does not exist"},
		{"no ramp scenario", fakeConfig(empty, t.TempDir()), "no ramp scenario"},
		{"too few clips", func() Config {
			c := fakeConfig(root, cache)
			c.TrainClips, c.TestClips = 311, 78
			return c
		}(), "4 usable clips (of 5, 1 too short"},
		{"crop too large", func() Config {
			c := fakeConfig(root, cache)
			c.Crop = 1080
			return c
		}(), "smaller than the 1080-pixel crop"},
	} {
		if _, err := New(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one with %q", c.name, err, c.want)
		}
	}
	broken := filepath.Join(root, "phys101", "scenarios", "ramp", "obj_d", "20_01", "01", Camera)
	if err := os.MkdirAll(filepath.Dir(broken), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, bytes.Repeat([]byte("not a video "), 100), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(fakeConfig(root, cache)); err == nil || !strings.Contains(err.Error(), "obj_d/20_01/01/Kinect_RGB_1.mp4 cannot be decoded") {
		t.Errorf("a corrupt video: error %v, want one naming it", err)
	}
}

// TestResize checks the bilinear taps against values worked by hand
// (PyTorch's rule: source x = max((i + 0.5) n/m - 0.5, 0)) and the rounding
// of a frame: 4 -> 2 samples at 0.5 and 2.5; 2 -> 4 at 0 (clamped), 0.25,
// 0.75 and 1.25 (the last pixel repeated beyond it).
func TestResize(t *testing.T) {
	down := linearTaps(4, 2)
	if down[0] != (tap{0, 1, 0.5, 0.5}) || down[1] != (tap{2, 3, 0.5, 0.5}) {
		t.Errorf("4 -> 2: %+v", down)
	}
	up := linearTaps(2, 4)
	want := []tap{{0, 1, 1, 0}, {0, 1, 0.75, 0.25}, {0, 1, 0.25, 0.75}, {1, 1, 0.75, 0.25}}
	if !slices.Equal(up, want) {
		t.Errorf("2 -> 4: %+v, want %+v", up, want)
	}
	// A 2x2 crop of a 4x2 frame (left offset 1), 10 and 20 in its
	// columns, resized to 4x4: the columns are 10, 12.5, 17.5 and 20,
	// which round half to even to 10, 12, 18, 20.
	p, err := newPrep(4, 2, 2, 4)
	if err != nil {
		t.Fatal(err)
	}
	rgb := make([]byte, 4*2*3)
	for y := range 2 {
		for x, v := range []byte{99, 10, 20, 99} {
			for ch := range 3 {
				rgb[(y*4+x)*3+ch] = v
			}
		}
	}
	dst := make([]byte, 3*16)
	p.apply(dst, rgb)
	for i := range 4 {
		if got := dst[i*4 : i*4+4]; !slices.Equal(got, []byte{10, 12, 18, 20}) {
			t.Errorf("row %d: %v, want [10 12 18 20]", i, got)
		}
	}
	// torchvision's centre crop offset: int(round((w - crop) / 2)), half
	// to even.
	for _, c := range []struct{ w, crop, left int }{{1920, 1080, 420}, {25, 4, 10}, {27, 4, 12}} {
		if p, _ := newPrep(c.w, c.crop, c.crop, 8); p.left != c.left {
			t.Errorf("width %d, crop %d: left offset %d, want %d", c.w, c.crop, p.left, c.left)
		}
	}
}
