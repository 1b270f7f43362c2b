package kernels

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/noether-vk/noether-vk/gpu"
)

// ConvParams describes conv2d and conv_transpose2d on NCHW tensors: the
// input is [N, C, H, W], the kernel KH x KW, square stride and padding,
// and the output has K channels.
//
// conv2d's weights are [K, C, KH, KW] and its output [N, K, OH, OW] with
// OH = (H + 2 Pad - KH)/Stride + 1 (likewise OW). conv_transpose2d's
// weights are [C, K, KH, KW] (PyTorch's layout) and its output
// [N, K, (H-1) Stride - 2 Pad + KH, ...]: it is the input gradient of the
// conv2d that maps its output back to its input.
//
// Supported: kernels 1..7 on each side, stride 1..4, 0 <= Pad < the
// kernel's side.
type ConvParams struct {
	N, C, H, W  int
	K           int
	KH, KW      int
	Stride, Pad int
}

func (p ConvParams) String() string {
	return fmt.Sprintf("[%d,%d,%d,%d] k%dx%d s%d p%d -> %d", p.N, p.C, p.H, p.W, p.KH, p.KW, p.Stride, p.Pad, p.K)
}

// convGeom is the geometry of a convolution as the shader sees it: input
// X [N,C,H,W], weights [K,C,KH,KW], output Y [N,K,OH,OW].
type convGeom struct {
	N, C, H, W, K, OH, OW, KH, KW, S, P int
}

func (g convGeom) xLen() int { return g.N * g.C * g.H * g.W }
func (g convGeom) yLen() int { return g.N * g.K * g.OH * g.OW }
func (g convGeom) wLen() int { return g.K * g.C * g.KH * g.KW }

// geom returns the convolution geometry of p: conv2d's own, or for the
// transposed op the conv2d whose input gradient it is (X is the
// transposed op's output, Y its input).
func (p ConvParams) geom(transposed bool) (convGeom, error) {
	op := opName(transposed)
	if p.N < 1 || p.C < 1 || p.H < 1 || p.W < 1 || p.K < 1 {
		return convGeom{}, fmt.Errorf("kernels: %s %v: dimensions must be positive", op, p)
	}
	if p.KH < 1 || p.KH > 7 || p.KW < 1 || p.KW > 7 || p.Stride < 1 || p.Stride > 4 {
		return convGeom{}, fmt.Errorf("kernels: %s %v: kernel sides must be 1..7 and stride 1..4", op, p)
	}
	if p.Pad < 0 || p.Pad >= p.KH || p.Pad >= p.KW {
		return convGeom{}, fmt.Errorf("kernels: %s %v: padding must be >= 0 and smaller than the kernel", op, p)
	}
	g := convGeom{N: p.N, KH: p.KH, KW: p.KW, S: p.Stride, P: p.Pad}
	if transposed {
		g.C, g.H, g.W = p.K, (p.H-1)*p.Stride-2*p.Pad+p.KH, (p.W-1)*p.Stride-2*p.Pad+p.KW
		g.K, g.OH, g.OW = p.C, p.H, p.W
		if g.H < 1 || g.W < 1 {
			return convGeom{}, fmt.Errorf("kernels: %s %v: empty output %dx%d", op, p, g.H, g.W)
		}
	} else {
		g.C, g.H, g.W, g.K = p.C, p.H, p.W, p.K
		if p.H+2*p.Pad < p.KH || p.W+2*p.Pad < p.KW {
			return convGeom{}, fmt.Errorf("kernels: %s %v: kernel larger than the padded input", op, p)
		}
		g.OH, g.OW = (p.H+2*p.Pad-p.KH)/p.Stride+1, (p.W+2*p.Pad-p.KW)/p.Stride+1
	}
	for _, n := range []int{g.xLen(), g.yLen(), g.wLen()} {
		if uint64(n) > math.MaxInt32 {
			return convGeom{}, fmt.Errorf("kernels: %s %v: a tensor exceeds 2^31 elements", op, p)
		}
	}
	return g, nil
}

// OutShape is the output's [N, channels, height, width] of conv2d
// (transposed false) or conv_transpose2d.
func (p ConvParams) OutShape(transposed bool) ([4]int, error) {
	g, err := p.geom(transposed)
	if err != nil {
		return [4]int{}, err
	}
	if transposed {
		return [4]int{g.N, g.C, g.H, g.W}, nil
	}
	return [4]int{g.N, g.K, g.OH, g.OW}, nil
}

// InLen, WeightLen and OutLen are the element counts of the op's input,
// weights and output (bias: K).
func (p ConvParams) InLen() int     { return p.N * p.C * p.H * p.W }
func (p ConvParams) WeightLen() int { return p.K * p.C * p.KH * p.KW }
func (p ConvParams) OutLen(transposed bool) int {
	s, err := p.OutShape(transposed)
	if err != nil {
		return 0
	}
	return s[0] * s[1] * s[2] * s[3]
}

// Flops is 2 x the multiply-adds of the forward (each derivative product
// costs the same).
func (p ConvParams) Flops(transposed bool) float64 {
	g, err := p.geom(transposed)
	if err != nil {
		return 0
	}
	return 2 * float64(g.yLen()) * float64(g.C*g.KH*g.KW)
}

func opName(transposed bool) string {
	if transposed {
		return "conv_transpose2d"
	}
	return "conv2d"
}

// Conv2DBackend computes conv2d and its derivatives (bias may be nil):
//
//   - Conv2D: y = conv(x, w) + bias.
//   - Conv2DBackward: the VJP of y's cotangent g: dx (a transposed
//     convolution of g), dw (conv2d_weight_grad), db = sum of g per channel.
//   - Conv2DTangent: the JVP ty = conv(tx, w) + conv(x, tw) + tb (tb may
//     be nil).
//   - Conv2DTangentBackward: the tangent of the VJP in direction
//     (tx, tw; tg): tdx = dx(tg, w) + dx(g, tw), tdw = dw(tg, x) + dw(g, tx),
//     tdb = sum of tg.
type Conv2DBackend interface {
	Conv2D(p ConvParams, x, w, bias []float32) ([]float32, error)
	Conv2DBackward(p ConvParams, x, w, g []float32) (dx, dw, db []float32, err error)
	Conv2DTangent(p ConvParams, x, w, tx, tw, tb []float32) ([]float32, error)
	Conv2DTangentBackward(p ConvParams, x, w, g, tx, tw, tg []float32) (tdx, tdw, tdb []float32, err error)
}

// ConvTranspose2DBackend is Conv2DBackend for conv_transpose2d (weights
// [C, K, KH, KW]); the same four orders.
type ConvTranspose2DBackend interface {
	ConvTranspose2D(p ConvParams, x, w, bias []float32) ([]float32, error)
	ConvTranspose2DBackward(p ConvParams, x, w, g []float32) (dx, dw, db []float32, err error)
	ConvTranspose2DTangent(p ConvParams, x, w, tx, tw, tb []float32) ([]float32, error)
	ConvTranspose2DTangentBackward(p ConvParams, x, w, g, tx, tw, tg []float32) (tdx, tdw, tdb []float32, err error)
}

// convMode is the shader's MODE.
type convMode uint32

const (
	convForward convMode = iota // Y from X and Wt
	convDGrad                   // dX from G and Wt (the transposed convolution)
	convWGrad                   // dW from G and X
	convBias                    // per-channel sums of G
)

// convArgs names the host slices of one call for length checks.
type convArgs struct {
	names []string
	lens  []int
	vals  [][]float32
}

func (a *convArgs) add(name string, n int, v []float32) {
	a.names, a.lens, a.vals = append(a.names, name), append(a.lens, n), append(a.vals, v)
}

func (a *convArgs) check(op string, p ConvParams) error {
	for i, v := range a.vals {
		if v == nil && (a.names[i] == "bias" || a.names[i] == "tb") {
			continue
		}
		if len(v) != a.lens[i] {
			return fmt.Errorf("kernels: %s %v: %s has %d elements, want %d", op, p, a.names[i], len(v), a.lens[i])
		}
	}
	return nil
}

// lens returns the lengths of the op's input (x side), output (y side)
// and weights for p.
func convLens(p ConvParams, transposed bool) (in, out, w int) {
	return p.InLen(), p.OutLen(transposed), p.WeightLen()
}

func checkConv(p ConvParams, transposed bool, names string, vals ...[]float32) (convGeom, error) {
	g, err := p.geom(transposed)
	if err != nil {
		return g, err
	}
	in, out, w := convLens(p, transposed)
	size := map[byte]int{'x': in, 'y': out, 'w': w, 'b': p.K}
	var a convArgs
	i := 0
	for _, f := range splitNames(names) {
		a.add(f.name, size[f.kind], vals[i])
		i++
	}
	return g, a.check(opName(transposed), p)
}

type convName struct {
	name string
	kind byte
}

// splitNames parses "x:x w:w g:y" (name:kind, kind x = input-shaped,
// y = output-shaped, w = weights, b = bias).
func splitNames(s string) []convName {
	var out []convName
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' {
			if i > start {
				f := s[start:i]
				out = append(out, convName{f[:len(f)-2], f[len(f)-1]})
			}
			start = i + 1
		}
	}
	return out
}

// ---- CPU reference ----

// cpuConv runs one primitive, summing over the pairs (as[i], bs[i]) in
// float64; bias may be nil. Every mode walks the same loop nest, one tap
// (n, k, c, ky, kx) at a time over the output rows and the columns that
// tap reaches.
func cpuConv(mode convMode, g convGeom, as, bs [][]float32, bias []float32) []float32 {
	var acc []float64
	switch mode {
	case convForward:
		acc = make([]float64, g.yLen())
	case convDGrad:
		acc = make([]float64, g.xLen())
	case convWGrad:
		acc = make([]float64, g.wLen())
	default:
		panic("kernels: cpuConv: bad mode")
	}
	for pi := range as {
		a, b := as[pi], bs[pi]
		for n := range g.N {
			for k := range g.K {
				for c := range g.C {
					for ky := range g.KH {
						for kx := range g.KW {
							wi := ((k*g.C+c)*g.KH+ky)*g.KW + kx
							// Columns ox whose ix = ox*S - P + kx lies inside.
							lo := max(0, (g.P-kx+g.S-1)/g.S)
							hi := min(g.OW, (g.W-1+g.P-kx)/g.S+1)
							if lo >= hi {
								continue
							}
							var wsum float64
							for oy := range g.OH {
								iy := oy*g.S - g.P + ky
								if iy < 0 || iy >= g.H {
									continue
								}
								yrow := ((n*g.K+k)*g.OH + oy) * g.OW
								xrow := ((n*g.C+c)*g.H+iy)*g.W - g.P + kx
								switch mode {
								case convForward:
									w := float64(b[wi])
									for ox := lo; ox < hi; ox++ {
										acc[yrow+ox] += w * float64(a[xrow+ox*g.S])
									}
								case convDGrad:
									w := float64(b[wi])
									for ox := lo; ox < hi; ox++ {
										acc[xrow+ox*g.S] += w * float64(a[yrow+ox])
									}
								case convWGrad:
									for ox := lo; ox < hi; ox++ {
										wsum += float64(a[yrow+ox]) * float64(b[xrow+ox*g.S])
									}
								}
							}
							if mode == convWGrad {
								acc[wi] += wsum
							}
						}
					}
				}
			}
		}
	}
	out := make([]float32, len(acc))
	for i, v := range acc {
		if bias != nil {
			switch mode {
			case convForward:
				v += float64(bias[(i/(g.OH*g.OW))%g.K])
			case convDGrad:
				v += float64(bias[(i/(g.H*g.W))%g.C])
			}
		}
		out[i] = float32(v)
	}
	return out
}

// cpuChannelSum sums t [N, C, S] over N and S.
func cpuChannelSum(t []float32, n, c, s int) []float32 {
	out := make([]float32, c)
	for ch := range c {
		sum := 0.0
		for b := range n {
			for _, v := range t[(b*c+ch)*s : (b*c+ch+1)*s] {
				sum += float64(v)
			}
		}
		out[ch] = float32(sum)
	}
	return out
}

// fwdMode is the primitive of the op's forward, dxMode that of its input
// gradient; wgradArgs orders (input, output cotangent) as the primitive's
// (G, X); sumShape is the (N, C, S) view of an output-shaped tensor.
func fwdMode(transposed bool) convMode {
	if transposed {
		return convDGrad
	}
	return convForward
}

func dxMode(transposed bool) convMode {
	if transposed {
		return convForward
	}
	return convDGrad
}

func wgradArgs(transposed bool, x, gy []float32) (a, b []float32) {
	if transposed {
		return x, gy
	}
	return gy, x
}

func sumShape(g convGeom, transposed bool) (n, c, s int) {
	if transposed {
		return g.N, g.C, g.H * g.W
	}
	return g.N, g.K, g.OH * g.OW
}

func (CPU) convForward(p ConvParams, tr bool, x, w, bias []float32) ([]float32, error) {
	g, err := checkConv(p, tr, "x:x w:w bias:b", x, w, bias)
	if err != nil {
		return nil, err
	}
	return cpuConv(fwdMode(tr), g, [][]float32{x}, [][]float32{w}, bias), nil
}

func (CPU) convBackward(p ConvParams, tr bool, x, w, gy []float32) (dx, dw, db []float32, err error) {
	g, err := checkConv(p, tr, "x:x w:w g:y", x, w, gy)
	if err != nil {
		return nil, nil, nil, err
	}
	dx = cpuConv(dxMode(tr), g, [][]float32{gy}, [][]float32{w}, nil)
	a, b := wgradArgs(tr, x, gy)
	dw = cpuConv(convWGrad, g, [][]float32{a}, [][]float32{b}, nil)
	n, c, s := sumShape(g, tr)
	return dx, dw, cpuChannelSum(gy, n, c, s), nil
}

func (CPU) convTangent(p ConvParams, tr bool, x, w, tx, tw, tb []float32) ([]float32, error) {
	g, err := checkConv(p, tr, "x:x w:w tx:x tw:w tb:b", x, w, tx, tw, tb)
	if err != nil {
		return nil, err
	}
	return cpuConv(fwdMode(tr), g, [][]float32{tx, x}, [][]float32{w, tw}, tb), nil
}

func (CPU) convTangentBackward(p ConvParams, tr bool, x, w, gy, tx, tw, tg []float32) (tdx, tdw, tdb []float32, err error) {
	g, err := checkConv(p, tr, "x:x w:w g:y tx:x tw:w tg:y", x, w, gy, tx, tw, tg)
	if err != nil {
		return nil, nil, nil, err
	}
	tdx = cpuConv(dxMode(tr), g, [][]float32{tg, gy}, [][]float32{w, tw}, nil)
	a1, b1 := wgradArgs(tr, x, tg)
	a2, b2 := wgradArgs(tr, tx, gy)
	tdw = cpuConv(convWGrad, g, [][]float32{a1, a2}, [][]float32{b1, b2}, nil)
	n, c, s := sumShape(g, tr)
	return tdx, tdw, cpuChannelSum(tg, n, c, s), nil
}

// Conv2D implements Conv2DBackend.
func (c CPU) Conv2D(p ConvParams, x, w, bias []float32) ([]float32, error) {
	return c.convForward(p, false, x, w, bias)
}

// Conv2DBackward implements Conv2DBackend.
func (c CPU) Conv2DBackward(p ConvParams, x, w, g []float32) (dx, dw, db []float32, err error) {
	return c.convBackward(p, false, x, w, g)
}

// Conv2DTangent implements Conv2DBackend.
func (c CPU) Conv2DTangent(p ConvParams, x, w, tx, tw, tb []float32) ([]float32, error) {
	return c.convTangent(p, false, x, w, tx, tw, tb)
}

// Conv2DTangentBackward implements Conv2DBackend.
func (c CPU) Conv2DTangentBackward(p ConvParams, x, w, g, tx, tw, tg []float32) (tdx, tdw, tdb []float32, err error) {
	return c.convTangentBackward(p, false, x, w, g, tx, tw, tg)
}

// ConvTranspose2D implements ConvTranspose2DBackend.
func (c CPU) ConvTranspose2D(p ConvParams, x, w, bias []float32) ([]float32, error) {
	return c.convForward(p, true, x, w, bias)
}

// ConvTranspose2DBackward implements ConvTranspose2DBackend.
func (c CPU) ConvTranspose2DBackward(p ConvParams, x, w, g []float32) (dx, dw, db []float32, err error) {
	return c.convBackward(p, true, x, w, g)
}

// ConvTranspose2DTangent implements ConvTranspose2DBackend.
func (c CPU) ConvTranspose2DTangent(p ConvParams, x, w, tx, tw, tb []float32) ([]float32, error) {
	return c.convTangent(p, true, x, w, tx, tw, tb)
}

// ConvTranspose2DTangentBackward implements ConvTranspose2DBackend.
func (c CPU) ConvTranspose2DTangentBackward(p ConvParams, x, w, g, tx, tw, tg []float32) (tdx, tdw, tdb []float32, err error) {
	return c.convTangentBackward(p, true, x, w, g, tx, tw, tg)
}

// ---- Vulkan ----

// ConvTile is the register block of the conv2d shader: Channels output
// channels x Pixels columns per invocation, Local invocations per
// workgroup. Channels and Pixels shrink to the next power of two above
// small channel counts and widths. WeightGradInputs is the number of input
// channels a weight-gradient invocation covers (they share its loads of G).
type ConvTile struct{ Channels, Pixels, Local, WeightGradInputs int }

// CPUConvTile is the tile the Record methods use on CPU devices, measured
// on lavapipe (2 cores, 256-bit) at the embedding and DCGAN shapes among
// channels 8 to 32, pixels 4 to 16, workgroups of 8 or 16, weight-gradient
// inputs 1 to 4.
var CPUConvTile = ConvTile{Channels: 16, Pixels: 16, Local: 8, WeightGradInputs: 4}

// GPUConvTile is the tile on other devices: at most 64 accumulators per
// invocation and workgroups of 64. CPUConvTile's weight gradient keeps 320
// (4 input channels x 16 output channels x 5 taps at the embedding's
// 32 -> 64 5x5 convolution), and NVIDIA's compiler (driver 580.159, an
// H200) had not built that pipeline after 2 minutes; CPUConvTile's 256 in
// the forward pass built. Its speed on GPUs is not measured yet.
var GPUConvTile = ConvTile{Channels: 8, Pixels: 8, Local: 64, WeightGradInputs: 1}

// convAccess: binding 0 written, 1-5 read (see shaders/conv2d.comp).
var convAccess = []gpu.Access{gpu.Write, gpu.Read, gpu.Read, gpu.Read, gpu.Read, gpu.Read}

// convSpec is spec with, for conv2d_texel, the texel bindings tex
// (withTexels over bindings 1-4).
func convSpec(tex uint32, spec ...uint32) []uint32 {
	if tex != 0 {
		spec = append(spec, tex)
	}
	return spec
}

func pow2Ceil(n int) int { return 1 << bits.Len(uint(max(n, 1)-1)) }

// convBuf is a buffer argument with its required length, for checks.
type convBuf struct {
	name string
	b    *gpu.Buffer
	n    int
}

func checkConvBufs(op string, p ConvParams, bufs ...convBuf) error {
	for _, x := range bufs {
		if x.b == nil {
			return fmt.Errorf("kernels: %s %v: buffer %s is nil", op, p, x.name)
		}
		if x.b.Size() < int64(4*x.n) {
			return fmt.Errorf("kernels: %s %v: buffer %s holds %d bytes, want %d", op, p, x.name, x.b.Size(), 4*x.n)
		}
	}
	return nil
}

// recordConvPrim records one primitive: out = sum over pairs of mode(a, b)
// (+ bias). a2, b2 nil: one pair; bias nil: none.
func (v *Vulkan) recordConvPrim(r *gpu.Recorder, t ConvTile, mode convMode, g convGeom, out, a1, b1, a2, b2, bias *gpu.Buffer) error {
	return v.recordConvPrimSplit(r, t, mode, g, 1, out, a1, b1, a2, b2, bias)
}

// wgradTile returns the direct weight gradient's input channels per
// invocation, register block (tm output channels, tn pixels), workgroup
// size and workgroup grid in x and y (the grid's z is the row splits).
func wgradTile(t ConvTile, g convGeom) (wc, tm, tn, local int, groups [2]int) {
	// Below 32 channels at most 2 input channels per invocation, which
	// keeps enough invocations (measured on lavapipe: 6 channels run
	// best at 2, 32 and 128 at 4).
	wc = t.WeightGradInputs
	if g.C < 32 {
		wc = min(wc, 2)
	}
	wc = max(1, min(wc, g.C))
	tm, tn = min(t.Channels, pow2Ceil(g.K)), min(t.Pixels, pow2Ceil(g.OW))
	lanes := (g.C + wc - 1) / wc * g.KH
	local = min(t.Local, pow2Ceil(lanes))
	return wc, tm, tn, local, [2]int{(lanes + local - 1) / local, (g.K + tm - 1) / tm}
}

// The direct weight gradient sums over all N*OH*OW output pixels, and its
// (c, ky) x k grid is small (4 workgroups for the embedding's 6 -> 32 5x5
// convolution), too few to share evenly among a device's cores: on
// lavapipe's 2 threads the time of 4 workgroups is either 2 or 3 of them,
// whichever way they happen to be handed out. So the rows (n, oy) are
// split into slices summed by separate workgroups, about wgradTargetGroups
// in all and at least wgradMinRows rows each, and the partial sums added.
const wgradTargetGroups, wgradMinRows = 64, 4

// directSplits is the number of row slices the direct shader runs mode in
// with v.ConvTile: 1 for all but the weight gradient.
func (v *Vulkan) directSplits(mode convMode, g convGeom) int {
	if mode != convWGrad {
		return 1
	}
	return wgradSplits(v.ConvTile, g)
}

// wgradSplits is the number of row slices of the direct weight gradient.
func wgradSplits(t ConvTile, g convGeom) int {
	_, _, _, _, groups := wgradTile(t, g)
	n := groups[0] * groups[1]
	return max(1, min((wgradTargetGroups+n-1)/n, g.N*g.OH/wgradMinRows))
}

// recordConvPrimSplit is recordConvPrim with WGRAD's rows in splits slices
// (1 for the other modes): with splits > 1, out holds splits partial dW,
// one after the other.
func (v *Vulkan) recordConvPrimSplit(r *gpu.Recorder, t ConvTile, mode convMode, g convGeom, splits int, out, a1, b1, a2, b2, bias *gpu.Buffer) error {
	pairs := uint32(1)
	if a2 != nil {
		pairs = 2
	} else {
		a2, b2 = a1, b1
	}
	hasBias := uint32(0)
	if bias != nil {
		hasBias = 1
	} else {
		bias = a1
	}
	push := gpu.Push{}.U32(uint32(g.N)).U32(uint32(g.C)).U32(uint32(g.H)).U32(uint32(g.W)).U32(uint32(g.K)).U32(uint32(g.OH)).U32(uint32(g.OW))
	lim := v.Device.Info.MaxWorkgroupCount
	ceil := func(a, b int) uint32 { return uint32((a + b - 1) / b) }
	wc, wtm, wtn, wlocal, wgroups := wgradTile(t, g)
	dispatch := func(local, tm, tn, py, px int, groups [3]uint32) error {
		// vec4 reads of the uniform operand (see the shader's VEC4).
		vec4 := g.KW == 4
		if mode == convWGrad {
			vec4 = g.OW%4 == 0 && tn%4 == 0
		}
		if groups[0] > lim[0] || groups[1] > lim[1] || groups[2] > lim[2] {
			return fmt.Errorf("kernels: conv2d: grid %v exceeds the device's maxComputeWorkGroupCount %v", groups, lim)
		}
		shader, access, bufs, tex := withTexels(v.Texels, "conv2d", convAccess, []*gpu.Buffer{out, a1, b1, a2, b2, bias}, []int{1, 2, 3, 4},
			[]bool{true, true, pairs == 2, pairs == 2})
		k, err := v.kernel(shader, access, 28, convSpec(tex, uint32(local), uint32(mode), uint32(tm), uint32(tn),
			uint32(g.S), uint32(g.P), uint32(g.KH), uint32(g.KW), uint32(px), pairs, hasBias, uint32(py), b2u(vec4), uint32(wc))...)
		if err != nil {
			return err
		}
		r.Dispatch(k, groups, push, bufs...)
		return nil
	}
	switch mode {
	case convForward:
		tm, tn := min(t.Channels, pow2Ceil(g.K)), min(t.Pixels, pow2Ceil(g.OW))
		lanes := g.OH * ((g.OW + tn - 1) / tn)
		local := min(t.Local, pow2Ceil(lanes))
		return dispatch(local, tm, tn, 0, 0, [3]uint32{ceil(lanes, local), ceil(g.K, tm), uint32(g.N)})
	case convDGrad:
		// One dispatch per phase (py, px) of the output pixels.
		tm := min(t.Channels, pow2Ceil(g.C))
		for py := range min(g.S, g.H) {
			for px := range min(g.S, g.W) {
				nq, nj := (g.H-py+g.S-1)/g.S, (g.W-px+g.S-1)/g.S
				tn := min(t.Pixels, pow2Ceil(nj))
				lanes := nq * ((nj + tn - 1) / tn)
				local := min(t.Local, pow2Ceil(lanes))
				if err := dispatch(local, tm, tn, py, px, [3]uint32{ceil(lanes, local), ceil(g.C, tm), uint32(g.N)}); err != nil {
					return err
				}
			}
		}
		return nil
	case convWGrad:
		return dispatch(wlocal, wtm, wtn, 0, 0, [3]uint32{uint32(wgroups[0]), uint32(wgroups[1]), uint32(splits)})
	}
	return fmt.Errorf("kernels: conv2d: bad mode %d", mode)
}

// recordConvSum records db[c] = sum over n and s of t[n, c, s].
func (v *Vulkan) recordConvSum(r *gpu.Recorder, t, db *gpu.Buffer, n, c, s int) error {
	local := uint32(min(64, pow2Ceil(s)))
	shader, access, bufs, tex := withTexels(v.Texels, "conv2d", convAccess, []*gpu.Buffer{db, t, t, t, t, t}, []int{1, 2, 3, 4},
		[]bool{true, false, false, false})
	k, err := v.kernel(shader, access, 28, convSpec(tex, local, uint32(convBias), 1, 1, 1, 0, 1, 1, 0, 1, 0, 0, 0, 1)...)
	if err != nil {
		return err
	}
	push := gpu.Push{}.U32(uint32(n)).U32(0).U32(0).U32(0).U32(uint32(c)).U32(uint32(s)).U32(1)
	r.Dispatch(k, v.Device.Grid(k, c*int(local)), push, bufs...)
	return nil
}

func (v *Vulkan) recordConvForward(r *gpu.Recorder, p ConvParams, tr bool, x, w, bias, y, scratch *gpu.Buffer) error {
	g, err := p.geom(tr)
	if err != nil {
		return err
	}
	in, out, wl := convLens(p, tr)
	bufs := []convBuf{{"x", x, in}, {"w", w, wl}, {"y", y, out}}
	if bias != nil {
		bufs = append(bufs, convBuf{"bias", bias, p.K})
	}
	if err := checkConvBufs(opName(tr), p, bufs...); err != nil {
		return err
	}
	return v.recordConvPass(r, fwdMode(tr), g, y, x, w, bias, scratch)
}

func (v *Vulkan) recordConvInputGrad(r *gpu.Recorder, p ConvParams, tr bool, w, gy, dx, scratch *gpu.Buffer) error {
	g, err := p.geom(tr)
	if err != nil {
		return err
	}
	in, out, wl := convLens(p, tr)
	if err := checkConvBufs(opName(tr), p, convBuf{"w", w, wl}, convBuf{"g", gy, out}, convBuf{"dx", dx, in}); err != nil {
		return err
	}
	return v.recordConvPass(r, dxMode(tr), g, dx, gy, w, nil, scratch)
}

func (v *Vulkan) recordConvWeightGrad(r *gpu.Recorder, p ConvParams, tr bool, x, gy, dw, scratch *gpu.Buffer) error {
	g, err := p.geom(tr)
	if err != nil {
		return err
	}
	in, out, wl := convLens(p, tr)
	if err := checkConvBufs(opName(tr), p, convBuf{"x", x, in}, convBuf{"g", gy, out}, convBuf{"dw", dw, wl}); err != nil {
		return err
	}
	a, b := x, gy
	if !tr {
		a, b = gy, x
	}
	return v.recordConvPass(r, convWGrad, g, dw, a, b, nil, scratch)
}

func (v *Vulkan) recordConvBiasGrad(r *gpu.Recorder, p ConvParams, tr bool, gy, db *gpu.Buffer) error {
	g, err := p.geom(tr)
	if err != nil {
		return err
	}
	_, out, _ := convLens(p, tr)
	if err := checkConvBufs(opName(tr), p, convBuf{"g", gy, out}, convBuf{"db", db, p.K}); err != nil {
		return err
	}
	n, c, s := sumShape(g, tr)
	return v.recordConvSum(r, gy, db, n, c, s)
}

func (v *Vulkan) recordConvTangent(r *gpu.Recorder, p ConvParams, tr bool, x, w, tx, tw, tb, ty *gpu.Buffer) error {
	g, err := p.geom(tr)
	if err != nil {
		return err
	}
	in, out, wl := convLens(p, tr)
	bufs := []convBuf{{"x", x, in}, {"w", w, wl}, {"tx", tx, in}, {"tw", tw, wl}, {"ty", ty, out}}
	if tb != nil {
		bufs = append(bufs, convBuf{"tb", tb, p.K})
	}
	if err := checkConvBufs(opName(tr), p, bufs...); err != nil {
		return err
	}
	return v.recordConvPrim(r, v.ConvTile, fwdMode(tr), g, ty, tx, w, x, tw, tb)
}

func (v *Vulkan) recordConvTangentBackward(r *gpu.Recorder, p ConvParams, tr bool, x, w, gy, tx, tw, tg, tdx, tdw, tdb *gpu.Buffer) error {
	g, err := p.geom(tr)
	if err != nil {
		return err
	}
	in, out, wl := convLens(p, tr)
	if err := checkConvBufs(opName(tr), p, convBuf{"x", x, in}, convBuf{"w", w, wl}, convBuf{"g", gy, out}, convBuf{"tx", tx, in},
		convBuf{"tw", tw, wl}, convBuf{"tg", tg, out}, convBuf{"tdx", tdx, in}, convBuf{"tdw", tdw, wl}, convBuf{"tdb", tdb, p.K}); err != nil {
		return err
	}
	if err := v.recordConvPrim(r, v.ConvTile, dxMode(tr), g, tdx, tg, w, gy, tw, nil); err != nil {
		return err
	}
	a1, b1, a2, b2 := tg, x, gy, tx
	if tr {
		a1, b1, a2, b2 = x, tg, tx, gy
	}
	if err := v.recordConvPrim(r, v.ConvTile, convWGrad, g, tdw, a1, b1, a2, b2, nil); err != nil {
		return err
	}
	n, c, s := sumShape(g, tr)
	return v.recordConvSum(r, tg, tdb, n, c, s)
}

// RecordConv2D records y = conv2d(x, w) + bias (bias may be nil).
//
// The forward, input-gradient and weight-gradient Record methods of both
// ops take scratch: at least v.ConvScratch(p, transposed, pass) floats,
// the column matrix of the GEMM form; nil is allowed when that is 0, and
// under ConvAuto nil runs the direct shader instead.
func (v *Vulkan) RecordConv2D(r *gpu.Recorder, p ConvParams, x, w, bias, y, scratch *gpu.Buffer) error {
	return v.recordConvForward(r, p, false, x, w, bias, y, scratch)
}

// RecordConv2DInputGrad records dx, the transposed convolution of y's
// cotangent g.
func (v *Vulkan) RecordConv2DInputGrad(r *gpu.Recorder, p ConvParams, w, g, dx, scratch *gpu.Buffer) error {
	return v.recordConvInputGrad(r, p, false, w, g, dx, scratch)
}

// RecordConv2DWeightGrad records dw (conv2d_weight_grad) for y's cotangent g.
func (v *Vulkan) RecordConv2DWeightGrad(r *gpu.Recorder, p ConvParams, x, g, dw, scratch *gpu.Buffer) error {
	return v.recordConvWeightGrad(r, p, false, x, g, dw, scratch)
}

// RecordConv2DBiasGrad records db, the per-channel sum of g.
func (v *Vulkan) RecordConv2DBiasGrad(r *gpu.Recorder, p ConvParams, g, db *gpu.Buffer) error {
	return v.recordConvBiasGrad(r, p, false, g, db)
}

// RecordConv2DTangent records ty = conv(tx, w) + conv(x, tw) + tb (tb may
// be nil) in one dispatch.
func (v *Vulkan) RecordConv2DTangent(r *gpu.Recorder, p ConvParams, x, w, tx, tw, tb, ty *gpu.Buffer) error {
	return v.recordConvTangent(r, p, false, x, w, tx, tw, tb, ty)
}

// RecordConv2DTangentBackward records the tangent (tdx, tdw, tdb) of the
// VJP in direction (tx, tw; tg): three dispatches.
func (v *Vulkan) RecordConv2DTangentBackward(r *gpu.Recorder, p ConvParams, x, w, g, tx, tw, tg, tdx, tdw, tdb *gpu.Buffer) error {
	return v.recordConvTangentBackward(r, p, false, x, w, g, tx, tw, tg, tdx, tdw, tdb)
}

// RecordConvTranspose2D records y = conv_transpose2d(x, w) + bias.
func (v *Vulkan) RecordConvTranspose2D(r *gpu.Recorder, p ConvParams, x, w, bias, y, scratch *gpu.Buffer) error {
	return v.recordConvForward(r, p, true, x, w, bias, y, scratch)
}

// RecordConvTranspose2DInputGrad records dx (a conv2d of g with w).
func (v *Vulkan) RecordConvTranspose2DInputGrad(r *gpu.Recorder, p ConvParams, w, g, dx, scratch *gpu.Buffer) error {
	return v.recordConvInputGrad(r, p, true, w, g, dx, scratch)
}

// RecordConvTranspose2DWeightGrad records dw [C, K, KH, KW].
func (v *Vulkan) RecordConvTranspose2DWeightGrad(r *gpu.Recorder, p ConvParams, x, g, dw, scratch *gpu.Buffer) error {
	return v.recordConvWeightGrad(r, p, true, x, g, dw, scratch)
}

// RecordConvTranspose2DBiasGrad records db, the per-channel sum of g.
func (v *Vulkan) RecordConvTranspose2DBiasGrad(r *gpu.Recorder, p ConvParams, g, db *gpu.Buffer) error {
	return v.recordConvBiasGrad(r, p, true, g, db)
}

// RecordConvTranspose2DTangent records ty = convT(tx, w) + convT(x, tw) + tb.
func (v *Vulkan) RecordConvTranspose2DTangent(r *gpu.Recorder, p ConvParams, x, w, tx, tw, tb, ty *gpu.Buffer) error {
	return v.recordConvTangent(r, p, true, x, w, tx, tw, tb, ty)
}

// RecordConvTranspose2DTangentBackward records the tangent of the VJP.
func (v *Vulkan) RecordConvTranspose2DTangentBackward(r *gpu.Recorder, p ConvParams, x, w, g, tx, tw, tg, tdx, tdw, tdb *gpu.Buffer) error {
	return v.recordConvTangentBackward(r, p, true, x, w, g, tx, tw, tg, tdx, tdw, tdb)
}

func (v *Vulkan) convForward(p ConvParams, tr bool, x, w, bias []float32) ([]float32, error) {
	if _, err := checkConv(p, tr, "x:x w:w bias:b", x, w, bias); err != nil {
		return nil, err
	}
	ins := [][]float32{x, w}
	if bias != nil {
		ins = append(ins, bias)
	}
	scratch, err := v.convScratchBuf(p, tr, ConvPassForward)
	if err != nil {
		return nil, err
	}
	if scratch != nil {
		defer scratch.Free()
	}
	out, err := v.exec(ins, []int{p.OutLen(tr)}, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		var b *gpu.Buffer
		if bias != nil {
			b = in[2]
		}
		return v.recordConvForward(r, p, tr, in[0], in[1], b, out[0], scratch)
	})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

func (v *Vulkan) convBackward(p ConvParams, tr bool, x, w, gy []float32) (dx, dw, db []float32, err error) {
	if _, err := checkConv(p, tr, "x:x w:w g:y", x, w, gy); err != nil {
		return nil, nil, nil, err
	}
	// One scratch serves both passes: the recorder orders them.
	scratch, err := v.convScratchBuf(p, tr, ConvPassInputGrad, ConvPassWeightGrad)
	if err != nil {
		return nil, nil, nil, err
	}
	if scratch != nil {
		defer scratch.Free()
	}
	out, err := v.exec([][]float32{x, w, gy}, []int{p.InLen(), p.WeightLen(), p.K}, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		if err := v.recordConvInputGrad(r, p, tr, in[1], in[2], out[0], scratch); err != nil {
			return err
		}
		if err := v.recordConvWeightGrad(r, p, tr, in[0], in[2], out[1], scratch); err != nil {
			return err
		}
		return v.recordConvBiasGrad(r, p, tr, in[2], out[2])
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return out[0], out[1], out[2], nil
}

func (v *Vulkan) convTangent(p ConvParams, tr bool, x, w, tx, tw, tb []float32) ([]float32, error) {
	if _, err := checkConv(p, tr, "x:x w:w tx:x tw:w tb:b", x, w, tx, tw, tb); err != nil {
		return nil, err
	}
	ins := [][]float32{x, w, tx, tw}
	if tb != nil {
		ins = append(ins, tb)
	}
	out, err := v.exec(ins, []int{p.OutLen(tr)}, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		var b *gpu.Buffer
		if tb != nil {
			b = in[4]
		}
		return v.recordConvTangent(r, p, tr, in[0], in[1], in[2], in[3], b, out[0])
	})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

func (v *Vulkan) convTangentBackward(p ConvParams, tr bool, x, w, gy, tx, tw, tg []float32) (tdx, tdw, tdb []float32, err error) {
	if _, err := checkConv(p, tr, "x:x w:w g:y tx:x tw:w tg:y", x, w, gy, tx, tw, tg); err != nil {
		return nil, nil, nil, err
	}
	out, err := v.exec([][]float32{x, w, gy, tx, tw, tg}, []int{p.InLen(), p.WeightLen(), p.K}, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		return v.recordConvTangentBackward(r, p, tr, in[0], in[1], in[2], in[3], in[4], in[5], out[0], out[1], out[2])
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return out[0], out[1], out[2], nil
}

// Conv2D implements Conv2DBackend.
func (v *Vulkan) Conv2D(p ConvParams, x, w, bias []float32) ([]float32, error) {
	return v.convForward(p, false, x, w, bias)
}

// Conv2DBackward implements Conv2DBackend.
func (v *Vulkan) Conv2DBackward(p ConvParams, x, w, g []float32) (dx, dw, db []float32, err error) {
	return v.convBackward(p, false, x, w, g)
}

// Conv2DTangent implements Conv2DBackend.
func (v *Vulkan) Conv2DTangent(p ConvParams, x, w, tx, tw, tb []float32) ([]float32, error) {
	return v.convTangent(p, false, x, w, tx, tw, tb)
}

// Conv2DTangentBackward implements Conv2DBackend.
func (v *Vulkan) Conv2DTangentBackward(p ConvParams, x, w, g, tx, tw, tg []float32) (tdx, tdw, tdb []float32, err error) {
	return v.convTangentBackward(p, false, x, w, g, tx, tw, tg)
}

// ConvTranspose2D implements ConvTranspose2DBackend.
func (v *Vulkan) ConvTranspose2D(p ConvParams, x, w, bias []float32) ([]float32, error) {
	return v.convForward(p, true, x, w, bias)
}

// ConvTranspose2DBackward implements ConvTranspose2DBackend.
func (v *Vulkan) ConvTranspose2DBackward(p ConvParams, x, w, g []float32) (dx, dw, db []float32, err error) {
	return v.convBackward(p, true, x, w, g)
}

// ConvTranspose2DTangent implements ConvTranspose2DBackend.
func (v *Vulkan) ConvTranspose2DTangent(p ConvParams, x, w, tx, tw, tb []float32) ([]float32, error) {
	return v.convTangent(p, true, x, w, tx, tw, tb)
}

// ConvTranspose2DTangentBackward implements ConvTranspose2DBackend.
func (v *Vulkan) ConvTranspose2DTangentBackward(p ConvParams, x, w, g, tx, tw, tg []float32) (tdx, tdw, tdb []float32, err error) {
	return v.convTangentBackward(p, true, x, w, g, tx, tw, tg)
}
