package kernels

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/noether-vk/noether-vk/gpu"
)

// formulaFitLocal is the workgroup size of formula_fit: threads take whole
// sequences, so it should not exceed their number by much. A CPU device
// runs a workgroup on one core as SIMD lanes, and barriers cost most
// there, so it gets one subgroup's worth (the vector width); GPUs get a
// warp.
func (v *Vulkan) formulaFitLocal() uint32 {
	if v.Device.Info.Type == gpu.TypeCPU {
		return max(v.Device.Info.SubgroupSize, 4)
	}
	return 32
}

// lavapipeLoopLimit is how many loop iterations llvmpipe (Mesa's CPU
// driver) lets one shader invocation run: every loop of the shader counts
// down one shared limiter, and once it is spent every loop exits after its
// current iteration, silently, leaving wrong results. Mesa 22.3 sets it to
// 65535 (LP_MAX_TGSI_LOOP_ITERATIONS); formula_fit stays under it with a
// margin by splitting the Adam loop into several dispatches on CPU devices.
const lavapipeLoopLimit = 65535

// formulaShape is what selects a formula_fit pipeline: the parameter
// count, whether the code divides or takes sines and cosines, and the
// stack depth it needs (4, 8 or 16). The interpreter runs every branch
// under masks on CPU devices and shifts every stack register at every
// instruction, so leaving out unused operations and registers pays.
type formulaShape struct {
	np        uint8
	trig, div bool
	depth     uint8
}

func shapeOf(code []uint32, np uint8) formulaShape {
	s := formulaShape{np: np, depth: 4}
	depth := 0
	for _, ins := range code {
		op, _ := decode(ins)
		switch {
		case op == OpEnd:
			return s
		case op <= OpConst:
			depth++
			for int(s.depth) < depth {
				s.depth *= 2
			}
		case op <= OpDiv:
			depth--
		}
		switch op {
		case OpSin, OpCos:
			s.trig = true
		case OpDiv:
			s.div = true
		}
	}
	return s
}

func (s formulaShape) less(t formulaShape) bool {
	switch {
	case s.np != t.np:
		return s.np < t.np
	case s.depth != t.depth:
		return s.depth < t.depth
	case s.trig != t.trig:
		return !s.trig
	}
	return !s.div && t.div
}

// stepsPerDispatch is how many iterations of the fitting loop one dispatch
// may run: all of them on a GPU; on a CPU device as many as fit the loop
// limit, counting every loop iteration a SIMD group of invocations runs
// per step (the sequence rounds, the passes over 4 points at a time, the
// interpreter over plen instructions, the workgroup's reduction) with one
// more per loop for its exit test.
func (v *Vulkan) stepsPerDispatch(req *FormulaFitRequest, plen int) (int, error) {
	if v.Device.Info.Type != gpu.TypeCPU {
		return req.Steps + req.Polish + 1, nil
	}
	local := int(v.formulaFitLocal())
	longest := 0
	for _, offs := range [][]uint32{req.True, req.Random} {
		for j := 1; j < len(offs); j++ {
			longest = max(longest, int(offs[j]-offs[j-1]))
		}
	}
	rounds := (len(req.True) + len(req.Random) - 2 + local - 1) / local
	perStep := rounds + 1 + rounds*2*((longest+3)/4+1)*(plen+2) + local + 2
	// Half the limit: the count is an estimate (a dispatch that used 1.25
	// times this estimate's budget went over the limit in TestFitFormulas, so
	// the estimate is close), and extra dispatches cost little.
	const budget = lavapipeLoopLimit / 2
	if perStep > budget {
		return 0, fmt.Errorf("kernels: FitFormulas: one step runs about %d loop iterations per invocation, over the %d a dispatch may run on a CPU device (half llvmpipe's limit): use fewer or shorter sequences (%d sequences, the longest of %d points)",
			perStep, budget, len(req.True)+len(req.Random)-2, longest)
	}
	return budget / perStep, nil
}

// FitFormulas implements FormulaFitBackend: one workgroup per candidate
// (shaders/formula_fit.comp). Candidates are grouped by formulaShape, each
// group running a pipeline specialised to it, and dispatched in chunks of
// req.Chunk, one submission each.
func (v *Vulkan) FitFormulas(ctx context.Context, req FormulaFitRequest) (FormulaFitResult, error) {
	k, err := req.check()
	if err != nil {
		return FormulaFitResult{}, err
	}
	// order lists the candidates by shape, so each pipeline takes a
	// contiguous range of the reordered buffers.
	shapes := make([]formulaShape, k)
	plens := make([]int, k)
	order := make([]int, k)
	for i := range order {
		order[i] = i
		prog := req.Code[i*FormulaCodeLen : (i+1)*FormulaCodeLen]
		shapes[i] = shapeOf(prog, req.NParams[i])
		for plens[i] < FormulaCodeLen && prog[plens[i]] != 0 {
			plens[i]++
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return shapes[order[a]].less(shapes[order[b]]) })
	code := make([]byte, 0, 4*len(req.Code))
	consts := make([]float32, 0, len(req.Consts))
	init := make([]float32, 0, len(req.Init))
	for _, i := range order {
		for _, w := range req.Code[i*FormulaCodeLen : (i+1)*FormulaCodeLen] {
			code = binary.LittleEndian.AppendUint32(code, w)
		}
		consts = append(consts, req.Consts[i*FormulaMaxConsts:(i+1)*FormulaMaxConsts]...)
		init = append(init, req.Init[i*FormulaMaxParams:(i+1)*FormulaMaxParams]...)
	}
	offs := make([]byte, 0, 4*(len(req.True)+len(req.Random)))
	for _, o := range append(append([]uint32(nil), req.True...), req.Random...) {
		offs = binary.LittleEndian.AppendUint32(offs, o)
	}

	// The inputs, then the state and the two outputs (Alloc zero-fills).
	data := [][]byte{code, gpu.Float32Bytes(consts), gpu.Float32Bytes(init), gpu.Float32Bytes(req.Points), offs, nil, nil, nil}
	sizes := []int{len(code), 4 * len(consts), 4 * len(init), 4 * len(req.Points), len(offs), 4 * formulaStateSize * k, 4 * len(init), 4 * k}
	var bind [8]*gpu.Buffer // in the shader's binding order
	defer func() {
		for _, b := range bind {
			if b != nil {
				b.Free()
			}
		}
	}()
	for j, n := range sizes {
		if uint64(n) > v.Device.Info.MaxStorageBufferRange {
			return FormulaFitResult{}, fmt.Errorf("kernels: FitFormulas: binding %d would hold %d bytes, over the device's limit of %d: split the request", j, n, v.Device.Info.MaxStorageBufferRange)
		}
		if bind[j], err = v.Device.Alloc(int64(n)); err != nil {
			return FormulaFitResult{}, fmt.Errorf("kernels: FitFormulas: %w", err)
		}
		if data[j] != nil {
			if err := bind[j].Write(0, data[j]); err != nil {
				return FormulaFitResult{}, fmt.Errorf("kernels: FitFormulas: %w", err)
			}
		}
	}

	chunk := min(req.chunk(), int(v.Device.Info.MaxWorkgroupCount[0]))
	for first := 0; first < k; {
		shape, plen := shapes[order[first]], 0
		end := first
		for end < k && end-first < chunk && shapes[order[end]] == shape {
			plen = max(plen, plens[order[end]])
			end++
		}
		if err := ctx.Err(); err != nil {
			return FormulaFitResult{}, fmt.Errorf("kernels: FitFormulas: %w", err)
		}
		if err := v.runFormulaChunk(&req, shape, plen, first, end-first, bind); err != nil {
			return FormulaFitResult{}, err
		}
		first = end
		if req.Progress != nil {
			req.Progress(first, k)
		}
	}

	fitOut, scoreOut := make([]float32, len(init)), make([]float32, k)
	if err := bind[6].ReadFloat32(0, fitOut); err != nil {
		return FormulaFitResult{}, fmt.Errorf("kernels: FitFormulas: %w", err)
	}
	if err := bind[7].ReadFloat32(0, scoreOut); err != nil {
		return FormulaFitResult{}, fmt.Errorf("kernels: FitFormulas: %w", err)
	}
	res := FormulaFitResult{Params: make([]float32, len(init)), Score: make([]float32, k)}
	for j, i := range order {
		copy(res.Params[i*FormulaMaxParams:(i+1)*FormulaMaxParams], fitOut[j*FormulaMaxParams:(j+1)*FormulaMaxParams])
		res.Score[i] = scoreOut[j]
	}
	return res, nil
}

// formulaStateSize is the floats of state a candidate carries between the
// dispatches of its Adam loop (ST_SIZE in the shader).
const formulaStateSize = 25

// runFormulaChunk fits the n reordered candidates from first, all of one
// shape and at most plen instructions long, in one submission of as many
// dispatches as the loop limit asks for.
func (v *Vulkan) runFormulaChunk(req *FormulaFitRequest, shape formulaShape, plen, first, n int, bind [8]*gpu.Buffer) error {
	binds := []gpu.Access{gpu.Read, gpu.Read, gpu.Read, gpu.Read, gpu.Read, gpu.ReadWrite, gpu.Write, gpu.Write}
	kern, err := v.kernel("formula_fit", binds, 44, v.formulaFitLocal(), 1, 1, uint32(shape.np), specBool(shape.trig), specBool(shape.div), uint32(shape.depth))
	if err != nil {
		return fmt.Errorf("kernels: FitFormulas: %w", err)
	}
	steps, polish := req.Steps, req.Polish
	if shape.np == 0 {
		steps, polish = 0, 0
	}
	per, err := v.stepsPerDispatch(req, plen)
	if err != nil {
		return err
	}
	r := v.Device.NewRecorder()
	for from := 0; from <= steps+polish; from += per {
		push := gpu.Push{}.U32(uint32(first)).U32(uint32(len(req.True) - 1)).U32(uint32(len(req.Random) - 1)).
			U32(uint32(steps)).U32(uint32(polish)).U32(uint32(from)).U32(uint32(min(from+per, steps+polish+1))).
			F32(req.LR).F32(FormulaFitBeta1).F32(FormulaFitBeta2).F32(FormulaFitEps)
		r.Dispatch(kern, [3]uint32{uint32(n), 1, 1}, push, bind[:]...)
	}
	p, err := r.Finish()
	if err != nil {
		return fmt.Errorf("kernels: FitFormulas: %w", err)
	}
	defer p.Close()
	if err := p.Run(); err != nil {
		return fmt.Errorf("kernels: FitFormulas: %w", err)
	}
	return nil
}
