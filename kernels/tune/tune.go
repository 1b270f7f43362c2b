package tune

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
)

// Options size a tuning run; zero fields take the defaults.
type Options struct {
	// Rounds is how many times every candidate runs, interleaved (all
	// candidates once, then again...): 5. Rounds stop after 3 once a
	// product has used Budget.
	Rounds int
	Budget time.Duration // 3 s
	// Confirm is the interleaved runs of the default and the fastest
	// candidate that decide between them: 7 each.
	Confirm int
	// Margin is the fraction of the default's median time the fastest
	// candidate must save to replace it: 0.03. The margin keeps the
	// default where the difference is within the timing noise.
	Margin float64
	// Progress, when set, is called before each product or conv pass,
	// with what names it.
	Progress func(i, n int, what string)
	// Done, when set, is called with each product's result as it is
	// decided, so that a caller can save it before the next: a tuning run
	// stopped part-way keeps what it finished.
	Done func(Result)
}

func (o Options) withDefaults() Options {
	if o.Rounds <= 0 {
		o.Rounds = 5
	}
	if o.Budget <= 0 {
		o.Budget = 3 * time.Second
	}
	if o.Confirm <= 0 {
		o.Confirm = 7
	}
	if o.Margin <= 0 {
		o.Margin = 0.03
	}
	return o
}

// Result is the tuning of one product.
type Result struct {
	Key    string
	Params kernels.MatMulParams
	Choice Choice
	// Candidates is how many variants were timed; Rejected names those
	// that could not run or gave bits other than the default's.
	Candidates int
	Rejected   []string
	// Err is why the product could not be tuned (then Choice is empty).
	Err error
}

// Run tunes every product on v: each candidate of
// v.MatMulCandidates is recorded, run once and compared bit for bit with
// the default, then the candidates are timed interleaved (GPU timestamps),
// and the fastest replaces the default only when it is faster by Margin
// in a final interleaved comparison of the two. v.Tuning is not used and
// left as it was.
func Run(v *kernels.Vulkan, products []kernels.MatMulParams, o Options) []Result {
	o = o.withDefaults()
	out := make([]Result, len(products))
	for i, p := range products {
		if o.Progress != nil {
			o.Progress(i, len(products), "matmul "+p.String())
		}
		out[i] = tuneOne(v, p, o)
		if o.Done != nil {
			o.Done(out[i])
		}
	}
	return out
}

// candidate is one variant recorded into a program of its own (with
// the scratch memory a conv form needs).
type candidate struct {
	variant kernels.MatMulVariant
	prog    *gpu.Program
	scratch *gpu.Buffer
	ms      []float64
}

// close frees the candidate's program and scratch.
func (cd *candidate) close() {
	if cd.prog != nil {
		cd.prog.Close()
	}
	if cd.scratch != nil {
		cd.scratch.Free()
	}
}

// randomBuffers allocates buffers of the lengths given, filled with
// values uniform in [-1, 1); those allocated before an error are returned
// with it, for freeAll.
func randomBuffers(d *gpu.Device, rng *rand.Rand, lens ...int) ([]*gpu.Buffer, error) {
	var bufs []*gpu.Buffer
	for _, n := range lens {
		b, err := d.Alloc(int64(4 * n))
		if err != nil {
			return bufs, err
		}
		bufs = append(bufs, b)
		x := make([]float32, n)
		for i := range x {
			x[i] = 2*rng.Float32() - 1
		}
		if err := b.WriteFloat32(0, x); err != nil {
			return bufs, err
		}
	}
	return bufs, nil
}

func freeAll(bufs []*gpu.Buffer) {
	for _, b := range bufs {
		b.Free()
	}
}

func tuneOne(v *kernels.Vulkan, p kernels.MatMulParams, o Options) Result {
	res := Result{Key: p.TuneKey(), Params: p}
	fail := func(err error) Result {
		res.Err = fmt.Errorf("tune: matmul %s: %w", p, err)
		return res
	}
	rng := rand.New(rand.NewPCG(uint64(p.M), uint64(p.N)<<32|uint64(p.K)))
	bufs, err := randomBuffers(v.Device, rng, p.ALen(), p.BLen(), p.CLen())
	defer freeAll(bufs)
	if err != nil {
		return fail(err)
	}
	a, b, c := bufs[0], bufs[1], bufs[2]
	var cands []*candidate
	defer func() {
		for _, cd := range cands {
			cd.close()
		}
	}()
	var want []float32
	for i, mv := range v.MatMulCandidates(p) {
		prog, bits, err := runVariant(v, mv, p, a, b, c)
		if err == nil && i > 0 && !slices.EqualFunc(bits, want, sameBits) {
			prog.Close()
			err = fmt.Errorf("its result differs from the default's in some bits")
		}
		if err != nil {
			if i == 0 {
				return fail(fmt.Errorf("the default variant: %w", err))
			}
			res.Rejected = append(res.Rejected, fmt.Sprintf("%v: %v", mv, err))
			continue
		}
		if i == 0 {
			want = bits
		}
		cands = append(cands, &candidate{variant: mv, prog: prog})
	}
	res.Candidates = len(cands)
	bi, err := timeCandidates(cands, o)
	if err != nil {
		return fail(err)
	}
	def, best := cands[0], cands[bi]
	res.Choice = Choice{Shape: p.String(), Variant: def.variant, Default: true}
	if best == def {
		res.Choice.DefaultMs, res.Choice.TunedMs = median(def.ms), median(def.ms)
		return res
	}
	if res.Choice.DefaultMs, res.Choice.TunedMs, err = confirm(def, best, o); err != nil {
		return fail(err)
	}
	if res.Choice.TunedMs < (1-o.Margin)*res.Choice.DefaultMs {
		res.Choice.Variant, res.Choice.Default = best.variant, false
	} else {
		res.Choice.TunedMs = res.Choice.DefaultMs
	}
	return res
}

// runVariant records p with mv into a profiled program, runs it once
// (which compiles its pipeline) and returns the program and C's bits.
func runVariant(v *kernels.Vulkan, mv kernels.MatMulVariant, p kernels.MatMulParams, a, b, c *gpu.Buffer) (*gpu.Program, []float32, error) {
	r := v.Device.NewRecorder().Profile()
	if err := v.RecordMatMulVariant(r, mv, p, a, b, nil, c); err != nil {
		return nil, nil, err
	}
	prog, err := r.Finish()
	if err != nil {
		return nil, nil, err
	}
	got := make([]float32, p.CLen())
	if err := prog.Run(); err == nil {
		err = c.ReadFloat32(0, got)
	}
	if err != nil {
		prog.Close()
		return nil, nil, err
	}
	return prog, got, nil
}

func sameBits(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) }

// timeRun runs cd once and adds its GPU time (its wall time on a queue
// without timestamps).
func timeRun(cd *candidate) error {
	t0 := time.Now()
	if err := cd.prog.Run(); err != nil {
		return err
	}
	total := time.Since(t0)
	if g, err := cd.prog.GPUTime(); err == nil {
		total = g
	}
	cd.ms = append(cd.ms, float64(total.Nanoseconds())/1e6)
	return nil
}

func median(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := slices.Clone(x)
	slices.Sort(s)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}
