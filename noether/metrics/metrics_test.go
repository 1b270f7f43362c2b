package metrics

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// referenceTol is the relative tolerance against scikit-image (with an
// absolute floor for values near 0): both sides compute in float64 from
// the same float32 images, differing only in summation order.
const referenceTol = 1e-12

// refCase is one image pair of testdata/reference.json with what
// scikit-image computed for it. The images are strings (NumPy's shortest
// decimal form of each float32), parsed as float32.
type refCase struct {
	Name           string
	Shape          [3]int
	XText          []string  `json:"x"`
	YText          []string  `json:"y"`
	X, Y           []float32 `json:"-"`
	MSE            float64
	PSNR           float64
	PSNRChannels   []float64 `json:"psnr_channels"`
	SSIMR1         float64   `json:"ssim_r1"`
	SSIMR2         float64   `json:"ssim_r2"`
	SSIMR1Channels []float64 `json:"ssim_r1_channels"`
}

func loadReference(t *testing.T) []refCase {
	t.Helper()
	raw, err := os.ReadFile("testdata/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Skimage string
		Cases   []refCase
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) == 0 || ref.Skimage == "" {
		t.Fatal("reference.json: no cases or no scikit-image version")
	}
	for i := range ref.Cases {
		c := &ref.Cases[i]
		c.X, c.Y = float32s(t, c.XText), float32s(t, c.YText)
	}
	return ref.Cases
}

func float32s(t *testing.T, v []string) []float32 {
	t.Helper()
	out := make([]float32, len(v))
	for i, s := range v {
		f, err := strconv.ParseFloat(s, 32)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = float32(f)
	}
	return out
}

func near(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

// TestAgainstScikitImage compares every metric with the values
// scikit-image computed once for the pairs in testdata/reference.json
// (written by testdata/gen.py), and checks the inputs are left as they
// were.
func TestAgainstScikitImage(t *testing.T) {
	for _, c := range loadReference(t) {
		t.Run(c.Name, func(t *testing.T) {
			s := Shape{C: c.Shape[0], H: c.Shape[1], W: c.Shape[2]}
			x0, y0 := slices.Clone(c.X), slices.Clone(c.Y)
			check := func(what string, got, want float64, err error) {
				t.Helper()
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if !near(got, want, referenceTol) {
					t.Errorf("%s = %.17g, scikit-image %.17g (rel. diff %.2g)", what, got, want, math.Abs(got-want)/math.Abs(want))
				}
			}
			v, err := MSE(c.X, c.Y, s)
			check("MSE", v, c.MSE, err)
			v, err = PSNR(c.X, c.Y, s)
			check("PSNR", v, c.PSNR, err)
			v, err = SSIM(c.X, c.Y, s)
			check("SSIM", v, c.SSIMR1, err)
			v, err = SSIMWithRange(c.X, c.Y, s, ReferenceRange)
			check("SSIM range 2", v, c.SSIMR2, err)
			plane := s.H * s.W
			one := Shape{C: 1, H: s.H, W: s.W}
			for ch := 0; ch < s.C; ch++ {
				x, y := c.X[ch*plane:(ch+1)*plane], c.Y[ch*plane:(ch+1)*plane]
				v, err = PSNR(x, y, one)
				check("PSNR of channel", v, c.PSNRChannels[ch], err)
				v, err = SSIM(x, y, one)
				check("SSIM of channel", v, c.SSIMR1Channels[ch], err)
			}
			sc, err := Frame(c.X, c.Y, s, Reference())
			check("Frame MSE", sc.MSE, c.MSE, err)
			check("Frame PSNR", sc.PSNR, c.PSNR, err)
			check("Frame SSIM (Reference)", sc.SSIM, c.SSIMR2, err)
			if !slices.Equal(c.X, x0) || !slices.Equal(c.Y, y0) {
				t.Error("inputs were changed")
			}
		})
	}
}

// TestIdentical: identical images have MSE 0, PSNR +Inf (see PSNR) and
// SSIM exactly 1 at either data range.
func TestIdentical(t *testing.T) {
	s := Shape{C: 3, H: 9, W: 8}
	x := make([]float32, s.Len())
	for i := range x {
		x[i] = float32(i%17) / 16
	}
	y := slices.Clone(x)
	if v, err := MSE(x, y, s); err != nil || v != 0 {
		t.Errorf("MSE = %v, %v; want 0", v, err)
	}
	if v, err := PSNR(x, y, s); err != nil || !math.IsInf(v, 1) {
		t.Errorf("PSNR = %v, %v; want +Inf", v, err)
	}
	for _, r := range []float64{UnitRange, ReferenceRange} {
		if v, err := SSIMWithRange(x, y, s, r); err != nil || v != 1 {
			t.Errorf("SSIM at range %v = %.17g, %v; want 1", r, v, err)
		}
	}
	// One exact channel is enough to make the channel mean +Inf.
	y[0] += 0.5
	if v, err := PSNR(x, y, s); err != nil || !math.IsInf(v, 1) {
		t.Errorf("PSNR with two exact channels = %v, %v; want +Inf", v, err)
	}
}

// TestPSNRDataRangeOne pins the convention on a value worked by hand: a
// constant error of 0.1 is MSE 0.01, 10 log10(1/0.01) = 20 dB in every
// channel.
func TestPSNRDataRangeOne(t *testing.T) {
	s := Shape{C: 2, H: 3, W: 4}
	x, y := make([]float32, s.Len()), make([]float32, s.Len())
	for i := range y {
		x[i] = 0.5
		y[i] = 0.5 + 0.1
	}
	v, err := PSNR(x, y, s)
	if err != nil || !near(v, 20, 1e-6) {
		t.Errorf("PSNR = %v, %v; want 20 dB", v, err)
	}
}

func TestErrors(t *testing.T) {
	s := Shape{C: 1, H: 7, W: 7}
	ok := make([]float32, s.Len())
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"short", func() error { _, err := MSE(ok, ok[:3], s); return err }(), "metrics: MSE: images of 49 and 3 values"},
		{"shape", func() error { _, err := PSNR(nil, nil, Shape{}); return err }(), "metrics: PSNR: image shape 0x0x0"},
		{"small", func() error { _, err := SSIM(ok[:42], ok[:42], Shape{1, 6, 7}); return err }(), "smaller than the 7x7 SSIM window"},
		{"range", func() error { _, err := SSIMWithRange(ok, ok, s, -1); return err }(), "data range -1"},
		{"video", func() error { _, err := Video(ok, ok, 2, 1, s, Options{}); return err }(), "metrics: Video: 49 and 49 values for [2, 1, 1, 7, 7]"},
		{"curve", func() error { var c Curve; c.Add([]float64{1, 2}); return c.Add([]float64{1}) }(), "metrics: Curve.Add: 1 steps, but the episodes so far have 2"},
		{"curves", func() error { var c Curves; return c.Add(nil) }(), "metrics: Curves.Add: no steps"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, c.err, c.want)
		}
	}
}

// TestVideoAndCurves: Video reads [T, B, C, H, W] time-major, and the
// curves' per-step means and standard errors are those worked by hand.
func TestVideoAndCurves(t *testing.T) {
	const T, B = 2, 3
	s := Shape{C: 1, H: 7, W: 7}
	truth := make([]float32, T*B*s.Len())
	pred := make([]float32, T*B*s.Len())
	// Frame (t, b) is off by e = 0.1*(t+1)*(b+1) everywhere: MSE e².
	for i := 0; i < T; i++ {
		for j := 0; j < B; j++ {
			off := (i*B + j) * s.Len()
			for k := 0; k < s.Len(); k++ {
				pred[off+k] = float32(0.1 * float64((i+1)*(j+1)))
			}
		}
	}
	scores, err := Video(truth, pred, T, B, s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var c Curves
	for j := range scores {
		for i, sc := range scores[j] {
			e := float64(float32(0.1 * float64((i+1)*(j+1))))
			if !near(sc.MSE, e*e, 1e-12) {
				t.Errorf("video %d step %d: MSE %v, want %v", j, i, sc.MSE, e*e)
			}
		}
		if err := c.Add(scores[j]); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Add(scores[0][:1]); err == nil {
		t.Error("Curves.Add took an episode of the wrong length")
	}
	if c.MSE.Episodes() != B || c.PSNR.Episodes() != B || c.SSIM.Episodes() != B {
		t.Fatalf("episodes %d %d %d, want %d each", c.MSE.Episodes(), c.PSNR.Episodes(), c.SSIM.Episodes(), B)
	}
	// Step 0's MSEs are 0.01, 0.04, 0.09 (as float32 errors squared):
	// mean 0.14/3, sample sd from the deviations.
	var v []float64
	for j := 0; j < B; j++ {
		e := float64(float32(0.1 * float64(j+1)))
		v = append(v, e*e)
	}
	mean := (v[0] + v[1] + v[2]) / 3
	sd := math.Sqrt(((v[0]-mean)*(v[0]-mean) + (v[1]-mean)*(v[1]-mean) + (v[2]-mean)*(v[2]-mean)) / 2)
	st := c.MSE.PerStep()[0]
	if st.N != B || !near(st.Mean, mean, 1e-12) || !near(st.SEM, sd/math.Sqrt(3), 1e-12) {
		t.Errorf("step 0: %+v, want mean %v SEM %v N 3", st, mean, sd/math.Sqrt(3))
	}
	all := c.MSE.Mean()
	var sum float64
	for j := range scores {
		for _, sc := range scores[j] {
			sum += sc.MSE
		}
	}
	if all.N != B || !near(all.Mean, sum/(T*B), 1e-12) {
		t.Errorf("Mean %+v, want mean %v over %d episodes", all, sum/(T*B), B)
	}
	if one := Summarize([]float64{4}); one != (Stat{Mean: 4, N: 1}) {
		t.Errorf("Summarize of one value = %+v", one)
	}
}
