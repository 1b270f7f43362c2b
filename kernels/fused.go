package kernels

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/noether-vk/noether-vk/gpu"
)

// FusedKind says what one instruction of a fused program computes.
type FusedKind uint8

// The instruction kinds.
const (
	// FusedUnary is f^(Order)(r[A]) of the unary op Unary, times r[B]
	// when Scaled; Imm is leaky_relu's slope.
	FusedUnary FusedKind = iota
	// FusedBinary is r[A] Binary r[B].
	FusedBinary
	// FusedScalar is r[A] Binary Imm, or Imm Binary r[A] with Left.
	FusedScalar
)

// FusedInstr is one instruction of a fused program. Registers 0 to
// len(Fused.Strides)-1 hold the inputs at the element; instruction k
// writes register len(Fused.Strides)+k.
type FusedInstr struct {
	Kind   FusedKind
	Unary  UnaryOp
	Order  int
	Scaled bool
	Binary BinaryOp
	Left   bool
	Imm    float32
	A, B   int
}

// Fused is an elementwise program over one output shape: the inputs, each
// read through its element strides over the output's dimensions (the
// output's own row-major strides for a tensor of the output's layout, 0
// along broadcast dimensions), and the instructions. The result is the
// last instruction's register, or input 0 when there is no instruction (a
// broadcast copy). Each instruction computes as the kernel of its op does
// on its own: on Vulkan the fused kernel gives the bits of the unary and
// binary kernels run one after another (shaders/fused.comp says how, and
// where a driver other than lavapipe could differ in the sign of a zero),
// and on the CPU the reference gives the bits of CPU.Unary, Binary and
// BinaryScalar.
//
// The graph compiler builds these from chains and small DAGs of
// elementwise ops whose intermediates nothing else reads, so that one
// dispatch replaces several and the intermediates never reach memory.
//
// With Reduces, the result is Reduce over the output shape's leading axis
// of the program's values instead (shape out[1:]): computed as RecordReduce
// computes a reduction whose outputs each take one pass (ReducesInOnePass),
// so with the same bits.
type Fused struct {
	Strides [][]int
	Code    []FusedInstr
	Reduces bool
	Reduce  ReduceOp
}

// Limits of a fused program: the shader binds MaxFusedInputs inputs, holds
// MaxFusedCode instructions in specialization constants and
// MaxFusedImmediates distinct constants in push constants.
const (
	MaxFusedInputs     = 8
	MaxFusedCode       = 24
	MaxFusedImmediates = 8
)

// The shader's layout (see shaders/fused.comp).
const (
	fusedPushWords = 32 // n, the immediates, the collapsed dimensions, the strides
	fusedRowsAt    = 30 // with Reduces: the rows summed, and the scale
	fusedScaleAt   = 31
	fusedReduceBit = 24             // of the modes word: 1 sum, 2 sum of squares
	fusedImmBit    = 26             // of the modes word: the number of immediates
	fusedRegCode   = MaxFusedInputs // the register of instruction 0
	fusedBinary    = 40             // opcodes of binary, scalar-right and scalar-left ops
	fusedScalarR   = 44
	fusedScalarL   = 48
)

// The shader's input modes.
const (
	fusedContig   = iota // the output's layout
	fusedSplat0          // element 0 everywhere
	fusedGather          // by coordinates, one element per lane
	fusedRowVec          // by coordinates, a vec4 (innermost stride 1)
	fusedRowSplat        // by coordinates, one element for all four (innermost stride 0)
)

func (in FusedInstr) String() string {
	switch in.Kind {
	case FusedUnary:
		s := in.Unary.String() + strings.Repeat("'", in.Order) + fmt.Sprintf("(r%d)", in.A)
		if in.Scaled {
			s += fmt.Sprintf("*r%d", in.B)
		}
		return s
	case FusedBinary:
		return fmt.Sprintf("%s(r%d, r%d)", in.Binary, in.A, in.B)
	}
	if in.Left {
		return fmt.Sprintf("%s(%g, r%d)", in.Binary, in.Imm, in.A)
	}
	return fmt.Sprintf("%s(r%d, %g)", in.Binary, in.A, in.Imm)
}

// immediates lists the program's distinct constants (by bits) and each
// instruction's index among them.
func (f Fused) immediates() ([]float32, []int) {
	var imms []float32
	at := make([]int, len(f.Code))
	for k, in := range f.Code {
		if in.Kind == FusedBinary || (in.Kind == FusedUnary && in.Unary != LeakyRelu) {
			continue
		}
		j := 0
		for j < len(imms) && math.Float32bits(imms[j]) != math.Float32bits(in.Imm) {
			j++
		}
		if j == len(imms) {
			imms = append(imms, in.Imm)
		}
		at[k] = j
	}
	return imms, at
}

// Check reports whether the program can run over out: operands in range,
// within the limits, and its input strides fitting the push constants.
func (f Fused) Check(out Shape) error {
	if err := out.check(); err != nil {
		return fmt.Errorf("kernels: fused: %v", err)
	}
	if out.Len() >= 1<<31 {
		// The shader takes n >> 31 for a zero the compiler cannot see.
		return fmt.Errorf("kernels: fused: %v has %d elements (fewer than 2^31 fit)", out, out.Len())
	}
	nin := len(f.Strides)
	if nin == 0 || nin > MaxFusedInputs {
		return fmt.Errorf("kernels: fused: %d inputs (1 to %d)", nin, MaxFusedInputs)
	}
	if len(f.Code) > MaxFusedCode {
		return fmt.Errorf("kernels: fused: %d instructions (at most %d)", len(f.Code), MaxFusedCode)
	}
	for k, st := range f.Strides {
		if len(st) != len(out) {
			return fmt.Errorf("kernels: fused: input %d has %d strides for a %d-dimensional output", k, len(st), len(out))
		}
	}
	for k, in := range f.Code {
		reg := func(r int) bool { return r >= 0 && r < nin+k }
		ok := reg(in.A)
		switch in.Kind {
		case FusedUnary:
			ok = ok && int(in.Unary) < len(unaryNames) && in.Order >= 0 && in.Order <= 2 && (!in.Scaled || reg(in.B))
		case FusedBinary:
			ok = ok && reg(in.B) && checkBinaryOp(in.Binary) == nil
		case FusedScalar:
			ok = ok && checkBinaryOp(in.Binary) == nil
		default:
			ok = false
		}
		if !ok {
			return fmt.Errorf("kernels: fused: instruction %d (%v) is not valid with %d inputs", k, in, nin)
		}
	}
	imms, _ := f.immediates()
	if len(imms) > MaxFusedImmediates {
		return fmt.Errorf("kernels: fused: %d distinct constants (at most %d)", len(imms), MaxFusedImmediates)
	}
	limit := fusedPushWords
	if f.Reduces {
		if len(out) == 0 || int(f.Reduce) >= len(reduceNames) {
			return fmt.Errorf("kernels: fused: %s over the leading axis of %v", f.Reduce, out)
		}
		limit = fusedRowsAt
	}
	l := f.layout(out)
	if words := 1 + len(imms) + len(l.dims)*(1+l.strided); words > limit {
		return fmt.Errorf("kernels: fused: %d constants and %d inputs read by coordinates over %d dimensions need %d push-constant words (at most %d)", len(imms), l.strided, len(l.dims), words, limit)
	}
	return nil
}

// fusedLayout is how the shader reads the inputs over the collapsed
// output shape.
type fusedLayout struct {
	dims    Shape
	strides [][]int
	modes   []uint32
	vec     uint32
	strided int // inputs read by coordinates
}

func (f Fused) layout(out Shape) fusedLayout {
	dims, st := collapse(out, f.Strides...)
	l := fusedLayout{dims: dims, strides: st, modes: make([]uint32, len(st)), vec: 1}
	contig, _ := BroadcastStrides(dims, dims)
	for k, s := range st {
		switch {
		case slices.Equal(s, contig):
			l.modes[k] = fusedContig
		case allZero(s):
			l.modes[k] = fusedSplat0
		default:
			l.modes[k] = fusedGather
			l.strided++
		}
	}
	// Four elements per invocation need whole vec4s of the output (of a
	// reduction's output, four outputs summed side by side) and, for
	// inputs read by coordinates, four elements in the same innermost
	// row.
	n := out.Len()
	if n%4 != 0 || (f.Reduces && f.outLen(out)%4 != 0) || (l.strided > 0 && dims[len(dims)-1]%4 != 0) {
		return l
	}
	l.vec = 4
	for k, s := range st {
		if l.modes[k] != fusedGather {
			continue
		}
		last := len(s) - 1
		switch {
		case s[last] == 0:
			l.modes[k] = fusedRowSplat
		case s[last] == 1 && outerAligned(s[:last]):
			l.modes[k] = fusedRowVec
		}
	}
	return l
}

// outerAligned reports whether strides are multiples of 4, so that a row
// read by coordinates starts on a vec4.
func outerAligned(strides []int) bool {
	for _, s := range strides {
		if s%4 != 0 {
			return false
		}
	}
	return true
}

func allZero(s []int) bool {
	for _, v := range s {
		if v != 0 {
			return false
		}
	}
	return true
}

// FusedBackend evaluates fused elementwise programs.
type FusedBackend interface {
	// Fused evaluates f over out; ins[k] is input k.
	Fused(f Fused, out Shape, ins [][]float32) ([]float32, error)
}

func (f Fused) checkInputs(out Shape, lens []int) error {
	if err := f.Check(out); err != nil {
		return err
	}
	if len(lens) != len(f.Strides) {
		return fmt.Errorf("kernels: fused: %d inputs given, the program reads %d", len(lens), len(f.Strides))
	}
	for k, st := range f.Strides {
		need := 1
		for d, s := range st {
			need += (out[d] - 1) * s
		}
		if lens[k] < need {
			return fmt.Errorf("kernels: fused: input %d has %d elements, its strides over %v read %d", k, lens[k], out, need)
		}
	}
	return nil
}

// Fused implements FusedBackend: every instruction as the op's own CPU
// reference computes it (float64, rounded to float32).
func (CPU) Fused(f Fused, out Shape, ins [][]float32) ([]float32, error) {
	lens := make([]int, len(ins))
	for k, x := range ins {
		lens[k] = len(x)
	}
	if err := f.checkInputs(out, lens); err != nil {
		return nil, err
	}
	nin := len(f.Strides)
	regs := make([]float32, nin+len(f.Code))
	n := out.Len()
	var acc []float64
	y := make([]float32, n)
	if f.Reduces {
		acc = make([]float64, n/out[0])
	}
	for i := range n {
		for k, idx := range broadcastIndex(out, i, f.Strides...) {
			regs[k] = ins[k][idx]
		}
		for k, in := range f.Code {
			a := float64(regs[in.A])
			var v float64
			switch in.Kind {
			case FusedUnary:
				v = UnaryRef(in.Unary, in.Order, float64(in.Imm), a)
				if in.Scaled {
					v *= float64(regs[in.B])
				}
			case FusedBinary:
				v = binaryRef(in.Binary, a, float64(regs[in.B]))
			case FusedScalar:
				if in.Left {
					v = binaryRef(in.Binary, float64(in.Imm), a)
				} else {
					v = binaryRef(in.Binary, a, float64(in.Imm))
				}
			}
			regs[nin+k] = float32(v)
		}
		v := regs[len(regs)-1]
		if !f.Reduces {
			y[i] = v
			continue
		}
		// As CPU.Reduce: float64 sums, in the order of the elements.
		a := float64(v)
		if f.Reduce == SumSq {
			a *= a
		}
		acc[i%len(acc)] += a
	}
	if !f.Reduces {
		return y, nil
	}
	y = y[:len(acc)]
	for o, s := range acc {
		if f.Reduce == Mean {
			s /= float64(out[0])
		}
		y[o] = float32(s)
	}
	return y, nil
}

// ReducesInOnePass reports whether RecordReduce sums each output of this
// reduction in one pass of one invocation (as a fused program with
// Reduces does), rather than from partial sums.
func ReducesInOnePass(op ReduceOp, xs Shape, axes []int) bool {
	p, err := planReduce(op, xs, axes)
	return err == nil && p.parts() == 1
}

// outLen is the length of the program's result over out.
func (f Fused) outLen(out Shape) int {
	if f.Reduces {
		return out.Len() / out[0]
	}
	return out.Len()
}

// RecordFused records y = f over out, reading input k from ins[k]. The
// program is compiled into the pipeline (one per distinct program, cached
// by the device); shapes and constants travel as push constants.
func (v *Vulkan) RecordFused(r *gpu.Recorder, f Fused, out Shape, ins []*gpu.Buffer, y *gpu.Buffer) error {
	if err := f.Check(out); err != nil {
		return err
	}
	if len(ins) != len(f.Strides) {
		return fmt.Errorf("kernels: fused: %d input buffers for %d inputs", len(ins), len(f.Strides))
	}
	n := out.Len()
	for k, b := range ins {
		if err := checkBuf("fused", fmt.Sprintf("input %d", k), b, 1); err != nil {
			return err
		}
	}
	if err := checkBuf("fused", "y", y, f.outLen(out)); err != nil {
		return err
	}
	l := f.layout(out)
	nin := len(f.Strides)
	reg := func(x int) uint32 {
		if x < nin {
			return uint32(x)
		}
		return uint32(fusedRegCode + x - nin)
	}
	spec := make([]uint32, 0, 8+MaxFusedCode)
	var modes uint32
	for k, m := range l.modes {
		modes |= m << (3 * k)
	}
	threads := (n + int(l.vec) - 1) / int(l.vec)
	if f.Reduces {
		kind := uint32(1)
		if f.Reduce == SumSq {
			kind = 2
		}
		modes |= kind << fusedReduceBit
		threads = f.outLen(out) / int(l.vec)
	}
	imms, immAt := f.immediates()
	modes |= uint32(len(imms)) << fusedImmBit
	spec = append(spec, v.Local, 1, 1, uint32(nin), uint32(len(l.dims)), uint32(len(f.Code)), l.vec, modes)
	for k, in := range f.Code {
		var op uint32
		switch in.Kind {
		case FusedUnary:
			op = 3*uint32(in.Unary) + uint32(in.Order)
		case FusedBinary:
			op = fusedBinary + uint32(in.Binary)
		case FusedScalar:
			op = fusedScalarR + uint32(in.Binary)
			if in.Left {
				op = fusedScalarL + uint32(in.Binary)
			}
		}
		word := op | reg(in.A)<<6 | uint32(immAt[k])<<16
		if in.Kind == FusedBinary || (in.Kind == FusedUnary && in.Scaled) {
			word |= reg(in.B) << 11
		}
		if in.Kind == FusedUnary && in.Scaled {
			word |= 1 << 19
		}
		spec = append(spec, word)
	}
	for len(spec) < 8+MaxFusedCode {
		spec = append(spec, 0)
	}
	push := make([]uint32, fusedPushWords)
	push[0] = uint32(n)
	for j, s := range imms {
		push[1+j] = math.Float32bits(s)
	}
	dimsAt := 1 + len(imms)
	for d, s := range l.dims {
		push[dimsAt+d] = uint32(s)
	}
	if f.Reduces {
		scale := float32(1)
		if f.Reduce == Mean {
			scale = float32(1 / float64(out[0])) // as RecordReduce scales a mean
		}
		push[fusedRowsAt], push[fusedScaleAt] = uint32(out[0]), math.Float32bits(scale)
	}
	at := dimsAt + len(l.dims)
	for k, st := range l.strides {
		if l.modes[k] < fusedGather {
			continue
		}
		for _, s := range st {
			push[at] = uint32(s)
			at++
		}
	}
	binds := make([]gpu.Access, MaxFusedInputs+1)
	bufs := make([]*gpu.Buffer, MaxFusedInputs+1)
	for k := range MaxFusedInputs {
		binds[k] = gpu.Read
		bufs[k] = ins[0] // unused bindings repeat input 0
		if k < nin {
			bufs[k] = ins[k]
		}
	}
	binds[MaxFusedInputs], bufs[MaxFusedInputs] = gpu.Write, y
	// The inputs read as vec4 may be read as texels.
	slots, vec4 := make([]int, MaxFusedInputs), make([]bool, MaxFusedInputs)
	for k := range MaxFusedInputs {
		slots[k] = k
		vec4[k] = k < nin && (l.modes[k] == fusedRowVec || (l.modes[k] == fusedContig && l.vec == 4))
	}
	shader, binds, bufs, tex := withTexels(v.Texels, "fused", binds, bufs, slots, vec4)
	if tex != 0 {
		spec = append(spec, tex)
	}
	k, err := v.kernel(shader, binds, 4*fusedPushWords, spec...)
	if err != nil {
		return err
	}
	p := gpu.Push{}
	for _, w := range push {
		p = p.U32(w)
	}
	r.Dispatch(k, v.Device.Grid(k, threads), p, bufs...)
	return nil
}

// Fused implements FusedBackend.
func (v *Vulkan) Fused(f Fused, out Shape, ins [][]float32) ([]float32, error) {
	lens := make([]int, len(ins))
	for k, x := range ins {
		lens[k] = len(x)
	}
	if err := f.checkInputs(out, lens); err != nil {
		return nil, err
	}
	return v.exec1(ins, f.outLen(out), func(r *gpu.Recorder, in []*gpu.Buffer, y *gpu.Buffer) error {
		return v.RecordFused(r, f, out, in, y)
	})
}
