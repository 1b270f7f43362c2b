package metrics_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/noether/metrics"
)

// draw is tools/peer/lpips_ref.py's generator: n values in [0, 1), Chris
// Wellons' lowbias32 hash of i*0x9e3779b9 + stream*0x85ebca6b (mod 2^32)
// over 2^32. The peer and the test draw the same weights and images from
// it, so nothing large is committed.
func draw(stream uint32, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		x := uint32(i)*0x9e3779b9 + stream*0x85ebca6b
		x ^= x >> 16
		x *= 0x7feb352d
		x ^= x >> 15
		x *= 0x846ca68b
		x ^= x >> 16
		out[i] = float64(x) / (1 << 32)
	}
	return out
}

// peerWeights are the peer's weights: for the k-th tensor (features.0
// weight and bias, ..., features.10, then lin0..lin4), stream k; the
// convolutions' weights within He's bound sqrt(6/fan_in), biases within
// 0.01, the linear weights in [0, 1).
func peerWeights() map[string][]float32 {
	w := map[string][]float32{}
	stream := uint32(0)
	var lins []nn.ParamSpec
	for _, p := range metrics.LPIPSParams() {
		if strings.HasPrefix(p.Name, "lin") {
			lins = append(lins, p)
			continue
		}
		n := graph.Shape(p.Shape).Len()
		u := draw(stream, n)
		v := make([]float32, n)
		if strings.HasSuffix(p.Name, ".weight") {
			bound := math.Sqrt(6 / float64(p.Shape[1]*p.Shape[2]*p.Shape[3]))
			for i := range v {
				v[i] = float32((2*u[i] - 1) * bound)
			}
		} else {
			for i := range v {
				v[i] = float32((2*u[i] - 1) * 0.01)
			}
		}
		w[p.Name] = v
		stream++
	}
	for _, p := range lins {
		u := draw(stream, graph.Shape(p.Shape).Len())
		v := make([]float32, len(u))
		for i := range v {
			v[i] = float32(u[i])
		}
		w[p.Name] = v
		stream++
	}
	return w
}

// peerImages are the peer's n images [n, 3, size, size]: a smooth pattern
// plus hashed noise of amplitude 0.2, clipped to [0, 1].
func peerImages(stream uint32, n, size int) []float32 {
	noise := draw(stream, n*3*size*size)
	out := make([]float32, len(noise))
	for b := range n {
		for c := range 3 {
			f := float64(1 + b + 2*c)
			for i := range size {
				for j := range size {
					yy, xx := float64(i)/float64(size), float64(j)/float64(size)
					o := ((b*3+c)*size+i)*size + j
					v := 0.5 + 0.3*math.Sin(2*math.Pi*(f*xx+float64(stream%7)*yy)/2)*math.Cos(2*math.Pi*f*yy/3)
					out[o] = float32(min(1, max(0, v+0.2*(noise[o]-0.5))))
				}
			}
		}
	}
	return out
}

type lpipsCase struct {
	Name     string    `json:"name"`
	Size     int       `json:"size"`
	XStream  uint32    `json:"x_stream"`
	YStream  *uint32   `json:"y_stream"`
	Distance []float64 `json:"distance"`
}

// TestLPIPSMatchesPeer compares LPIPS, on the CPU executor and on Vulkan,
// with the distances tools/peer/lpips_ref.py computed once in float64 with
// PyTorch from the published formula (testdata/lpips_reference.json), for
// pairs of 3 images at 64 and 128 pixels: unrelated images, an image and
// itself (exactly 0), a slightly noisy copy, a mirrored copy. float32
// here against float64 there: 2e-5 relative, 1e-7 absolute (the largest
// error seen was 1.9e-6 on lavapipe, 1.6e-7 on the CPU executor).
func TestLPIPSMatchesPeer(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "lpips_reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct{ Cases []lpipsCase }
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) != 8 {
		t.Fatalf("%d reference cases, want 8", len(ref.Cases))
	}
	w := peerWeights()
	backends := []graph.Backend{graph.CPUBackend{}, graph.VulkanBackend{Kernels: kernels.NewVulkan(gputest.Open(t))}}
	for _, be := range backends {
		start := time.Now()
		worst := 0.0
		programs := map[int]*metrics.LPIPS{}
		for _, c := range ref.Cases {
			if _, onCPU := be.(graph.CPUBackend); onCPU && c.Size > 64 {
				continue // the CPU executor's convolutions are slow: 64 pixels suffice there
			}
			l := programs[c.Size]
			if l == nil {
				if l, err = metrics.NewLPIPS(be, w, 3, metrics.Shape{C: 3, H: c.Size, W: c.Size}); err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				programs[c.Size] = l
			}
			x := peerImages(c.XStream, 3, c.Size)
			var y []float32
			switch c.Name {
			case "other":
				y = peerImages(*c.YStream, 3, c.Size)
			case "same":
				y = x
			case "noisy":
				u := draw(*c.YStream, len(x))
				y = make([]float32, len(x))
				for i := range y {
					y[i] = float32(min(1, max(0, float64(x[i])+0.05*(u[i]-0.5))))
				}
			case "mirrored":
				y = make([]float32, len(x))
				for r := range len(x) / c.Size {
					for j := range c.Size {
						y[r*c.Size+j] = x[r*c.Size+c.Size-1-j]
					}
				}
			default:
				t.Fatalf("unknown case %q", c.Name)
			}
			got, err := l.Distances(x, y)
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range c.Distance {
				if want != 0 {
					worst = max(worst, math.Abs(got[i]-want)/want)
				}
				if math.Abs(got[i]-want) > 2e-5*math.Abs(want)+1e-7 || (want == 0 && got[i] != 0) {
					t.Errorf("%s: %s at %d px, pair %d: LPIPS %.8g, peer %.8g", be.Name(), c.Name, c.Size, i, got[i], want)
				}
			}
		}
		t.Logf("%s: largest relative error %.2g, %v", be.Name(), worst, time.Since(start).Round(time.Millisecond))
	}
}

// TestLPIPSVideo checks that Video scores every frame of [T, B, ...] as
// Distances does, with a last group padded.
func TestLPIPSVideo(t *testing.T) {
	l, err := metrics.NewLPIPS(graph.CPUBackend{}, peerWeights(), 2, metrics.Shape{C: 3, H: 32, W: 32})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const T, B, frame = 3, 1, 3 * 32 * 32 // 3 frames: groups of 2, the second padded
	truth, pred := peerImages(1, T*B, 32), peerImages(2, T*B, 32)
	got, err := l.Video(truth, pred, T, B)
	if err != nil {
		t.Fatal(err)
	}
	for f := range T {
		pair, err := l.Distances(append(truth[f*frame:(f+1)*frame:(f+1)*frame], truth[f*frame:(f+1)*frame]...),
			append(pred[f*frame:(f+1)*frame:(f+1)*frame], pred[f*frame:(f+1)*frame]...))
		if err != nil {
			t.Fatal(err)
		}
		if got[0][f] != pair[0] || !(pair[0] > 0) {
			t.Errorf("frame %d: Video %v, Distances %v", f, got[0][f], pair[0])
		}
	}
}

func TestLPIPSWeightErrors(t *testing.T) {
	w := peerWeights()
	dir := t.TempDir()
	good := filepath.Join(dir, "lpips.safetensors")
	if err := nn.Save(good, metrics.LPIPSParams(), w, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.LoadLPIPSWeights(good); err != nil {
		t.Fatalf("a valid file: %v", err)
	}
	w["lin2.model.1.weight"][5] = -0.1
	bad := filepath.Join(dir, "negative.safetensors")
	if err := nn.Save(bad, metrics.LPIPSParams(), w, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.LoadLPIPSWeights(bad); err == nil || !strings.Contains(err.Error(), "lin2.model.1.weight[5]") {
		t.Errorf("a negative linear weight: error %v, want one naming it", err)
	}
	delete(w, "features.3.bias")
	if _, err := metrics.NewLPIPS(graph.CPUBackend{}, w, 1, metrics.Shape{C: 3, H: 64, W: 64}); err == nil || !strings.Contains(err.Error(), "features.3.bias") {
		t.Errorf("a missing weight: error %v, want one naming it", err)
	}
	if _, err := metrics.LoadLPIPSWeights(filepath.Join(dir, "none.safetensors")); err == nil || !strings.Contains(err.Error(), "pth2safetensors") {
		t.Errorf("a missing file: error %v, want one pointing to the converter", err)
	}
}
