package kernels

import (
	"fmt"
	"math"

	"github.com/noether-vk/noether-vk/gpu"
)

// ConvPath selects how the Vulkan backend runs the conv primitives of
// RecordConv2D, RecordConv2DInputGrad, RecordConv2DWeightGrad and their
// conv_transpose2d counterparts (the tangent methods always run the
// direct shader).
type ConvPath uint8

const (
	// ConvAuto runs the form v.Tuning holds for the primitive (see
	// ConvPrim), else picks the direct or GEMM form by convGemmRule.
	ConvAuto ConvPath = iota
	// ConvDirect always runs the register-blocked shader (shaders/conv2d.comp).
	ConvDirect
	// ConvGemm always runs the GEMM form: im2col / col2im
	// (shaders/im2col.comp) around the matmul kernel.
	ConvGemm
	// ConvImplicit runs the implicit GEMM form: the matmul kernel reading
	// the unfolded operands in place (no column matrix, no scratch, one
	// dispatch per pass, the bias added with the store). The input
	// gradient of a strided convolution keeps ConvAuto's form: in GEMM
	// form over the input pixels only one tap in S² would add anything.
	// On lavapipe it is slower than the other forms at the benchmarked
	// shapes (its scalar loads of the unfolded operand are loops over the
	// lanes); it is meant for GPUs, where the shared-memory variants load
	// each input element once per workgroup.
	ConvImplicit
)

var convPathNames = [...]string{ConvAuto: "auto", ConvDirect: "direct", ConvGemm: "gemm", ConvImplicit: "implicit"}

// String names the form: auto, direct, gemm or implicit.
func (c ConvPath) String() string {
	if int(c) < len(convPathNames) {
		return convPathNames[c]
	}
	return fmt.Sprintf("ConvPath(%d)", c)
}

// MarshalText writes the form's name (the tuning cache stores it so).
func (c ConvPath) MarshalText() ([]byte, error) {
	if int(c) >= len(convPathNames) {
		return nil, fmt.Errorf("kernels: no conv form %d", c)
	}
	return []byte(c.String()), nil
}

// UnmarshalText reads a name that String writes.
func (c *ConvPath) UnmarshalText(b []byte) error {
	for i, n := range convPathNames {
		if n == string(b) {
			*c = ConvPath(i)
			return nil
		}
	}
	return fmt.Errorf("kernels: unknown conv form %q (want auto, direct, gemm or implicit)", b)
}

// ConvPass names one of the three Record passes of a conv op: the op's
// forward, its input gradient and its weight gradient.
type ConvPass uint8

const (
	ConvPassForward ConvPass = iota
	ConvPassInputGrad
	ConvPassWeightGrad
)

// String names the pass: forward, input_grad or weight_grad.
func (s ConvPass) String() string {
	return [...]string{"forward", "input_grad", "weight_grad"}[s]
}

// ConvPrim is one pass as the kernels run it: a conv2d primitive
// (forward, input gradient or weight gradient) on conv2d's geometry, so a
// conv_transpose2d pass is the conv2d primitive it equals (its forward is
// the input gradient of the conv2d it transposes). The tuner chooses a
// conv form per ConvPrim.
type ConvPrim struct {
	Params ConvParams // conv2d's
	Pass   ConvPass
}

// prim is the primitive mode runs on g.
func prim(mode convMode, g convGeom) ConvPrim {
	// convMode and ConvPass list the three in the same order.
	return ConvPrim{Params: ConvParams{N: g.N, C: g.C, H: g.H, W: g.W, K: g.K, KH: g.KH, KW: g.KW, Stride: g.S, Pad: g.P}, Pass: ConvPass(mode)}
}

// TuneKey names the primitive for the tuning cache, e.g.
// "input_grad [8,128,16,16] k4x4 s2 p1 -> 256".
func (c ConvPrim) TuneKey() string { return c.Pass.String() + " " + c.Params.String() }

// mode is the primitive (on the op's conv2d geometry) that runs the pass.
func (s ConvPass) mode(transposed bool) convMode {
	switch s {
	case ConvPassInputGrad:
		return dxMode(transposed)
	case ConvPassWeightGrad:
		return convWGrad
	}
	return fwdMode(transposed)
}

// The GEMM form of the three primitives on the geometry g (X [N,C,H,W],
// W [K,CKK] with CKK = C*KH*KW, Y [N,K,OHW]):
//
//	FORWARD  col[n] = im2col(X[n]) [CKK, OHW];  Y[n] = W x col[n]        (batch N, W shared)
//	DGRAD    dcol[n] = Wᵀ x G[n] [CKK, OHW];    dX = col2im(dcol) (+ bias)
//	WGRAD    col = im2col(X) [CKK, N*OHW];      Gp = G as [K, N*OHW];  dW = Gp x colᵀ
//
// The weight gradient sums over the batch inside one product, so its
// columns are laid out [CKK, N*OHW] and G is packed to [K, N*OHW] (not
// needed for N = 1). The forward's bias is a separate in-place pass.

// gemmScratch returns the floats of scratch the GEMM form of mode needs
// and the float offset of the packed G (WGRAD with N > 1, else 0).
func (v *Vulkan) gemmScratch(mode convMode, g convGeom) (total, packOff int) {
	col := g.N * g.C * g.KH * g.KW * g.OH * g.OW
	if mode != convWGrad || g.N == 1 {
		return col, 0
	}
	align := max(int(v.Device.MemoryStats().Alignment)/4, 1)
	packOff = (col + align - 1) / align * align
	return packOff + g.K*g.N*g.OH*g.OW, packOff
}

// convGemmRule is the choice of ConvAuto, from BenchmarkConv2D on
// lavapipe (2 cores, 256-bit): at the DCGAN layer [8,128,16,16] 4x4
// stride 2 -> 256 the GEMM form runs forward, input gradient and weight
// gradient at about 1.7-2.5x, 4-8x and 2x the direct shader (in
// back-to-back runs; the machine was loaded), whose stride-2 taps
// and per-phase input-gradient dispatches use its register blocks poorly;
// at the embedding's stride-1 5x5 convolutions the two are within the
// noise or the direct shader is ahead (the weight gradient of 6 -> 32
// channels at 64x64 runs at about half the direct shader's rate: its
// 32 x 150 product is three workgroups, each summing 8192 terms), and the
// direct shader needs no scratch. So: GEMM form for strided convolutions
// with enough work for the matmul tiles (C*KH*KW >= 64 and K >= 16).
func convGemmRule(mode convMode, g convGeom) bool {
	return g.S > 1 && g.C*g.KH*g.KW >= 64 && g.K >= 16
}

// convForm is the form the pass runs in (never ConvAuto): v.Conv when
// set, else the form v.Tuning holds for the primitive, else ConvAuto's
// rule; a form the pass cannot take (see ConvForms) falls back to the
// rule.
func (v *Vulkan) convForm(mode convMode, g convGeom) ConvPath {
	form := v.Conv
	if form == ConvAuto {
		form, _ = v.Tuning.conv(prim(mode, g))
	}
	if !v.canRun(form, mode, g) {
		form = ConvAuto
	}
	if form == ConvAuto {
		form = ConvDirect
		if convGemmRule(mode, g) && v.canRun(ConvGemm, mode, g) {
			form = ConvGemm
		}
	}
	return form
}

// canRun says whether the pass can take the form: the GEMM form's column
// matrix within the shaders' 32-bit indices and one buffer of the device;
// implicit GEMM not for a strided input gradient, within the shader's
// 31-bit pixel splits.
func (v *Vulkan) canRun(form ConvPath, mode convMode, g convGeom) bool {
	switch form {
	case ConvGemm:
		total, _ := v.gemmScratch(mode, g)
		return uint64(total) <= math.MaxUint32 && int64(4*total) <= v.Device.MaxBufferSize()
	case ConvImplicit:
		return (mode != convDGrad || g.S == 1) && g.N*g.OH*g.OW < 1<<31 && g.N*g.C*g.H*g.W < 1<<31
	}
	return true
}

// ConvForms are the forms the tuner times for c: the default (what runs
// untuned, with v.Conv = ConvAuto) first, then the others c can take.
func (v *Vulkan) ConvForms(c ConvPrim) ([]ConvPath, error) {
	g, err := c.Params.geom(false)
	if err != nil {
		return nil, err
	}
	mode := convMode(c.Pass)
	auto := *v
	auto.Conv, auto.Tuning = ConvAuto, nil
	out := []ConvPath{auto.convForm(mode, g)}
	for _, f := range []ConvPath{ConvDirect, ConvGemm, ConvImplicit} {
		if f != out[0] && v.canRun(f, mode, g) {
			out = append(out, f)
		}
	}
	return out, nil
}

// recordConvImplicit records the implicit GEMM form of one single-pair
// primitive (a and b as recordConvPrim's: FORWARD X, W; DGRAD G, W;
// WGRAD G, X) with the variant tuned for the product's shape, or the
// default.
func (v *Vulkan) recordConvImplicit(r *gpu.Recorder, mode convMode, g convGeom, out, a, b, bias *gpu.Buffer) error {
	khw := g.KH * g.KW
	var p MatMulParams
	switch mode {
	case convForward:
		p = MatMulParams{Batch: g.N, M: g.K, N: g.OH * g.OW, K: g.C * khw, BatchB: true}
		a, b = b, a
	case convDGrad:
		p = MatMulParams{Batch: g.N, M: g.C, N: g.H * g.W, K: g.K * khw, BatchB: true}
		a, b = b, a
	case convWGrad:
		p = MatMulParams{Batch: 1, M: g.K, N: g.C * khw, K: g.N * g.OH * g.OW}
	default:
		return fmt.Errorf("kernels: conv2d (implicit GEMM): bad mode %d", mode)
	}
	mv, ok := v.Tuning.matMul(p)
	if !ok {
		mv = v.DefaultMatMulVariant(p)
	}
	return v.recordMatMul(r, mv, p, implicitConv{on: true, mode: mode, g: g}, a, b, bias, out)
}

// ConvScratch is the number of floats of scratch memory the Record method
// of pass needs for the op (conv2d, or conv_transpose2d when transposed)
// at p: the column matrix of the GEMM form, or the partial sums of the
// direct weight gradient's row slices (see wgradSplits); 0 when none (then
// the scratch argument may be nil). It depends on v.Conv and v.Tuning;
// set those before asking. Given no scratch, ConvAuto runs the direct
// shader unsplit.
func (v *Vulkan) ConvScratch(p ConvParams, transposed bool, pass ConvPass) (int, error) {
	g, err := p.geom(transposed)
	if err != nil {
		return 0, err
	}
	mode := pass.mode(transposed)
	switch v.convForm(mode, g) {
	case ConvImplicit:
		return 0, nil
	case ConvDirect:
		if s := v.directSplits(mode, g); s > 1 {
			return s * g.wLen(), nil
		}
		return 0, nil
	}
	n, _ := v.gemmScratch(mode, g)
	return n, nil
}

var (
	im2colAccess = []gpu.Access{gpu.Write, gpu.Read, gpu.Read}
	biasAccess   = []gpu.Access{gpu.ReadWrite, gpu.Read, gpu.Read}
)

// im2colTN is the elements per invocation of shaders/im2col.comp.
const im2colTN = 4

// recordIm2col records one mode of shaders/im2col.comp (0 im2col, 1
// col2im, 2 pack, 3 bias) over the work items of that mode.
func (v *Vulkan) recordIm2col(r *gpu.Recorder, mode uint32, g convGeom, rowStride, nStride int, out, in, bias *gpu.Buffer) error {
	hasBias := bias != nil
	if bias == nil {
		bias = in
	}
	acc := im2colAccess
	if mode == 3 {
		acc = biasAccess
	}
	ohw := g.OH * g.OW
	seg := func(n int) int { return (n + im2colTN - 1) / im2colTN }
	var items int
	switch mode {
	case 0:
		items = g.N * g.C * g.KH * g.KW * seg(ohw)
	case 1:
		items = g.N * g.C * g.H * seg(g.W)
	default:
		items = g.N * g.K * seg(ohw)
	}
	k, err := v.kernel("im2col", acc, 36, 64, mode, uint32(g.S), uint32(g.P), uint32(g.KH), uint32(g.KW), b2u(hasBias), im2colTN)
	if err != nil {
		return err
	}
	push := gpu.Push{}.U32(uint32(g.N)).U32(uint32(g.C)).U32(uint32(g.H)).U32(uint32(g.W)).U32(uint32(g.K)).
		U32(uint32(g.OH)).U32(uint32(g.OW)).U32(uint32(rowStride)).U32(uint32(nStride))
	r.Dispatch(k, v.Device.Grid(k, items), push, out, in, bias)
	return nil
}

// recordConvGemm records the GEMM form of one single-pair primitive:
// out = mode(a, b) (+ bias for FORWARD and DGRAD), with scratch holding at
// least gemmScratch(mode, g) floats. a and b are as recordConvPrim's
// (FORWARD: X, W; DGRAD: G, W; WGRAD: G, X).
func (v *Vulkan) recordConvGemm(r *gpu.Recorder, mode convMode, g convGeom, out, a, b, bias, scratch *gpu.Buffer) error {
	total, packOff := v.gemmScratch(mode, g)
	if scratch == nil || scratch.Size() < int64(4*total) {
		have := int64(0)
		if scratch != nil {
			have = scratch.Size()
		}
		return fmt.Errorf("kernels: conv2d (GEMM form): scratch holds %d bytes, want %d (see Vulkan.ConvScratch)", have, 4*total)
	}
	ckk, ohw := g.C*g.KH*g.KW, g.OH*g.OW
	switch mode {
	case convForward:
		if err := v.recordIm2col(r, 0, g, ohw, ckk*ohw, scratch, a, nil); err != nil {
			return err
		}
		mp := MatMulParams{Batch: g.N, M: g.K, N: ohw, K: ckk, BatchB: true}
		if err := v.RecordMatMul(r, mp, b, scratch, nil, out); err != nil {
			return err
		}
		if bias != nil {
			return v.recordIm2col(r, 3, g, 0, 0, out, bias, nil)
		}
		return nil
	case convDGrad:
		// dcol[n] = Wᵀ G[n]: W is stored [K, CKK], the transposed A.
		mp := MatMulParams{Batch: g.N, M: ckk, N: ohw, K: g.K, TransA: true, BatchB: true}
		if err := v.RecordMatMul(r, mp, b, a, nil, scratch); err != nil {
			return err
		}
		return v.recordIm2col(r, 1, g, ohw, ckk*ohw, out, scratch, bias)
	case convWGrad:
		np := g.N * ohw
		col, err := scratch.View(0, int64(4*g.N*ckk*ohw))
		if err != nil {
			return err
		}
		if err := v.recordIm2col(r, 0, g, np, ohw, col, b, nil); err != nil {
			return err
		}
		gp := a
		if g.N > 1 {
			if gp, err = scratch.View(int64(4*packOff), int64(4*g.K*np)); err != nil {
				return err
			}
			if err := v.recordIm2col(r, 2, g, 0, 0, gp, a, nil); err != nil {
				return err
			}
		}
		// dW [K, CKK] = Gp [K, NP] x colᵀ, col stored [CKK, NP].
		mp := MatMulParams{Batch: 1, M: g.K, N: ckk, K: np, TransB: true}
		return v.RecordMatMul(r, mp, gp, col, nil, out)
	}
	return fmt.Errorf("kernels: conv2d (GEMM form): bad mode %d", mode)
}

// recordConvPass records a single-pair pass in the form convForm gives;
// the GEMM form only with scratch, unless forced by v.Conv (a form chosen
// by the rule or the tuning falls back to the direct shader without it).
func (v *Vulkan) recordConvPass(r *gpu.Recorder, mode convMode, g convGeom, out, a, b, bias, scratch *gpu.Buffer) error {
	switch v.convForm(mode, g) {
	case ConvImplicit:
		return v.recordConvImplicit(r, mode, g, out, a, b, bias)
	case ConvGemm:
		if scratch != nil || v.Conv == ConvGemm {
			return v.recordConvGemm(r, mode, g, out, a, b, bias, scratch)
		}
	}
	if s := v.directSplits(mode, g); s > 1 && scratch != nil {
		return v.recordConvWGradSplit(r, g, s, out, a, b, scratch)
	}
	return v.recordConvPrim(r, v.ConvTile, mode, g, out, a, b, nil, nil, bias)
}

// recordConvWGradSplit records the direct weight gradient in splits row
// slices, their partial sums into scratch, then dW = their sum.
func (v *Vulkan) recordConvWGradSplit(r *gpu.Recorder, g convGeom, splits int, dw, a, b, scratch *gpu.Buffer) error {
	n := splits * g.wLen()
	if scratch.Size() < int64(4*n) {
		return fmt.Errorf("kernels: conv2d weight gradient: scratch holds %d bytes, want %d (see Vulkan.ConvScratch)", scratch.Size(), 4*n)
	}
	part, err := scratch.View(0, int64(4*n))
	if err != nil {
		return err
	}
	if err := v.recordConvPrimSplit(r, v.ConvTile, convWGrad, g, splits, part, a, b, nil, nil, nil); err != nil {
		return err
	}
	return v.RecordReduce(r, Sum, part, Shape{splits, g.wLen()}, []int{0}, dw, nil)
}

// convScratchBuf allocates the scratch of the passes (the largest), nil
// when none needs any; the caller frees it.
func (v *Vulkan) convScratchBuf(p ConvParams, tr bool, passes ...ConvPass) (*gpu.Buffer, error) {
	n := 0
	for _, s := range passes {
		m, err := v.ConvScratch(p, tr, s)
		if err != nil {
			return nil, err
		}
		n = max(n, m)
	}
	if n == 0 {
		return nil, nil
	}
	return v.Device.Alloc(int64(4 * n))
}
