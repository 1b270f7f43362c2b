package kernels

import (
	"fmt"
	"math"
	"slices"

	"github.com/noether-vk/noether-vk/gpu"
)

// MatMulParams describes the batched product C[b] = op(A[b]) op(B[b]) (+
// bias) for b < Batch, where op(A) is M x K, op(B) is K x N and C is
// [Batch, M, N], all row-major.
//
// TransA stores A as [K, M] (op(A) = Aᵀ), else [M, K]; TransB stores B as
// [N, K], else [K, N]. BatchA says A has a leading Batch dimension; without
// it one A is shared by every b (likewise BatchB), so per-example weights
// [B,M,K] x [B,K,N] and shared weights [B,M,K] x [K,N] are both products.
type MatMulParams struct {
	Batch, M, N, K int
	TransA, TransB bool
	BatchA, BatchB bool
}

// ALen is the number of elements of A.
func (p MatMulParams) ALen() int { return p.batchOf(p.BatchA) * p.M * p.K }

// BLen is the number of elements of B.
func (p MatMulParams) BLen() int { return p.batchOf(p.BatchB) * p.K * p.N }

// CLen is the number of elements of C.
func (p MatMulParams) CLen() int { return p.Batch * p.M * p.N }

func (p MatMulParams) batchOf(batched bool) int {
	if batched {
		return p.Batch
	}
	return 1
}

// String writes the product with stored shapes, e.g. "[4,5,3]ᵀ x [3,7]".
func (p MatMulParams) String() string {
	shape := func(batched, trans bool, rows, cols int) string {
		s := ""
		if batched {
			s = fmt.Sprintf("%d,", p.Batch)
		}
		if trans {
			return fmt.Sprintf("[%s%d,%d]ᵀ", s, cols, rows)
		}
		return fmt.Sprintf("[%s%d,%d]", s, rows, cols)
	}
	return fmt.Sprintf("%s x %s (batch %d)", shape(p.BatchA, p.TransA, p.M, p.K), shape(p.BatchB, p.TransB, p.K, p.N), p.Batch)
}

// Validate checks that every dimension is positive and that the operands
// are addressable with the shader's 32-bit indices.
func (p MatMulParams) Validate() error {
	if p.Batch < 1 || p.M < 1 || p.N < 1 || p.K < 1 {
		return fmt.Errorf("kernels: matmul %s: dimensions must be positive (M %d, N %d, K %d)", p, p.M, p.N, p.K)
	}
	for _, d := range [][3]int{{p.batchOf(p.BatchA), p.M, p.K}, {p.batchOf(p.BatchB), p.K, p.N}, {p.Batch, p.M, p.N}} {
		if float64(d[0])*float64(d[1])*float64(d[2]) > math.MaxUint32 {
			return fmt.Errorf("kernels: matmul %s: an operand exceeds 2^32 elements (the shader's index range)", p)
		}
	}
	return nil
}

func (p MatMulParams) check(a, b, bias []float32) error {
	if err := p.Validate(); err != nil {
		return err
	}
	op := "matmul " + p.String()
	if err := checkLen(op, "a", len(a), p.ALen()); err != nil {
		return err
	}
	if err := checkLen(op, "b", len(b), p.BLen()); err != nil {
		return err
	}
	if bias != nil {
		return checkLen(op, "bias", len(bias), p.N)
	}
	return nil
}

// MatMulBackend computes the batched product of MatMulParams; a nil bias
// adds nothing. Its derivatives are products too: with G = dL/dC,
// dA = G op(B)ᵀ (summed over the batch when A is shared), dB = op(A)ᵀ G,
// dbias = the column sums of G.
type MatMulBackend interface {
	MatMul(p MatMulParams, a, b, bias []float32) ([]float32, error)
}

// MatMul implements MatMulBackend with float64 accumulation.
func (CPU) MatMul(p MatMulParams, a, b, bias []float32) ([]float32, error) {
	if err := p.check(a, b, bias); err != nil {
		return nil, err
	}
	c := make([]float32, p.CLen())
	for n := range p.Batch {
		offA, offB := 0, 0
		if p.BatchA {
			offA = n * p.M * p.K
		}
		if p.BatchB {
			offB = n * p.K * p.N
		}
		for i := range p.M {
			for j := range p.N {
				s := 0.0
				if bias != nil {
					s = float64(bias[j])
				}
				for k := range p.K {
					ia, ib := offA+i*p.K+k, offB+k*p.N+j
					if p.TransA {
						ia = offA + k*p.M + i
					}
					if p.TransB {
						ib = offB + j*p.K + k
					}
					s += float64(a[ia]) * float64(b[ib])
				}
				c[(n*p.M+i)*p.N+j] = float32(s)
			}
		}
	}
	return c, nil
}

// mergesBatch says the product runs as one of Batch*M rows: a batch of A
// (not transposed) against one shared B.
func (p MatMulParams) mergesBatch() bool { return p.BatchA && !p.BatchB && !p.TransA }

// MatMulTile is the block of C one invocation of the matmul shader
// computes (rows x columns; columns a multiple of 4) and the workgroup
// size (X along columns, Y along rows). When X is a multiple of the
// subgroup size, the lanes of a subgroup share their rows of A through
// subgroup shuffles instead of each loading them.
type MatMulTile struct {
	Rows uint32 `json:"rows"`
	Cols uint32 `json:"cols"`
	X    uint32 `json:"x"`
	Y    uint32 `json:"y"`
}

// MatMulVariant is one way to run a product: the register tile and
// workgroup, and with SharedK > 0 the shared-memory path, which stages
// SharedK values of k (a multiple of 4) of the workgroup's whole tile of
// A and B at a time. Every variant gives the same bits: each element of C
// adds its products in the order of k with fused multiply-adds.
type MatMulVariant struct {
	MatMulTile
	SharedK uint32 `json:"shared_k,omitempty"`
	// Texels reads A and B as uniform texel buffers of vec4 where their
	// offsets allow (else as storage buffers, which gives the same bits).
	// On lavapipe a texel fetch loads each lane's value straight into
	// the vector, where a storage-buffer load at lane-dependent addresses
	// is a loop over the lanes with a branch and a bounds check each.
	Texels bool `json:"texels,omitempty"`
}

// String names the variant, e.g. "registers 16x8, workgroup 8x2" or
// "shared k 16, 4x4, workgroup 16x16".
func (mv MatMulVariant) String() string {
	path := "registers"
	if mv.SharedK > 0 {
		path = fmt.Sprintf("shared k %d,", mv.SharedK)
	}
	loads := ""
	if mv.Texels {
		loads = ", texels"
	}
	return fmt.Sprintf("%s %dx%d, workgroup %dx%d%s", path, mv.Rows, mv.Cols, mv.X, mv.Y, loads)
}

// DefaultMatMulTile is the tile RecordMatMul uses, measured fastest on
// lavapipe (8 lanes) among 8 to 32 rows, 4 to 16 columns, X 8 or 16 and Y
// 1 or 2: there every lane's buffer load is a scalar loop, so loads, not
// arithmetic or spilled accumulators, set the pace.
var DefaultMatMulTile = MatMulTile{Rows: 16, Cols: 8, X: 8, Y: 2}

// RecordMatMul records c = op(a) op(b) (+ bias) for p with the variant
// v.Tuning holds for p, or else v.DefaultMatMulVariant; bias may be nil.
// The buffers must hold at least p's operand lengths.
func (v *Vulkan) RecordMatMul(r *gpu.Recorder, p MatMulParams, a, b, bias, c *gpu.Buffer) error {
	mv, ok := v.Tuning.matMul(p)
	if !ok {
		mv = v.DefaultMatMulVariant(p)
	}
	return v.RecordMatMulVariant(r, mv, p, a, b, bias, c)
}

// DefaultMatMulVariant is the variant RecordMatMul runs p with when
// nothing is tuned: DefaultMatMulTile in registers, fitted to thin
// products, reading texels when v.Texels.
func (v *Vulkan) DefaultMatMulVariant(p MatMulParams) MatMulVariant {
	q := p.normalized()
	return MatMulVariant{MatMulTile: DefaultMatMulTile.fit(q.M, q.N), Texels: v.Texels}
}

// fit shapes t to a thin product of m x n (per batch entry): the rows and
// columns of a tile beyond C's are computed all the same, so with n <= 4
// (an MLP's 2-wide output layer and its gradients) one column block
// spreads its workgroup along the rows, with n <= 8 two do, and with m
// below the tile's rows (the first layer's 2 x 200 weight gradient) the
// tile has only m rows. On lavapipe the 1125 x 200 x 2 product went from
// 3.2-4.0 ms to 1.5-1.6, the 64 x 8 x 256 one (a conservation network's
// last weight gradient) from 0.073 to 0.048 ms.
func (t MatMulTile) fit(m, n int) MatMulTile {
	switch {
	case n <= 4:
		t.Cols, t.X, t.Y = 4, 1, t.X*t.Y
	case n <= 8 && t.Cols*t.X > 8:
		t.Cols, t.X, t.Y = 4, 2, max(t.X*t.Y/2, 1)
	}
	if m < int(t.Rows) {
		t.Rows, t.Y = uint32(max(m, 1)), 1
	}
	return t
}

// RecordMatMulTile is RecordMatMulVariant with the register tile t.
func (v *Vulkan) RecordMatMulTile(r *gpu.Recorder, t MatMulTile, p MatMulParams, a, b, bias, c *gpu.Buffer) error {
	return v.RecordMatMulVariant(r, MatMulVariant{MatMulTile: t}, p, a, b, bias, c)
}

// CheckMatMulVariant says whether the device can run mv: a positive tile
// with columns a multiple of 4, a workgroup within the device's limits,
// and for the shared path k stages a multiple of 4 whose tiles fit the
// device's shared memory.
func (v *Vulkan) CheckMatMulVariant(mv MatMulVariant) error {
	t, info := mv.MatMulTile, &v.Device.Info
	switch {
	case t.Rows == 0 || t.Cols == 0 || t.Cols%4 != 0 || t.X == 0 || t.Y == 0:
		return fmt.Errorf("matmul variant %v: rows, columns and workgroup must be positive, columns a multiple of 4", mv)
	case t.X > info.MaxWorkgroupSize[0] || t.Y > info.MaxWorkgroupSize[1] || t.X*t.Y > info.MaxWorkgroupInvocations:
		return fmt.Errorf("matmul variant %v: workgroup beyond the device's limits (%v, %d invocations)", mv, info.MaxWorkgroupSize, info.MaxWorkgroupInvocations)
	case mv.SharedK%4 != 0:
		return fmt.Errorf("matmul variant %v: shared k must be a multiple of 4", mv)
	case mv.SharedK > 0 && mv.sharedBytes() > int(info.SharedMemory):
		return fmt.Errorf("matmul variant %v: needs %d bytes of shared memory, the device has %d", mv, mv.sharedBytes(), info.SharedMemory)
	}
	return nil
}

// sharedBytes is the shared memory of the shared path: SharedK rows of
// the workgroup's tile of A and of B.
func (mv MatMulVariant) sharedBytes() int {
	return 4 * int(mv.SharedK) * int(mv.Y*mv.Rows+mv.X*mv.Cols)
}

// RecordMatMulVariant is RecordMatMul with the variant mv (for tuning,
// and for testing every variant).
func (v *Vulkan) RecordMatMulVariant(r *gpu.Recorder, mv MatMulVariant, p MatMulParams, a, b, bias, c *gpu.Buffer) error {
	if err := p.Validate(); err != nil {
		return err
	}
	op := "matmul " + p.String()
	for _, x := range []struct {
		name string
		buf  *gpu.Buffer
		n    int
	}{{"a", a, p.ALen()}, {"b", b, p.BLen()}, {"c", c, p.CLen()}, {"bias", bias, p.N}} {
		if x.buf == nil {
			if x.name == "bias" {
				continue
			}
			return fmt.Errorf("kernels: %s: buffer %s is nil", op, x.name)
		}
		if x.buf.Size() < int64(4*x.n) {
			return fmt.Errorf("kernels: %s: buffer %s holds %d bytes, want %d", op, x.name, x.buf.Size(), 4*x.n)
		}
	}
	// A batch of A against one shared B is a single product with
	// Batch*M rows: one dispatch plane instead of Batch small ones.
	return v.recordMatMul(r, mv, p.normalized(), implicitConv{}, a, b, bias, c)
}

// implicitConv is the convolution pass whose unfolded operands a product
// reads in place (implicit GEMM, see shaders/matmul.comp); the zero
// value is a plain product.
type implicitConv struct {
	on   bool
	mode convMode
	g    convGeom
}

// recordMatMul records the product p (normalized, its buffers checked)
// with the variant mv, as the convolution pass conv when conv.on.
func (v *Vulkan) recordMatMul(r *gpu.Recorder, mv MatMulVariant, p MatMulParams, conv implicitConv, a, b, bias, c *gpu.Buffer) error {
	op := "matmul " + p.String()
	if err := v.CheckMatMulVariant(mv); err != nil {
		return fmt.Errorf("kernels: %s: %w", op, err)
	}
	t, shared := mv.MatMulTile, mv.SharedK > 0
	hasBias := uint32(1)
	if bias == nil {
		bias, hasBias = a, 0
	}
	// vec4 loads need the contiguous axis of an operand to be a multiple
	// of 4 (then every row, and every batch, starts 16-byte aligned), and
	// a transposed A's block of rows to start at a multiple of 4.
	rowBlock, kStep := t.Rows, uint32(4)
	if shared {
		rowBlock, kStep = t.Rows*t.Y, mv.SharedK
	}
	vecA := (!p.TransA && p.K%4 == 0 && kStep%4 == 0) || (p.TransA && p.M%4 == 0 && rowBlock%4 == 0)
	vecB := (!p.TransB && p.N%4 == 0) || (p.TransB && p.K%4 == 0)
	vecC := p.N%4 == 0
	if conv.on {
		// Unfolded operands load one element at a time; the forward's A
		// is the weights as stored.
		vecA = vecA && conv.mode == convForward
		vecB = false
	}
	info := &v.Device.Info
	sg := info.SubgroupSize
	share := !shared && info.SubgroupInCompute && slices.Contains(info.SubgroupOperations, "shuffle") &&
		sg > 0 && t.X%sg == 0
	// matmul_plain lacks the shuffle capability, so it loads on devices without it.
	shader := "matmul_plain"
	if share {
		shader = "matmul"
	}
	// The texel variant binds A and B a second time as texels (bindings 4
	// and 5) and reads the vec4 loads of each operand bound so from there.
	spec := []uint32{t.X, t.Y, 1, t.Rows, t.Cols, b2u(p.TransA), b2u(p.TransB), hasBias, b2u(vecA), b2u(vecB), b2u(vecC), b2u(share),
		b2u(shared), max(mv.SharedK, 1)}
	shader, access, bufs, tex := withTexels(mv.Texels, shader, []gpu.Access{gpu.Read, gpu.Read, gpu.Read, gpu.Write}, []*gpu.Buffer{a, b, bias, c},
		[]int{0, 1}, []bool{vecA, vecB})
	// Specialization ids 14 and 15 exist in the texel SPIR-V only; the
	// others ignore them.
	spec = append(spec, tex&1, tex>>1)
	g := conv.g
	if conv.on {
		spec = append(spec, uint32(conv.mode)+1, uint32(g.KH), uint32(g.KW), uint32(g.S), uint32(g.P))
	} else {
		spec = append(spec, 0, 1, 1, 1, 0)
	}
	strideA, strideB := 0, 0
	if p.BatchA {
		strideA = p.M * p.K
	}
	if p.BatchB {
		strideB = p.K * p.N
	}
	rowLen := g.OW // the divisors of the pixel splits (see matmul.comp)
	switch {
	case conv.on && conv.mode == convForward:
		strideB = g.C * g.H * g.W
	case conv.on && conv.mode == convDGrad:
		strideB, rowLen = g.K*g.OH*g.OW, g.W
	}
	ceil := func(n int, d uint32) uint32 { return uint32((n + int(d) - 1) / int(d)) }
	lim := v.Device.Info.MaxWorkgroupCount
	groups := [3]uint32{ceil(p.N, t.Cols*t.X), ceil(p.M, t.Rows*t.Y), min(uint32(p.Batch), lim[2])}
	if groups[0] > lim[0] || groups[1] > lim[1] {
		return fmt.Errorf("kernels: %s: grid %v exceeds the device's maxComputeWorkGroupCount %v", op, groups, lim)
	}
	push := gpu.Push{}.U32(uint32(p.M)).U32(uint32(p.N)).U32(uint32(p.K)).U32(uint32(p.Batch)).U32(uint32(strideA)).U32(uint32(strideB)).
		U32(uint32(g.C)).U32(uint32(g.H)).U32(uint32(g.W)).U32(uint32(g.OH)).U32(uint32(g.OW)).U32(uint32(g.K))
	push = pushDivisors(push, []int{max(rowLen, 1), max(g.OH*g.OW, 1)}, 2)
	// One dispatch per chunk of k (see loopBudget); each after the first
	// continues from C (ACC), the last adds the bias.
	chunk := p.K
	if v.Device.Info.Type == gpu.TypeCPU {
		chunk = mv.kChunk(share, sg, p.Batch, int(groups[2]))
	}
	for k0 := 0; k0 < p.K; k0 += chunk {
		last, acc := k0+chunk >= p.K, k0 > 0
		spec[7] = hasBias * b2u(last)
		cs := append(spec, b2u(acc))
		if acc {
			access = slices.Clone(access)
			access[3] = gpu.ReadWrite
		}
		k, err := v.kernel(shader, access, matMulPushBytes, cs...)
		if err != nil {
			return err
		}
		r.Dispatch(k, groups, push.U32(uint32(k0)).U32(uint32(min(k0+chunk, p.K))), bufs...)
	}
	return nil
}

// loopBudget is how many loop iterations one invocation of the matmul
// kernel may run on a CPU device. llvmpipe ends every loop of an
// invocation, silently, once it has run 65535 iterations of all its loops
// together (gallivm's LP_MAX_TGSI_LOOP_ITERATIONS): a product whose k loop
// ran longer lost its last terms (16 x 150 x 73728 on lavapipe was off by
// a quarter of its largest value). Products that would exceed it run as
// several dispatches along k; some margin is kept for the loops outside
// the k loop.
const loopBudget = 60000

// kChunk is how many k one dispatch of mv may add within loopBudget: a
// multiple of the k step (4, or SharedK on the shared path) counting the
// loops in each step (SHARE_A's loop over the subgroup's loads, the
// shared path's staging loops) and the batch entries each invocation
// runs (batch over the grid's z groups).
func (mv MatMulVariant) kChunk(share bool, sg uint32, batch, groupsZ int) int {
	// A loop of n iterations counts n + 1 (its last test of the
	// condition too): SHARE_A's k step of 4 with 16 rows in subgroups of
	// 8 counted 4, as the product above showed.
	step, perStep := 4, 1
	if share {
		perStep += int((mv.Rows+sg-1)/sg) + 1
	}
	if mv.SharedK > 0 {
		threads := int(mv.X * mv.Y)
		step = int(mv.SharedK)
		perStep += (int(mv.Rows*mv.Y)*step+threads-1)/threads + 1 + (int(mv.Cols*mv.X)*step+threads-1)/threads + 1
	}
	perEntry := loopBudget / ((batch + groupsZ - 1) / groupsZ)
	return max((perEntry-8)/perStep, 1) * step
}

// matMulPushBytes is the matmul shader's push block: the product's six
// words, the convolution's six, two divisors (three words), the k range.
const matMulPushBytes = 4 * (6 + 6 + 3 + 2)

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// MatMul implements MatMulBackend.
func (v *Vulkan) MatMul(p MatMulParams, a, b, bias []float32) ([]float32, error) {
	if err := p.check(a, b, bias); err != nil {
		return nil, err
	}
	ins := [][]float32{a, b}
	if bias != nil {
		ins = append(ins, bias)
	}
	out, err := v.exec(ins, []int{p.CLen()}, func(r *gpu.Recorder, in, out []*gpu.Buffer) error {
		var bb *gpu.Buffer
		if bias != nil {
			bb = in[2]
		}
		return v.RecordMatMul(r, p, in[0], in[1], bb, out[0])
	})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}
