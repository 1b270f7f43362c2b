package gradcam

import (
	"fmt"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/noether"
)

// Analyzer runs an embedding of frame pairs on the device, whole or cut
// at a hidden layer for Grad-CAM.
type Analyzer struct {
	// Embedding is g_phi: its Module an nn.Sequential taking a pair of
	// frames stacked on channels [2*Channels, Size, Size] to [Dim].
	Embedding noether.Model
	// Target is the index, in the Sequential, of the module whose output
	// is the Grad-CAM target activation (TargetLayer for
	// video.Embedding).
	Target int
	// Params holds the embedding's parameters by name.
	Params map[string][]float32
	// Channels and Size are the frames' colour channels (3: the jet blend
	// is RGB) and side.
	Channels, Size int
	// Batch is the pairs per program run (0: DefaultBatch(Size)).
	Batch   int
	Backend graph.Backend
}

// TargetLayer is the Grad-CAM target of video.Embedding: its module 4,
// the ReLU after the second convolution (64 channels at half the frame's
// side, before the second pooling).
const TargetLayer = 4

// DefaultBatch is the pairs per program run: about 16 MiB of the
// embedding's largest activation (32 channels at full size), at least
// one pair and at most 512.
func DefaultBatch(size int) int { return max(1, min(512, (4<<20)/(32*size*size))) }

func (a *Analyzer) batch() int {
	if a.Batch > 0 {
		return a.Batch
	}
	return DefaultBatch(a.Size)
}

// pairLen is the floats of one pair of frames.
func (a *Analyzer) pairLen() int { return 2 * a.Channels * a.Size * a.Size }

// sequential is the embedding's module as a Sequential.
func (a *Analyzer) sequential() (nn.Sequential, error) {
	q, ok := a.Embedding.Module.(nn.Sequential)
	if !ok || a.Target < 0 || a.Target >= len(q) {
		return nil, fmt.Errorf("gradcam: the embedding must be an nn.Sequential with a module at the target index %d", a.Target)
	}
	return q, nil
}

// program compiles g's outputs on the backend and loads the embedding's
// parameters.
func (a *Analyzer) program(label string, g *graph.Graph, outs ...*graph.Node) (graph.Executor, error) {
	if err := g.Err(); err != nil {
		return nil, fmt.Errorf("gradcam: %s program: %w", label, err)
	}
	prog, err := g.Compile(graph.CompileOptions{}, outs...)
	if err != nil {
		return nil, fmt.Errorf("gradcam: %s program: %w", label, err)
	}
	exe, err := a.Backend.Load(prog)
	if err != nil {
		return nil, fmt.Errorf("gradcam: %s program on %s: %w", label, a.Backend.Name(), err)
	}
	for _, p := range a.Embedding.Params() {
		v, ok := a.Params[p.Name]
		if !ok {
			exe.Close()
			return nil, fmt.Errorf("gradcam: no value for the embedding's parameter %s", p.Name)
		}
		if err := exe.SetParam(p.Name, v); err != nil {
			exe.Close()
			return nil, fmt.Errorf("gradcam: %s program: %w", label, err)
		}
	}
	return exe, nil
}

// runBatches feeds the n rows of pairs ([n, pairLen]) through exe a
// batch of b rows at a time under the input name "pairs", padding the
// last batch with copies of its first row, and hands the outputs of each
// run, whose leading axis is the batch, to collect with the first row's
// index and the number of real rows.
func (a *Analyzer) runBatches(exe graph.Executor, pairs []float32, n, b int, collect func(lo, rows int, out [][]float32)) error {
	pl := a.pairLen()
	if len(pairs) != n*pl {
		return fmt.Errorf("gradcam: %d values for %d pairs of %d", len(pairs), n, pl)
	}
	feed := make([]float32, b*pl)
	for lo := 0; lo < n; lo += b {
		rows := min(b, n-lo)
		copy(feed, pairs[lo*pl:(lo+rows)*pl])
		for r := rows; r < b; r++ {
			copy(feed[r*pl:(r+1)*pl], feed[:pl])
		}
		out, err := exe.Run(map[string][]float32{"pairs": feed})
		if err != nil {
			return fmt.Errorf("gradcam: pairs %d to %d: %w", lo, lo+rows-1, err)
		}
		collect(lo, rows, out)
	}
	return nil
}

// Embedder runs the embedding program, compiled once, on pairs a batch
// at a time.
type Embedder struct {
	a      *Analyzer
	exe    graph.Executor
	b, dim int
}

// Embedder compiles the embedding for batches of the Analyzer's size.
// Close it when done.
func (a *Analyzer) Embedder() (*Embedder, error) {
	b := a.batch()
	g := graph.New()
	phi := nn.Declare(g, a.Embedding.Params())
	e := a.Embedding.Apply(g, phi, g.Input("pairs", b, 2*a.Channels, a.Size, a.Size))
	exe, err := a.program("embedding", g, e)
	if err != nil {
		return nil, err
	}
	return &Embedder{a: a, exe: exe, b: b, dim: e.Shape().Len() / b}, nil
}

// Dim is the embedding's size.
func (e *Embedder) Dim() int { return e.dim }

// Embed returns the embeddings [n, Dim] of the n pairs [n, 2*Channels,
// Size, Size].
func (e *Embedder) Embed(pairs []float32, n int) ([]float32, error) {
	out := make([]float32, n*e.dim)
	err := e.a.runBatches(e.exe, pairs, n, e.b, func(lo, rows int, res [][]float32) {
		copy(out[lo*e.dim:], res[0][:rows*e.dim])
	})
	return out, err
}

// Close frees the program.
func (e *Embedder) Close() { e.exe.Close() }

// Maps are Grad-CAM maps of n pairs for each of K principal components.
type Maps struct {
	K, N, Size int
	// Heat is [K, N, Size, Size]: each map min-max normalised to [0, 1].
	Heat []float32
	// Blend is [K, N, 3, Size, Size]: the jet-coloured map added to the
	// pair's first frame, divided by its largest value.
	Blend []float32
	// Scores is [N, K]: each pair's PCA coordinates.
	Scores []float32
}

// Maps computes, for every pair and component k, Grad-CAM of the score
// s_k = (e - Mean) . Components[k] of the pair's embedding e, on the
// device: the gradient of s_k at the target activation A [C, h, w]; the
// channel weights w_c, spatial means of that gradient; cam = ReLU(sum_c
// w_c A_c); resized bilinearly to the frame (align_corners false, as
// PyTorch's F.interpolate); min-max normalised; and blended in jet
// colours onto the pair's first frame (Graph.JetBlend).
func (a *Analyzer) Maps(p *PCA, pairs []float32, n int) (*Maps, error) {
	if n < 1 {
		return nil, fmt.Errorf("gradcam: no pairs to map")
	}
	if a.Channels != 3 {
		return nil, fmt.Errorf("gradcam: frames of %d channels: the jet blend needs RGB", a.Channels)
	}
	q, err := a.sequential()
	if err != nil {
		return nil, err
	}
	b, k, s := min(a.batch(), n), p.K(), a.Size
	g := graph.New()
	nn.Declare(g, a.Embedding.Params())
	in := g.Input("pairs", b, 2*a.Channels, s, s)
	e, act := q.ApplyTapped(&nn.Context{Graph: g}, a.Embedding.Scope, in, a.Target)
	if e.Shape().Len() != b*p.Dim || len(act.Shape()) != 4 {
		return nil, fmt.Errorf("gradcam: the embedding gives %v and its target %v, want [%d, %d] and [N, C, H, W]", e.Shape(), act.Shape(), b, p.Dim)
	}
	c, h, w := act.Shape()[1], act.Shape()[2], act.Shape()[3]
	mean := g.Const(p.Mean, p.Dim)
	comps := g.Const(p.Components, k, p.Dim)
	scores := g.MatMulT(g.Sub(g.Reshape(e, b, p.Dim), mean), comps, false, true) // [b, k]
	first := g.Split(in, 1, a.Channels, a.Channels)[0]
	ones := make([]int, k)
	for i := range ones {
		ones[i] = 1
	}
	heats, blends := make([]*graph.Node, k), make([]*graph.Node, k)
	for i, sk := range g.Split(scores, 1, ones...) {
		grad := g.Grad(g.Sum(sk), act)[0]
		weights := g.Reshape(g.Mean(grad, 2, 3), b, c, 1, 1)
		cam := g.Relu(g.Sum(g.Mul(act, weights), 1))
		up := g.ResizeBilinear2d(g.Reshape(cam, b, 1, h, w), s, s, false)
		heats[i] = g.NormalizeMinMax(g.Reshape(up, b, s, s))
		blends[i] = g.JetBlend(heats[i], first)
	}
	exe, err := a.program("Grad-CAM", g, append(append([]*graph.Node{scores}, heats...), blends...)...)
	if err != nil {
		return nil, err
	}
	defer exe.Close()
	m := &Maps{K: k, N: n, Size: s, Heat: make([]float32, k*n*s*s), Blend: make([]float32, k*n*3*s*s), Scores: make([]float32, n*k)}
	err = a.runBatches(exe, pairs, n, b, func(lo, rows int, out [][]float32) {
		copy(m.Scores[lo*k:], out[0][:rows*k])
		for i := range k {
			copy(m.Heat[(i*n+lo)*s*s:], out[1+i][:rows*s*s])
			copy(m.Blend[(i*n+lo)*3*s*s:], out[1+k+i][:rows*3*s*s])
		}
	})
	return m, err
}
