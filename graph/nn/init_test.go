package nn_test

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
)

// TestMLPInitGolden: the physics MLP (orthogonal weights, PyTorch's bias
// rule) draws exactly the numbers the MLP of noether/model.go drew before
// it moved onto this package, for a wide, a wide and a tall layer.
func TestMLPInitGolden(t *testing.T) {
	m := nn.MLP{Sizes: []int{2, 3, 4, 2}, LastBias: true, Init: []nn.Inits{{Weight: nn.Orthogonal{}}}}
	got := nn.Init(rand.New(rand.NewPCG(1, 2)), m.Params("f"))
	want := map[string][]float32{
		"f.0.weight": {0.6465009, 0.3408774, -0.68252414, -0.38667044, -0.6248033, -0.6783117},
		"f.0.bias":   {0.45152307, -0.22884564, 0.6689878},
		"f.1.weight": {-0.36098546, -0.7125194, -0.58291566, -0.14904684, -0.5901299, 0.26744118, 0.22465295, -0.72784126, -0.60039866, -0.23776375, 0.519322, 0.55972725},
		"f.1.bias":   {0.24873407, 0.06412891, -0.24995974, 0.30273217},
		"f.2.weight": {0.16318662, 0.2422016, 0.75943035, -0.05198563, -0.58829814, -0.3457734, 0.2248133, -0.9050285},
		"f.2.bias":   {0.38168058, 0.25049397},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MLP init:\n got %v\nwant %v", got, want)
	}
}

// TestInitOrder: Init draws spec after spec from one generator, so a
// model's values are its specs' draws in declaration order.
func TestInitOrder(t *testing.T) {
	specs := nn.Sequential{nn.Linear{In: 3, Out: 2}, nn.Tanh{}, nn.Conv2d{In: 1, Out: 2, Kernel: 3, Init: nn.DCGAN}}.Params("")
	got := nn.Init(rand.New(rand.NewPCG(7, 7)), specs)
	rng := rand.New(rand.NewPCG(7, 7))
	for _, s := range specs {
		if want := s.Init.Draw(rng, s.Shape); !slices.Equal(got[s.Name], want) {
			t.Errorf("%s: %v, want %v", s.Name, got[s.Name], want)
		}
	}
}

// TestDefaultInits checks every module's default initialisers against
// PyTorch's: kaiming-uniform bounds from the fan-in of each layout, norm
// affines at (1, 0), BatchNorm's state at (0, 1), LSTM cells at
// U(+-1/sqrt(H)), and the DCGAN overrides.
func TestDefaultInits(t *testing.T) {
	k := func(fanIn int) nn.Initializer { return nn.Uniform{Bound: 1 / math.Sqrt(float64(fanIn))} }
	for _, tc := range []struct {
		what  string
		specs []nn.ParamSpec
		want  []nn.Initializer
	}{
		{"Linear", nn.Linear{In: 9, Out: 2}.Params(""), []nn.Initializer{k(9), k(9)}},
		{"Conv2d", nn.Conv2d{In: 3, Out: 5, Kernel: 4}.Params(""), []nn.Initializer{k(48), k(48)}},
		{"ConvTranspose2d (fan-in from the weight's second axis)", nn.ConvTranspose2d{In: 3, Out: 5, Kernel: 4}.Params(""), []nn.Initializer{k(80), k(80)}},
		{"GroupNorm", nn.GroupNorm{Groups: 1, Channels: 4}.Params(""), []nn.Initializer{nn.Constant(1), nn.Constant(0)}},
		{"BatchNorm state", nn.BatchNorm{Channels: 4}.State(""), []nn.Initializer{nn.Constant(0), nn.Constant(1)}},
		{"LSTMCell", nn.LSTMCell{In: 3, Hidden: 16}.Params(""), []nn.Initializer{k(16), k(16), k(16), k(16)}},
		{"Conv2d DCGAN", nn.Conv2d{In: 3, Out: 5, Kernel: 4, Init: nn.DCGAN}.Params(""), []nn.Initializer{nn.Normal{Std: 0.02}, nn.Constant(0)}},
		{"BatchNorm DCGAN", nn.BatchNorm{Channels: 4, Init: nn.DCGANNorm}.Params(""), []nn.Initializer{nn.Normal{Mean: 1, Std: 0.02}, nn.Constant(0)}},
	} {
		var got []nn.Initializer
		for _, s := range tc.specs {
			got = append(got, s.Init)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: initialisers %v, want %v", tc.what, got, tc.want)
		}
	}
}

// TestOrthogonal: tall, wide and convolution-shaped tensors (read as
// shape[0] rows) have orthonormal columns or rows.
func TestOrthogonal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, shape := range [][]int{{6, 3}, {3, 6}, {4, 2, 2, 2}} {
		rows := shape[0]
		cols := graph.Shape(shape).Len() / rows
		a := nn.Orthogonal{}.Draw(rng, shape)
		// Gram matrix of the shorter side.
		n, at := min(rows, cols), func(i, j int) float64 { return float64(a[i*cols+j]) }
		if rows < cols {
			at = func(i, j int) float64 { return float64(a[j*cols+i]) }
		}
		for i := range n {
			for j := range n {
				var dot float64
				for k := range max(rows, cols) {
					dot += at(k, i) * at(k, j)
				}
				want := 0.0
				if i == j {
					want = 1
				}
				if math.Abs(dot-want) > 1e-5 {
					t.Errorf("%v: <%d, %d> = %g, want %g", shape, i, j, dot, want)
				}
			}
		}
	}
}
