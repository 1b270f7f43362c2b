package svg_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/svg"
)

// TestInit: the reference's initialisation. Convolutions and the LSTMs'
// linear layers N(0, 0.02) with zero biases; BatchNorm's weight
// N(1, 0.02), its bias and running mean 0, its running variance 1;
// GroupNorm's affine exactly (1, 0); LSTM cells U(+-1/sqrt(H)); with
// ForgetBias, the forget block of the predictor's bias_ih at 1 and
// nothing else changed.
func TestInit(t *testing.T) {
	cfg := tiny(svg.VGG)
	cfg.Width, cfg.RNNSize, cfg.Norm = 8, 32, svg.BatchNorm
	m := newModel(t, cfg)
	values := m.Init(rand.New(rand.NewPCG(1, 1)))
	pooled := map[string][]float32{} // by kind, to test their distribution
	bound := 1 / math.Sqrt(float64(cfg.RNNSize))
	for _, p := range append(m.Params(), m.State()...) {
		v := values[p.Name]
		lstm := strings.Contains(p.Name, ".lstm.")
		switch {
		case lstm:
			pooled["cell"] = append(pooled["cell"], v...)
		case strings.HasSuffix(p.Name, "running_var"):
			constant(t, p.Name, v, 1)
		case strings.HasSuffix(p.Name, "bias") || strings.HasSuffix(p.Name, "running_mean"):
			constant(t, p.Name, v, 0)
		case len(p.Shape) == 1: // a BatchNorm weight
			pooled["norm"] = append(pooled["norm"], v...)
		default:
			pooled["weight"] = append(pooled["weight"], v...)
		}
	}
	moments(t, "conv and linear weights", pooled["weight"], 0, 0.02)
	moments(t, "BatchNorm weights", pooled["norm"], 1, 0.02)
	moments(t, "LSTM cells", pooled["cell"], 0, bound/math.Sqrt(3))
	for _, v := range pooled["cell"] {
		if math.Abs(float64(v)) > bound {
			t.Fatalf("an LSTM cell value %v outside U(+-%v)", v, bound)
		}
	}

	cfg.Norm = svg.GroupNorm
	m = newModel(t, cfg)
	values = m.Init(rand.New(rand.NewPCG(1, 1)))
	for _, p := range m.Params() {
		if len(p.Shape) == 1 && strings.HasSuffix(p.Name, ".1.weight") {
			constant(t, p.Name, values[p.Name], 1)
		}
	}

	cfg.ForgetBias = true
	forget := newModel(t, cfg).Init(rand.New(rand.NewPCG(1, 1)))
	h := cfg.RNNSize
	for name, v := range forget {
		want := values[name]
		if strings.HasPrefix(name, "frame_predictor.lstm.") && strings.HasSuffix(name, ".bias_ih") {
			constant(t, name+"[H:2H]", v[h:2*h], 1)
			want = slices.Concat(want[:h], v[h:2*h], want[2*h:])
		}
		if !slices.Equal(v, want) {
			t.Errorf("ForgetBias changed %s beyond the predictor's forget blocks", name)
		}
	}
}

func constant(t *testing.T, name string, v []float32, want float32) {
	t.Helper()
	for _, x := range v {
		if x != want {
			t.Errorf("%s: %v, want every value %v", name, x, want)
			return
		}
	}
}

// moments checks the mean and standard deviation of a sample against
// its distribution's, within four standard errors.
func moments(t *testing.T, what string, v []float32, mean, std float64) {
	t.Helper()
	var s, ss float64
	for _, x := range v {
		s += float64(x)
		ss += float64(x) * float64(x)
	}
	n := float64(len(v))
	m := s / n
	sd := math.Sqrt(ss/n - m*m)
	if math.Abs(m-mean) > 4*std/math.Sqrt(n) || math.Abs(sd-std) > 4*std/math.Sqrt(2*n) {
		t.Errorf("%s: %d values of mean %.4g and standard deviation %.4g, want %.4g and %.4g", what, len(v), m, sd, mean, std)
	}
}
