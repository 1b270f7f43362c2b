package rundir

import (
	"bytes"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkPlotFiles checks that base+".png" decodes to an image of at least
// minW×minH pixels and that base+".svg" is a non-empty SVG document.
func checkPlotFiles(t *testing.T, base string, minW, minH int) {
	t.Helper()
	b, err := os.ReadFile(base + ".png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s.png: %v", base, err)
	}
	if s := img.Bounds().Size(); s.X < minW || s.Y < minH || s.X > 4000 || s.Y > 4000 {
		t.Errorf("%s.png is %v, want at least %dx%d", base, s, minW, minH)
	}
	svg, err := os.ReadFile(base + ".svg")
	if err != nil {
		t.Fatal(err)
	}
	if len(svg) == 0 || !(bytes.HasPrefix(svg, []byte("<?xml")) || bytes.HasPrefix(svg, []byte("<svg"))) {
		t.Errorf("%s.svg does not start like an SVG document: %.40q", base, svg)
	}
	if !bytes.Contains(svg, []byte("</svg>")) {
		t.Errorf("%s.svg is not closed", base)
	}
}

// lossSeries returns decaying loss curves for a few methods.
func lossSeries(epochs int) []Series {
	var out []Series
	for i, name := range []string{"baseline", "noether 2a", "noether 2b"} {
		s := Series{Name: name}
		for e := 1; e <= epochs; e++ {
			s.X = append(s.X, float64(e))
			s.Y = append(s.Y, math.Exp(-float64(e)/float64(10+5*i))*(1+0.1*math.Sin(float64(e))))
		}
		out = append(out, s)
	}
	return out
}

func TestPlotLines(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		plot func(base string) error
	}{
		{"loss log", func(b string) error { return PlotLossCurves(b, lossSeries(100), true) }},
		{"loss linear short", func(b string) error { return PlotLossCurves(b, lossSeries(5), false) }},
		{"rmse", func(b string) error { return PlotRolloutRMSE(b, lossSeries(30), false) }},
		{"single point", func(b string) error {
			return PlotLines(b, "one", "x", "y", []Series{{Name: "a", X: []float64{1}, Y: []float64{2}}}, true)
		}},
		{"single point under 1", func(b string) error { // a first epoch's loss: gonum's ±1 would go below zero
			return PlotLines(b, "one", "x", "y", []Series{{Name: "a", X: []float64{1}, Y: []float64{0.1}}}, true)
		}},
		{"flat", func(b string) error {
			return PlotLines(b, "flat", "x", "y", []Series{{Name: "a", X: []float64{1, 2, 3}, Y: []float64{2, 2, 2}}}, false)
		}},
		{"flat log", func(b string) error {
			return PlotLines(b, "flat", "x", "y", []Series{{Name: "a", X: []float64{1, 1}, Y: []float64{2, 2}}}, true)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
			if err := tt.plot(base); err != nil {
				t.Fatal(err)
			}
			checkPlotFiles(t, base, 600, 400)
		})
	}
}

// circle returns n points on a circle of radius r, started at angle phase.
func circle(n int, r, phase float64) [][2]float64 {
	pts := make([][2]float64, n)
	for i := range pts {
		a := phase + 2*math.Pi*float64(i)/float64(n-1)
		pts[i] = [2]float64{r * math.Cos(a), r * math.Sin(a)}
	}
	return pts
}

func TestPlotPhase(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{1, 4} {
		t.Run(fmt.Sprint(n, " trajectories"), func(t *testing.T) {
			truth := make([][][2]float64, n)
			preds := map[string][][][2]float64{}
			for k := range truth {
				truth[k] = circle(50, 1+0.3*float64(k), 0)
				spiral := make([][2]float64, 50)
				for i, qp := range circle(50, 1+0.3*float64(k), 0.05) {
					g := 1 + 0.004*float64(i)
					spiral[i] = [2]float64{qp[0] * g, qp[1] * g}
				}
				preds["baseline"] = append(preds["baseline"], spiral)
				preds["noether"] = append(preds["noether"], circle(50, 1.01+0.3*float64(k), 0.02))
			}
			base := filepath.Join(dir, fmt.Sprint("phase", n))
			if err := PlotPhase(base, "Pendulum phase portraits", truth, preds); err != nil {
				t.Fatal(err)
			}
			checkPlotFiles(t, base, 380, 380)
		})
	}
	t.Run("single points", func(t *testing.T) {
		pt := [][][2]float64{{{1, 1}}}
		base := filepath.Join(dir, "dots")
		if err := PlotPhase(base, "dots", pt, map[string][][][2]float64{"m": pt}); err != nil {
			t.Fatal(err)
		}
		checkPlotFiles(t, base, 380, 380)
	})
}

// TestPlotBands draws bands, one with a NaN SEM (drawn without a band
// there), into PNG and SVG files.
func TestPlotBands(t *testing.T) {
	base := filepath.Join(t.TempDir(), "mse")
	bands := []Band{
		{Name: "svg", Mean: []float64{3, 2, 1}, SEM: []float64{0.1, math.NaN(), 0.2}},
		{Name: "noether", Mean: []float64{2.5, 2, 1.5}, SEM: []float64{0.3, 0.2, 0.1}},
	}
	if err := PlotBands(base, "Test MSE", "predicted frame", "MSE", bands); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{".png", ".svg"} {
		if st, err := os.Stat(base + ext); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", ext, err)
		}
	}
}

func TestPlotErrors(t *testing.T) {
	dir := t.TempDir()
	nan := math.NaN()
	ok := [][][2]float64{{{0, 1}, {1, 0}}}
	tests := []struct {
		name string
		plot func(base string) error
		want string
	}{
		{"no series", func(b string) error { return PlotLines(b, "", "", "", nil, false) }, "no series"},
		{"empty series", func(b string) error { return PlotLines(b, "", "", "", []Series{{Name: "a"}}, false) }, `series "a" is empty`},
		{"length mismatch", func(b string) error {
			return PlotLines(b, "", "", "", []Series{{Name: "a", X: []float64{1, 2}, Y: []float64{1}}}, false)
		}, "2 X values but 1 Y values"},
		{"NaN", func(b string) error {
			return PlotLines(b, "", "", "", []Series{{Name: "loss", X: []float64{1, 2}, Y: []float64{1, nan}}}, false)
		}, `series "loss" point 1 is (2, NaN)`},
		{"Inf", func(b string) error {
			return PlotLines(b, "", "", "", []Series{{Name: "loss", X: []float64{math.Inf(1)}, Y: []float64{1}}}, false)
		}, "infinite"},
		{"log of zero", func(b string) error {
			return PlotLines(b, "", "", "", []Series{{Name: "loss", X: []float64{1}, Y: []float64{0}}}, true)
		}, "log-scale"},
		{"phase no trajectories", func(b string) error { return PlotPhase(b, "", nil, nil) }, "no trajectories"},
		{"phase empty truth", func(b string) error { return PlotPhase(b, "", [][][2]float64{{}}, nil) }, "truth trajectory 0 is empty"},
		{"phase NaN", func(b string) error {
			return PlotPhase(b, "", ok, map[string][][][2]float64{"m": {{{0, nan}}}})
		}, `method "m" trajectory 0 point 0`},
		{"phase count mismatch", func(b string) error {
			return PlotPhase(b, "", ok, map[string][][][2]float64{"m": {}})
		}, "has 0 trajectories but truth has 1"},
		{"band lengths", func(b string) error {
			return PlotBands(b, "", "", "", []Band{{Name: "svg", Mean: []float64{1, 2}, SEM: []float64{0.1}}})
		}, "svg: 2 means and 1 SEMs"},
		{"band NaN", func(b string) error {
			return PlotBands(b, "", "", "", []Band{{Name: "svg", Mean: []float64{1, nan}, SEM: []float64{0.1, 0.1}}})
		}, "svg: step 2 is NaN"},
		{"missing directory", func(string) error {
			return PlotLines(filepath.Join(dir, "no", "dir", "x"), "", "", "", lossSeries(3), false)
		}, "temporary file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := filepath.Join(dir, "bad")
			err := tt.plot(base)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if _, err := os.Stat(base + ".png"); err == nil {
				t.Error("a PNG was written despite the error")
			}
		})
	}
}

func ExamplePlotLines() {
	dir, _ := os.MkdirTemp("", "plots")
	defer os.RemoveAll(dir)
	base := filepath.Join(dir, "loss")

	train := Series{Name: "train", X: []float64{1, 2, 3, 4}, Y: []float64{1, 0.5, 0.3, 0.2}}
	valid := Series{Name: "validation", X: []float64{1, 2, 3, 4}, Y: []float64{1.1, 0.6, 0.45, 0.4}}
	if err := PlotLines(base, "Loss per epoch", "epoch", "loss", []Series{train, valid}, true); err != nil {
		fmt.Println(err)
		return
	}
	for _, ext := range []string{".png", ".svg"} {
		_, err := os.Stat(base + ext)
		fmt.Println(ext, err == nil)
	}
	// Output:
	// .png true
	// .svg true
}
