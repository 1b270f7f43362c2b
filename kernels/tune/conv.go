package tune

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
)

// ConvChoice is the form kept for one conv pass, with the timings that
// chose it (GPU milliseconds, medians of the final interleaved runs).
type ConvChoice struct {
	Shape     string           `json:"shape"`
	Form      kernels.ConvPath `json:"form"`
	Default   bool             `json:"default"`
	DefaultMs float64          `json:"default_ms"`
	TunedMs   float64          `json:"tuned_ms"`
}

// ConvResult is the tuning of one conv pass.
type ConvResult struct {
	Key    string
	Prim   kernels.ConvPrim
	Choice ConvChoice
	// Candidates is how many forms were timed; Rejected names those that
	// could not run or whose result strayed from the default's.
	Candidates int
	Rejected   []string
	Err        error
}

// convTol bounds how far another form's result may stray from the
// default's, relative to the result's largest magnitude: the forms add
// the same products in different orders, which moves float32 sums by a
// few units in the last place of the largest terms, far below this.
const convTol = 1e-4

// RunConvs tunes the conv passes on v as Run tunes products: each form of
// v.ConvForms is recorded and run once, checked against the default
// form's result (within convTol of its largest magnitude: the forms
// round differently), the forms are timed interleaved, and the fastest
// replaces the default only when it is faster by Margin in a final
// interleaved comparison of the two. The Done option is not called
// (its argument is a matmul Result); v is left as it was.
func RunConvs(v *kernels.Vulkan, prims []kernels.ConvPrim, o Options, done func(ConvResult)) []ConvResult {
	o = o.withDefaults()
	out := make([]ConvResult, len(prims))
	for i, c := range prims {
		if o.Progress != nil {
			o.Progress(i, len(prims), c.TuneKey())
		}
		out[i] = tuneConv(v, c, o)
		if done != nil {
			done(out[i])
		}
	}
	return out
}

// convBufs are a conv pass's operands: two inputs, the output, scratch.
type convBufs struct {
	in   [2]*gpu.Buffer
	out  *gpu.Buffer
	outN int
}

func tuneConv(v *kernels.Vulkan, c kernels.ConvPrim, o Options) ConvResult {
	res := ConvResult{Key: c.TuneKey(), Prim: c}
	fail := func(err error) ConvResult {
		res.Err = fmt.Errorf("tune: conv2d %s: %w", res.Key, err)
		return res
	}
	forms, err := v.ConvForms(c)
	if err != nil {
		return fail(err)
	}
	p := c.Params
	lens := map[kernels.ConvPass][3]int{ // inputs, output
		kernels.ConvPassForward:    {p.InLen(), p.WeightLen(), p.OutLen(false)},
		kernels.ConvPassInputGrad:  {p.WeightLen(), p.OutLen(false), p.InLen()},
		kernels.ConvPassWeightGrad: {p.InLen(), p.OutLen(false), p.WeightLen()},
	}[c.Pass]
	rng := rand.New(rand.NewPCG(uint64(p.C), uint64(p.K)<<32|uint64(p.H)))
	bufs, err := randomBuffers(v.Device, rng, lens[:]...)
	defer freeAll(bufs)
	if err != nil {
		return fail(err)
	}
	cb := convBufs{in: [2]*gpu.Buffer{bufs[0], bufs[1]}, out: bufs[2], outN: lens[2]}
	var cands []*candidate
	var forms2 []kernels.ConvPath
	defer func() {
		for _, cd := range cands {
			cd.close()
		}
	}()
	var want []float32
	for i, f := range forms {
		cd := &candidate{}
		got, err := runForm(v, f, c, cb, cd)
		if err == nil && i > 0 {
			if d := maxRelDiff(got, want); !(d <= convTol) {
				err = fmt.Errorf("its result differs from the default's by %.3g of its largest magnitude", d)
			}
		}
		if err != nil {
			cd.close()
			if i == 0 {
				return fail(fmt.Errorf("the default form (%v): %w", f, err))
			}
			res.Rejected = append(res.Rejected, fmt.Sprintf("%v: %v", f, err))
			continue
		}
		if i == 0 {
			want = got
		}
		cands = append(cands, cd)
		forms2 = append(forms2, f)
	}
	res.Candidates = len(cands)
	best, err := timeCandidates(cands, o)
	if err != nil {
		return fail(err)
	}
	res.Choice = ConvChoice{Shape: res.Key, Form: forms2[0], Default: true, DefaultMs: median(cands[0].ms), TunedMs: median(cands[0].ms)}
	if best == 0 {
		return res
	}
	dms, tms, err := confirm(cands[0], cands[best], o)
	if err != nil {
		return fail(err)
	}
	res.Choice.DefaultMs, res.Choice.TunedMs = dms, dms
	if tms < (1-o.Margin)*dms {
		res.Choice.Form, res.Choice.Default, res.Choice.TunedMs = forms2[best], false, tms
	}
	return res
}

// runForm records c in form f into cd's profiled program (with its
// scratch, which cd.close frees), runs it once and returns the output.
func runForm(v *kernels.Vulkan, f kernels.ConvPath, c kernels.ConvPrim, b convBufs, cd *candidate) ([]float32, error) {
	w := *v
	w.Conv, w.Tuning = f, nil
	n, err := w.ConvScratch(c.Params, false, c.Pass)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		if cd.scratch, err = v.Device.Alloc(int64(4 * n)); err != nil {
			return nil, err
		}
	}
	r := v.Device.NewRecorder().Profile()
	p, x0, x1 := c.Params, b.in[0], b.in[1]
	switch c.Pass {
	case kernels.ConvPassForward:
		err = w.RecordConv2D(r, p, x0, x1, nil, b.out, cd.scratch)
	case kernels.ConvPassInputGrad:
		err = w.RecordConv2DInputGrad(r, p, x0, x1, b.out, cd.scratch)
	default:
		err = w.RecordConv2DWeightGrad(r, p, x0, x1, b.out, cd.scratch)
	}
	if err != nil {
		return nil, err
	}
	if cd.prog, err = r.Finish(); err != nil {
		return nil, err
	}
	got := make([]float32, b.outN)
	if err := cd.prog.Run(); err != nil {
		return nil, err
	}
	return got, b.out.ReadFloat32(0, got)
}

// maxRelDiff is the largest |got - want| over want's largest magnitude
// (NaN when either holds a NaN).
func maxRelDiff(got, want []float32) float64 {
	var d, m float64
	for i := range want {
		d = max(d, math.Abs(float64(got[i])-float64(want[i])))
		m = max(m, math.Abs(float64(want[i])))
		if got[i] != got[i] || want[i] != want[i] {
			return math.NaN()
		}
	}
	return d / max(m, math.SmallestNonzeroFloat32)
}

// timeCandidates times the candidates interleaved (o.Rounds, cut to 3
// once o.Budget is spent) and returns the index of the fastest median.
func timeCandidates(cands []*candidate, o Options) (int, error) {
	start := time.Now()
	for round := 0; round < o.Rounds && (round < 3 || time.Since(start) < o.Budget); round++ {
		for _, cd := range cands {
			if err := timeRun(cd); err != nil {
				return 0, err
			}
		}
	}
	best := 0
	for i, cd := range cands {
		if median(cd.ms) < median(cands[best].ms) {
			best = i
		}
	}
	return best, nil
}

// confirm times def and best afresh, interleaved, o.Confirm runs each,
// and returns their medians: the decision rests on these alone.
func confirm(def, best *candidate, o Options) (defMs, bestMs float64, err error) {
	def.ms, best.ms = nil, nil
	for range o.Confirm {
		for _, cd := range []*candidate{def, best} {
			if err := timeRun(cd); err != nil {
				return 0, 0, err
			}
		}
	}
	return median(def.ms), median(best.ms), nil
}
