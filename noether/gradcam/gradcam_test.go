package gradcam

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/kernels/kerneltest"
	"github.com/noether-vk/noether-vk/noether/video"
)

// vulkan is the backend on the validated test device.
func vulkan(t *testing.T) graph.Backend {
	return graph.VulkanBackend{Kernels: kernels.NewVulkan(gputest.Open(t))}
}

// referencePCA is PCA in float64 by gonum's SVD of the centred samples,
// with svd_flip on U (scikit-learn before 1.5): components [k][d] and
// explained variance ratios.
func referencePCA(t *testing.T, x []float32, n, d, k int) (comps [][]float64, ratio []float64) {
	mean := make([]float64, d)
	for i := range n {
		for j := range d {
			mean[j] += float64(x[i*d+j]) / float64(n)
		}
	}
	c := mat.NewDense(n, d, nil)
	for i := range n {
		for j := range d {
			c.Set(i, j, float64(x[i*d+j])-mean[j])
		}
	}
	var svd mat.SVD
	if !svd.Factorize(c, mat.SVDThin) {
		t.Fatal("reference SVD failed")
	}
	s := svd.Values(nil)
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	total := 0.0
	for _, sv := range s {
		total += sv * sv
	}
	for q := range k {
		best := 0
		for i := range n {
			if math.Abs(u.At(i, q)) > math.Abs(u.At(best, q)) {
				best = i
			}
		}
		sign := 1.0
		if u.At(best, q) < 0 {
			sign = -1
		}
		row := make([]float64, d)
		for j := range d {
			row[j] = sign * v.At(j, q)
		}
		comps = append(comps, row)
		ratio = append(ratio, s[q]*s[q]/total)
	}
	return comps, ratio
}

// TestPCAAgainstReference: the device PCA of correlated samples with a
// decaying spectrum matches a float64 SVD: mean, components with their
// signs (svd_flip on the scores), variances and ratios, which are
// positive and sum to at most 1.
func TestPCAAgainstReference(t *testing.T) {
	const n, d, k = 400, 12, 6
	rng := rand.New(rand.NewPCG(5, 18))
	// Rotate independent coordinates of decaying spread, then shift.
	q := kerneltest.RandomOrthogonal(rng, d)
	x := make([]float32, n*d)
	for i := range n {
		for j := range d {
			v := 3.0 - 0.5*float64(j)
			for m := range d {
				v += q.At(j, m) * rng.NormFloat64() * 4 * math.Pow(0.6, float64(m))
			}
			x[i*d+j] = float32(v)
		}
	}
	wantComps, wantRatio := referencePCA(t, x, n, d, k)
	for _, b := range []graph.Backend{graph.CPUBackend{}, vulkan(t)} {
		p, err := FitPCA(b, x, n, d, k)
		if err != nil {
			t.Fatal(err)
		}
		sum := 0.0
		for q := range k {
			for j := range d {
				if got, want := float64(p.Components[q*d+j]), wantComps[q][j]; math.Abs(got-want) > 2e-3 {
					t.Errorf("%s: component %d[%d] = %.5f, want %.5f", b.Name(), q, j, got, want)
				}
			}
			if math.Abs(p.Ratio[q]-wantRatio[q]) > 1e-4 || p.Ratio[q] < 0 {
				t.Errorf("%s: ratio %d = %.6f, want %.6f", b.Name(), q, p.Ratio[q], wantRatio[q])
			}
			sum += p.Ratio[q]
		}
		if sum > 1+1e-6 {
			t.Errorf("%s: ratios sum to %v > 1", b.Name(), sum)
		}
		for j := range d {
			want := 3.0 - 0.5*float64(j)
			if math.Abs(float64(p.Mean[j])-want) > 1 {
				t.Errorf("%s: mean[%d] = %v, far from %v", b.Name(), j, p.Mean[j], want)
			}
		}
	}
}

// TestPCASignConvention: the component's sign follows the scores (the
// sample of largest |score| scores positive), not the component's own
// largest entry, which scikit-learn 1.5 and later use: here the two
// disagree.
func TestPCASignConvention(t *testing.T) {
	// Samples along (0.6, -0.8): many small ones on both sides and one
	// far out on the positive side. The component's largest entry (-0.8)
	// is negative, the largest score positive.
	var x []float32
	for i, s := range []float64{-1, -1, -1, 1, 1, 5} {
		x = append(x, float32(0.6*s+0.001*float64(i)), float32(-0.8*s))
	}
	for _, b := range []graph.Backend{graph.CPUBackend{}, vulkan(t)} {
		p, err := FitPCA(b, x, 6, 2, 1)
		if err != nil {
			t.Fatal(err)
		}
		if c := p.Components; math.Abs(float64(c[0])-0.6) > 1e-3 || math.Abs(float64(c[1])+0.8) > 1e-3 {
			t.Errorf("%s: component %v, want (0.6, -0.8)", b.Name(), c)
		}
	}
}

// seeing is video.Embedding on 16x16 frames with weights that make it
// see one region and one colour: each convolution passes its input
// channels through by the centre tap alone (conv 1: channel j copies
// input channel j mod 6, so channel 0 is the first frame's red; conv 2:
// channel j copies channel j mod 32), biases zero; the linear layer reads
// only channel 0 at the pooled positions of the top-left 8x8 quadrant,
// into embedding dimension 0, with positive weights. Embedding dimension
// 0 therefore depends only on red in the first frame's top-left
// quadrant, and the target activation's channel 0 is the first frame's
// red, max-pooled by 2.
func seeing() (Analyzer, map[string][]float32) {
	const size, dim = 16, 4
	emb := video.Embedding(3, size, dim)
	p := map[string][]float32{
		"embedding.0.weight": make([]float32, 32*6*25), "embedding.0.bias": make([]float32, 32),
		"embedding.3.weight": make([]float32, 64*32*25), "embedding.3.bias": make([]float32, 64),
		"embedding.7.weight": make([]float32, 64*4*4*dim), "embedding.7.bias": make([]float32, dim),
	}
	for j := range 32 {
		p["embedding.0.weight"][(j*6+j%6)*25+12] = 1
	}
	for j := range 64 {
		p["embedding.3.weight"][(j*32+j%32)*25+12] = 1
	}
	for y := range 2 { // channel 0, pooled rows and columns 0-1 of 4
		for x := range 2 {
			p["embedding.7.weight"][(y*4+x)*dim] = 0.5 + 0.1*float32(y*2+x)
		}
	}
	return Analyzer{Embedding: emb, Target: TargetLayer, Params: p, Channels: 3, Size: size}, p
}

// square paints a side x side square of colour c at (y0, x0) into a
// [3, 16, 16] frame.
func square(f []float32, y0, x0, side int, c [3]float32) {
	for ch := range 3 {
		for y := y0; y < y0+side; y++ {
			for x := x0; x < x0+side; x++ {
				f[ch*256+y*16+x] = c[ch]
			}
		}
	}
}

// TestGradCAMSeesItsRegion: for the embedding that only sees red in the
// top-left quadrant, frames with a red square there and a green one
// elsewhere: the map of the component along embedding dimension 0 is
// exactly the first frame's red, max-pooled, resized and min-max
// normalised (the channel weight of the only channel that matters is
// positive and cancels in the normalisation), so it lies on the red
// square and is zero on the green one; the opposite component's weight
// is negative, so ReLU leaves nothing and its map is all zeros. The
// Vulkan and CPU executors agree.
func TestGradCAMSeesItsRegion(t *testing.T) {
	a, _ := seeing()
	const n, s = 3, 16
	pairs := make([]float32, n*6*s*s)
	for i := range n {
		first := pairs[i*6*s*s : i*6*s*s+3*s*s]
		square(first, 1+2*i, 2+i, 3, [3]float32{1, 0, 0})
		square(first, 10, 9+i, 4, [3]float32{0, 1, 0})
		second := pairs[i*6*s*s+3*s*s : (i+1)*6*s*s]
		square(second, 2+2*i, 3+i, 3, [3]float32{1, 0, 0})
	}
	p := &PCA{Dim: 4, Mean: make([]float32, 4), Components: []float32{1, 0, 0, 0, -1, 0, 0, 0}, Variance: []float64{1, 1}, Ratio: []float64{0.5, 0.5}}
	var ref *Maps
	for _, b := range []graph.Backend{graph.CPUBackend{}, vulkan(t)} {
		a.Backend, a.Batch = b, 2 // two runs, the second padded
		m, err := a.Maps(p, pairs, n)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			// The expected map, computed here from the frame.
			red := pairs[i*6*s*s : i*6*s*s+s*s]
			pooled, _, err := kernels.CPU{}.MaxPool2D(kernels.MaxPool2x2(1, 1, s, s), red)
			if err != nil {
				t.Fatal(err)
			}
			up, err := kernels.CPU{}.ResizeBilinear2D(kernels.ResizeShape{N: 1, C: 1, H: s / 2, W: s / 2, OH: s, OW: s}, pooled)
			if err != nil {
				t.Fatal(err)
			}
			want, err := kernels.CPU{}.Rowwise(kernels.RowMinMax, 1, s*s, up, nil)
			if err != nil {
				t.Fatal(err)
			}
			heat := m.Heat[i*s*s : (i+1)*s*s]
			for j := range want {
				if math.Abs(float64(heat[j]-want[j])) > 1e-5 {
					t.Fatalf("%s: pair %d: heat[%d, %d] = %v, want %v", b.Name(), i, j/s, j%s, heat[j], want[j])
				}
			}
			for y := 10; y < 14; y++ {
				for x := 9 + i; x < 13+i; x++ {
					if heat[y*s+x] != 0 {
						t.Errorf("%s: pair %d: heat on the green square (%d, %d) = %v", b.Name(), i, y, x, heat[y*s+x])
					}
				}
			}
			if peak := heat[(2+2*i)*s+3+i]; peak != 1 {
				t.Errorf("%s: pair %d: heat at the red square's centre = %v, want 1", b.Name(), i, peak)
			}
			for j, v := range m.Heat[(n+i)*s*s : (n+i+1)*s*s] {
				if v != 0 {
					t.Fatalf("%s: pair %d: the negative component's heat[%d] = %v, want 0", b.Name(), i, j, v)
				}
			}
		}
		for q := range 2 {
			for i := range n {
				blend := m.Blend[(q*n+i)*3*s*s : (q*n+i+1)*3*s*s]
				hi := float32(0)
				for _, v := range blend {
					if v < 0 || v > 1 {
						t.Fatalf("%s: blend value %v outside [0, 1]", b.Name(), v)
					}
					hi = max(hi, v)
				}
				if hi != 1 {
					t.Errorf("%s: component %d pair %d: brightest blend value %v, want 1", b.Name(), q, i, hi)
				}
			}
		}
		if ref == nil {
			ref = m
			continue
		}
		for name, pair := range map[string][2][]float32{"heat": {m.Heat, ref.Heat}, "blend": {m.Blend, ref.Blend}, "scores": {m.Scores, ref.Scores}} {
			for j := range pair[0] {
				if math.Abs(float64(pair[0][j]-pair[1][j])) > 1e-5 {
					t.Fatalf("%s[%d]: vulkan %v, cpu %v", name, j, pair[0][j], pair[1][j])
				}
			}
		}
	}
}
