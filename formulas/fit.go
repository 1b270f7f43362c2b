package formulas

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/noether-vk/noether-vk/kernels"
)

// FitDataOptions choose the sequences of a FitData.
type FitDataOptions struct {
	// Stride keeps every Stride-th state of a trajectory, from its first
	// (0 or 1: all). Fewer points per sequence make each fit cheaper; a
	// conserved quantity stays conserved along the thinned sequence.
	Stride int
	// MaxLen cuts sequences longer than MaxLen states (after thinning)
	// into consecutive pieces of at most MaxLen, as equal as possible
	// (0: no cutting). The real pendulum's segments reach 293 states.
	MaxLen int
	// MaxSeqs keeps at most this many sequences, spread evenly over the
	// trajectories (0: all).
	MaxSeqs int
	// Seed draws the permutation of the random sequences.
	Seed uint64
}

// DefaultFitDataOptions are the data FitBatch's defaults were chosen
// with: every third state of each training trajectory (15 of the ideal
// pendulum's 45, which still cover its orbits, at a third of the cost),
// sequences cut into pieces of at most 32 states after thinning (only the
// real pendulum's segments, up to 293 states, are that long), and seed 0.
func DefaultFitDataOptions() FitDataOptions {
	return FitDataOptions{Stride: 3, MaxLen: 32}
}

// FitData are the sequences formulas are fitted on (see
// kernels.FormulaFitRequest): true sequences, pieces of the training
// trajectories, and as many random ones of the same lengths, holding the
// same states in a seeded random permutation across all sequences.
type FitData struct {
	// Points holds the states (q, p), the true sequences' first, then the
	// random ones'.
	Points []float32
	// True and Random are the sequences' offsets into Points, in states.
	True, Random []uint32
}

// NewFitData builds FitData from trajectories of states (q, p), each in
// time order; name names them in errors. Pieces of fewer than 2 states,
// which have no variance, are left out.
func NewFitData(name string, trajectories [][][2]float64, o FitDataOptions) (*FitData, error) {
	if o.Stride < 0 || o.MaxLen < 0 || o.MaxSeqs < 0 {
		return nil, fmt.Errorf("formulas: NewFitData %s: bad options %+v", name, o)
	}
	stride := max(o.Stride, 1)
	var seqs [][][2]float64
	for _, states := range trajectories {
		var thin [][2]float64
		for j := 0; j < len(states); j += stride {
			thin = append(thin, states[j])
		}
		pieces := 1
		if o.MaxLen > 0 {
			pieces = (len(thin) + o.MaxLen - 1) / o.MaxLen
		}
		for k := range pieces {
			if s := thin[k*len(thin)/pieces : (k+1)*len(thin)/pieces]; len(s) >= 2 {
				seqs = append(seqs, s)
			}
		}
	}
	if o.MaxSeqs > 0 && len(seqs) > o.MaxSeqs {
		kept := make([][][2]float64, o.MaxSeqs)
		for i := range kept {
			kept[i] = seqs[i*len(seqs)/o.MaxSeqs]
		}
		seqs = kept
	}
	if len(seqs) == 0 {
		return nil, fmt.Errorf("formulas: NewFitData %s: no sequence of 2 or more states", name)
	}
	fd := &FitData{True: []uint32{0}}
	var all [][2]float64
	for _, s := range seqs {
		all = append(all, s...)
		fd.True = append(fd.True, uint32(len(all)))
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x66697464617461))
	perm := rng.Perm(len(all))
	for _, x := range all {
		fd.Points = append(fd.Points, float32(x[0]), float32(x[1]))
	}
	for _, j := range perm {
		fd.Points = append(fd.Points, float32(all[j][0]), float32(all[j][1]))
	}
	for _, off := range fd.True {
		fd.Random = append(fd.Random, off+uint32(len(all)))
	}
	return fd, nil
}

// FitOptions tune FitBatch; the zero value takes DefaultFitOptions' field
// by field.
type FitOptions struct {
	// Steps, LR and Polish are kernels.FormulaFitRequest's: Adam steps,
	// its peak learning rate, then Newton steps.
	Steps  int
	LR     float32
	Polish int
	// Inits are the starting values: each formula with parameters is
	// fitted once per entry, start j giving its k-th parameter (in
	// Compile's order) Inits[(j+k) % len(Inits)], so that starts mix
	// signs and sizes; the start with the lowest score is kept.
	Inits []float64
	// Progress, when set, is called as candidates finish (each formula
	// with parameters counts len(Inits) candidates).
	Progress func(done, total int)
}

// DefaultFitOptions are FitBatch's defaults, chosen with
// BenchmarkFitFormulas on lavapipe (2 cores) with DefaultFitDataOptions:
// 20 Adam steps at a peak rate of 0.2 reach the basin from starts 1, -1
// and 3 (mixed across parameters, see Inits), and 6 Newton steps then fit
// the pendulum's c in p^2 - c*cos(q) to float32 accuracy on noise-free
// states; 40,000 random formulas of 7 to 16 instructions take about 2
// minutes.
func DefaultFitOptions() FitOptions {
	return FitOptions{Steps: 20, LR: 0.2, Polish: 6, Inits: []float64{1, -1, 3}}
}

// FitResult is one formula's best fit.
type FitResult struct {
	// Params maps each parameter name to its fitted value.
	Params map[string]float64
	// Score is R = W_true / W_rand at Params (see
	// kernels.FormulaFitRequest), +Inf when no start gave a finite one
	// (a division by zero, say, or a constant formula).
	Score float64
}

// FitBatch fits every formula on data with v (see
// kernels.FormulaFitRequest), several starts each (opt.Inits), and returns
// one result per formula, in order. Every formula must compile (see
// Compile); the error names the first that does not.
func FitBatch(v *kernels.Vulkan, exprs []*Expr, data *FitData, opt FitOptions) ([]FitResult, error) {
	def := DefaultFitOptions()
	if opt.Steps == 0 {
		opt.Steps = def.Steps
	}
	if opt.LR == 0 {
		opt.LR = def.LR
	}
	if opt.Polish == 0 {
		opt.Polish = def.Polish
	}
	if len(opt.Inits) == 0 {
		opt.Inits = def.Inits
	}
	req := kernels.FormulaFitRequest{Points: data.Points, True: data.True, Random: data.Random,
		Steps: opt.Steps, LR: opt.LR, Polish: opt.Polish, Progress: opt.Progress}
	names := make([][]string, len(exprs))
	first := make([]int, len(exprs)) // each formula's first candidate
	for i, e := range exprs {
		code, consts, params, err := Compile(e)
		if err != nil {
			return nil, fmt.Errorf("formulas: FitBatch: formula %d: %w", i, err)
		}
		names[i], first[i] = params, len(req.NParams)
		starts := opt.Inits
		if len(params) == 0 {
			starts = starts[:1]
		}
		for j := range starts {
			req.Code = append(req.Code, code...)
			var cs [kernels.FormulaMaxConsts]float32
			copy(cs[:], consts)
			req.Consts = append(req.Consts, cs[:]...)
			for k := range kernels.FormulaMaxParams {
				req.Init = append(req.Init, float32(opt.Inits[(j+k)%len(opt.Inits)]))
			}
			req.NParams = append(req.NParams, uint8(len(params)))
		}
	}
	res, err := v.FitFormulas(context.Background(), req)
	if err != nil {
		return nil, fmt.Errorf("formulas: FitBatch: %w", err)
	}
	out := make([]FitResult, len(exprs))
	for i := range exprs {
		end := len(req.NParams)
		if i+1 < len(exprs) {
			end = first[i+1]
		}
		best := first[i]
		for c := first[i] + 1; c < end; c++ {
			if res.Score[c] < res.Score[best] {
				best = c
			}
		}
		out[i] = FitResult{Params: map[string]float64{}, Score: float64(res.Score[best])}
		for j, name := range names[i] {
			out[i].Params[name] = float64(res.Params[best*kernels.FormulaMaxParams+j])
		}
	}
	return out, nil
}
