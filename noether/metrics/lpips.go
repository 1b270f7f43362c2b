package metrics

import (
	"fmt"
	"math"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/kernels"
)

// LPIPS (Zhang et al. 2018, version 0.1 with AlexNet) as the reference
// code scores frames: the tensors, their names and shapes, and the network.
// See the package documentation for the formula and the weight files.

// lpipsFeatures is torchvision's alexnet().features up to its last ReLU, at
// scope "features": the names of its tensors are PyTorch's
// (features.0.weight [64, 3, 11, 11], features.0.bias [64], ...).
var lpipsFeatures = nn.Sequential{
	nn.Conv2d{In: 3, Out: 64, Kernel: 11, Stride: 4, Pad: 2}, nn.ReLU{}, // relu1: after layer 1
	nn.MaxPool2d{Kernel: 3, Stride: 2},
	nn.Conv2d{In: 64, Out: 192, Kernel: 5, Pad: 2}, nn.ReLU{}, // relu2: after layer 4
	nn.MaxPool2d{Kernel: 3, Stride: 2},
	nn.Conv2d{In: 192, Out: 384, Kernel: 3, Pad: 1}, nn.ReLU{}, // relu3: after layer 7
	nn.Conv2d{In: 384, Out: 256, Kernel: 3, Pad: 1}, nn.ReLU{}, // relu4: after layer 9
	nn.Conv2d{In: 256, Out: 256, Kernel: 3, Pad: 1}, nn.ReLU{}, // relu5: after layer 11
}

// lpipsTaps are the layers of lpipsFeatures whose outputs LPIPS compares
// (the ReLUs after convolutions 1 to 5), and lpipsChannels their widths.
var (
	lpipsTaps     = []int{1, 4, 7, 9, 11}
	lpipsChannels = []int{64, 192, 384, 256, 256}
)

// LPIPS's input scaling (its ScalingLayer): (x - shift) / scale per RGB
// channel, for inputs in [-1, 1].
var (
	lpipsShift = [3]float64{-0.030, -0.088, -0.188}
	lpipsScale = [3]float64{0.458, 0.448, 0.450}
)

// lpipsEps keeps the unit normalisation finite where every channel is 0.
const lpipsEps = 1e-10

// lpipsLin is LPIPS's linear layer k (its NetLinLayer: dropout, then a 1x1
// convolution without bias to one channel), at scope lin<k>.model.1 as the
// published file names it: lin<k>.model.1.weight [1, C, 1, 1].
func lpipsLin(k int) (nn.Conv2d, nn.Scope) {
	return nn.Conv2d{In: lpipsChannels[k], Out: 1, Kernel: 1, NoBias: true}, nn.Scope(fmt.Sprintf("lin%d", k)).In("model").Index(1)
}

// LPIPSParams lists the tensors a weight file must hold: the AlexNet
// features' 10 and the 5 linear layers' weights, with their shapes.
func LPIPSParams() []nn.ParamSpec {
	specs := lpipsFeatures.Params("features")
	for k := range lpipsTaps {
		lin, s := lpipsLin(k)
		specs = append(specs, lin.Params(s)...)
	}
	return specs
}

// LoadLPIPSWeights reads a weight file (made by tools/pth2safetensors from
// the two published files) and checks it: exactly the tensors of
// LPIPSParams, and linear weights >= 0, as LPIPS trains them (a negative one
// means the file is not LPIPS v0.1's).
func LoadLPIPSWeights(path string) (map[string][]float32, error) {
	w, _, err := nn.Load(path, LPIPSParams())
	if err != nil {
		return nil, fmt.Errorf("metrics: LPIPS weights: %w (tools/pth2safetensors converts the published files; see the metrics package documentation)", err)
	}
	if err := checkLinear(w); err != nil {
		return nil, fmt.Errorf("metrics: LPIPS weights %s: %w", path, err)
	}
	return w, nil
}

func checkLinear(w map[string][]float32) error {
	for k := range lpipsTaps {
		lin, s := lpipsLin(k)
		name := lin.Params(s)[0].Name
		for i, v := range w[name] {
			if !(v >= 0) {
				return fmt.Errorf("%s[%d] = %v: LPIPS's linear weights are non-negative", name, i, v)
			}
		}
	}
	return nil
}

// LPIPS computes the distance on a device: one compiled program for a batch
// of N image pairs of one shape, run through any graph.Backend.
type LPIPS struct {
	exe   graph.Executor
	n     int
	shape Shape
}

// The program's inputs.
const (
	lpipsX = "lpips.x"
	lpipsY = "lpips.y"
)

// LPIPSMinSize is the smallest image side LPIPS takes: AlexNet's second
// pooling needs 31 pixels.
const LPIPSMinSize = 31

// NewLPIPS compiles LPIPS for n pairs of RGB images of shape s (s.C must be
// 3; at least 31x31 pixels, which AlexNet's second pooling needs) and loads it on
// backend with the given weights (LoadLPIPSWeights). Close frees it.
func NewLPIPS(backend graph.Backend, weights map[string][]float32, n int, s Shape) (*LPIPS, error) {
	if n < 1 || s.C != 3 {
		return nil, fmt.Errorf("metrics: NewLPIPS: %d pairs of %dx%dx%d images: want n >= 1 and 3 channels", n, s.C, s.H, s.W)
	}
	if s.H < LPIPSMinSize || s.W < LPIPSMinSize {
		return nil, fmt.Errorf("metrics: NewLPIPS: images of %dx%d: AlexNet's layers need at least %dx%d", s.H, s.W, LPIPSMinSize, LPIPSMinSize)
	}
	specs := LPIPSParams()
	want := make(map[string]int, len(specs))
	for _, p := range specs {
		want[p.Name] = graph.Shape(p.Shape).Len()
	}
	for name, size := range want {
		if len(weights[name]) != size {
			return nil, fmt.Errorf("metrics: NewLPIPS: weight %s has %d values, want %d (load them with LoadLPIPSWeights)", name, len(weights[name]), size)
		}
	}
	if len(weights) != len(want) {
		return nil, fmt.Errorf("metrics: NewLPIPS: %d weights, want the %d of LPIPSParams", len(weights), len(want))
	}
	if err := checkLinear(weights); err != nil {
		return nil, fmt.Errorf("metrics: NewLPIPS: %w", err)
	}
	g := graph.New()
	for _, p := range specs {
		if p.Name != conv1Weight {
			g.Param(p.Name, p.Shape...)
		}
	}
	g.Param(conv1Blocked, 64, 3*s2dBlock*s2dBlock, conv1BlockedSide, conv1BlockedSide)
	x := g.Input(lpipsX, n, 3, s.H, s.W)
	y := g.Input(lpipsY, n, 3, s.H, s.W)
	d := lpipsGraph(g, x, y, n)
	prog, err := g.Compile(graph.CompileOptions{}, d)
	if err != nil {
		return nil, fmt.Errorf("metrics: NewLPIPS: %w", err)
	}
	exe, err := backend.Load(prog)
	if err != nil {
		return nil, fmt.Errorf("metrics: NewLPIPS on %s: %w", backend.Name(), err)
	}
	for name, v := range weights {
		if name == conv1Weight {
			name, v = conv1Blocked, blockConv1(v)
		}
		if err := exe.SetParam(name, v); err != nil {
			exe.Close()
			return nil, fmt.Errorf("metrics: NewLPIPS: %w", err)
		}
	}
	return &LPIPS{exe: exe, n: n, shape: s}, nil
}

// lpipsGraph is the distance of each of the n pairs (x, y), [n]: both run
// through the features as one batch of 2n.
func lpipsGraph(g *graph.Graph, x, y *graph.Node, n int) *graph.Node {
	// [0, 1] to [-1, 1], then the scaling layer, as one affine map per
	// channel: ((2x - 1) - shift) / scale.
	var mul, add [3]float32
	for c := range 3 {
		mul[c] = float32(2 / lpipsScale[c])
		add[c] = float32(-(1 + lpipsShift[c]) / lpipsScale[c])
	}
	h := g.Concat(0, x, y)
	h = g.Add(g.Mul(h, g.Const(mul[:], 1, 3, 1, 1)), g.Const(add[:], 1, 3, 1, 1))
	ctx := &nn.Context{Graph: g}
	h = conv1(g, h)
	var total *graph.Node
	layer := 1 // conv1 is done
	for k, tap := range lpipsTaps {
		for ; layer <= tap; layer++ {
			h = lpipsFeatures[layer].Apply(ctx, nn.Scope("features").Index(layer), h)
		}
		// Unit length over channels at every position.
		norm := g.AddScalar(g.Sqrt(g.Reduce(kernels.SumSq, h, []int{1}, true)), lpipsEps)
		parts := g.Split(g.Div(h, norm), 0, n, n)
		diff := g.Square(g.Sub(parts[0], parts[1]))
		lin, s := lpipsLin(k)
		d := g.Mean(lin.Apply(ctx, s, diff), 1, 2, 3) // [n]: 1 channel, mean over positions
		if total == nil {
			total = d
		} else {
			total = g.Add(total, d)
		}
	}
	return total
}

// AlexNet's first layer is an 11x11 convolution of stride 4 (padding 2);
// the device's convolutions take kernel sides up to 7. It runs as the same
// sums rearranged: the input padded with zeros (2 before, as the layer
// pads, and after up to a whole number of 4x4 blocks), cut into 4x4
// blocks stacked on the channels (space to depth: a fixed one-hot 4x4
// convolution of stride 4, 3 -> 48 channels), then a 3x3 convolution of
// stride 1 over the blocks, whose weights are the 11x11 kernel zero-padded
// to 12x12 and cut the same way (blockConv1, on the host). Output (i, j)
// reads padded rows 4i..4i+10, which are blocks i..i+2.
const (
	conv1Weight      = "features.0.weight"
	conv1Blocked     = "lpips.conv1.blocked_weight" // [64, 48, 3, 3]
	s2dBlock         = 4
	conv1BlockedSide = 3
	conv1Side        = 11
	conv1Pad         = 2
)

// spaceToDepth is the one-hot kernel [48, 3, 4, 4]: output channel
// c*16 + p*4 + q copies input channel c at (p, q) of each block.
func spaceToDepth() []float32 {
	const b = s2dBlock
	k := make([]float32, 3*b*b*3*b*b)
	for c := range 3 {
		for p := range b {
			for q := range b {
				out := c*b*b + p*b + q
				k[((out*3+c)*b+p)*b+q] = 1
			}
		}
	}
	return k
}

// blockConv1 rearranges features.0.weight [64, 3, 11, 11] into the blocked
// kernel [64, 48, 3, 3]: w'[o, c*16 + p*4 + q, a, b] = w[o, c, 4a+p, 4b+q],
// 0 where 4a+p or 4b+q is 11.
func blockConv1(w []float32) []float32 {
	const b, side, k = s2dBlock, conv1BlockedSide, conv1Side
	out := make([]float32, 64*3*b*b*side*side)
	for o := range 64 {
		for c := range 3 {
			for kh := range k {
				for kw := range k {
					ch := c*b*b + (kh%b)*b + kw%b
					out[((o*3*b*b+ch)*side+kh/b)*side+kw/b] = w[((o*3+c)*k+kh)*k+kw]
				}
			}
		}
	}
	return out
}

// conv1 is features.0 on x [M, 3, H, W]: [M, 64, (H-7)/4+1, (W-7)/4+1].
func conv1(g *graph.Graph, x *graph.Node) *graph.Node {
	const b = s2dBlock
	s := x.Shape()
	oh, ow := (s[2]+2*conv1Pad-conv1Side)/b+1, (s[3]+2*conv1Pad-conv1Side)/b+1
	// oh + 2 blocks of rows cover the padded rows 0..4(oh-1)+10.
	x = padZeros(g, x, 3, conv1Pad, b*(ow+2)-s[3]-conv1Pad)
	x = padZeros(g, x, 2, conv1Pad, b*(oh+2)-s[2]-conv1Pad)
	blocks := g.Conv2d(x, g.Const(spaceToDepth(), 3*b*b, 3, b, b), nil, b, 0)
	bias, _ := g.Lookup("features.0.bias")
	weight, _ := g.Lookup(conv1Blocked)
	return g.Conv2d(blocks, weight, bias, 1, 0)
}

// padZeros adds before and after zeros along axis of x.
func padZeros(g *graph.Graph, x *graph.Node, axis, before, after int) *graph.Node {
	parts := []*graph.Node{x}
	zeros := func(n int) *graph.Node {
		s := append(graph.Shape(nil), x.Shape()...)
		s[axis] = n
		return g.Fill(0, s...)
	}
	if before > 0 {
		parts = append([]*graph.Node{zeros(before)}, parts...)
	}
	if after > 0 {
		parts = append(parts, zeros(after))
	}
	return g.Concat(axis, parts...)
}

// Distances is the LPIPS distance of each pair: x and y hold N images each,
// [N, 3, H, W] with values in [0, 1] (mapped to [-1, 1], as the reference
// calls LPIPS).
func (l *LPIPS) Distances(x, y []float32) ([]float64, error) {
	if want := l.n * l.shape.Len(); len(x) != want || len(y) != want {
		return nil, fmt.Errorf("metrics: LPIPS.Distances: %d and %d values, want %d pairs of 3x%dx%d (%d values)", len(x), len(y), l.n, l.shape.H, l.shape.W, want)
	}
	out, err := l.exe.Run(map[string][]float32{lpipsX: x, lpipsY: y})
	if err != nil {
		return nil, fmt.Errorf("metrics: LPIPS: %w", err)
	}
	d := make([]float64, l.n)
	for i, v := range out[0] {
		d[i] = float64(v)
		if math.IsNaN(d[i]) || math.IsInf(d[i], 0) {
			return nil, fmt.Errorf("metrics: LPIPS: pair %d gives %v (an input is not finite?)", i, v)
		}
	}
	return d, nil
}

// Video scores predicted videos against the truth, both [T, B, 3, H, W]
// (time-major, as Video takes them): the result's [b][t] is frame t of
// video b. Frames go through the program N at a time, the last group
// padded by repeating its last frame.
func (l *LPIPS) Video(truth, pred []float32, t, b int) ([][]float64, error) {
	frame := l.shape.Len()
	if t < 1 || b < 1 || len(truth) != t*b*frame || len(pred) != t*b*frame {
		return nil, fmt.Errorf("metrics: LPIPS.Video: %d and %d values for %d steps of %d videos of 3x%dx%d", len(truth), len(pred), t, b, l.shape.H, l.shape.W)
	}
	out := make([][]float64, b)
	for j := range out {
		out[j] = make([]float64, t)
	}
	total := t * b
	xs, ys := make([]float32, l.n*frame), make([]float32, l.n*frame)
	for lo := 0; lo < total; lo += l.n {
		for i := range l.n {
			f := min(lo+i, total-1) // frame f is step f/b of video f%b
			copy(xs[i*frame:(i+1)*frame], truth[f*frame:])
			copy(ys[i*frame:(i+1)*frame], pred[f*frame:])
		}
		d, err := l.Distances(xs, ys)
		if err != nil {
			return nil, err
		}
		for i := range min(l.n, total-lo) {
			f := lo + i
			out[f%b][f/b] = d[i]
		}
	}
	return out, nil
}

// Close frees the program.
func (l *LPIPS) Close() { l.exe.Close() }
